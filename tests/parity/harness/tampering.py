"""Tampering with a copy of a snapshot, to prove the suite would notice: an error message changed, two
events of a sequence swapped. Only what the snapshot checks is tampered (never an unchecked path)."""

from __future__ import annotations

import itertools
from typing import Any

from .comparison import CONTAINS, Rules

TAMPERED = " (tampered)"


def tamper(data: dict[str, Any]) -> list[str]:
    """Change every checked refusal message and swap the first two differing items of every checked
    sequence in `data["content"]`, in place; the paths changed."""
    rules = Rules(data.get("match", "at-least"), tuple(data.get("unchecked", {})))
    changed: list[str] = []
    content = data["content"]
    for key in list(content):
        content[key] = _walk(content[key], key, rules, changed)
    return changed


def _walk(value: Any, path: str, rules: Rules, changed: list[str]) -> Any:
    if rules.skips(path):
        return value
    if isinstance(value, dict):
        if {"code", "message"} <= value.keys() and not rules.skips(f"{path}.message"):
            changed.append(f"{path}.message")
            return {**value, "message": _tampered_text(value["message"])}
        return {key: _walk(item, f"{path}.{key}", rules, changed) for key, item in value.items()}
    if isinstance(value, list):
        swapped = _swap_first_differing(value, path, rules)
        if swapped is not None:
            changed.append(f"{path} (order)")
            return swapped
    return value


def _swap_first_differing(items: list[Any], path: str, rules: Rules) -> list[Any] | None:
    checked = [index for index in range(len(items)) if not rules.skips(f"{path}[{index}]")]
    for first, second in itertools.pairwise(checked):
        if items[first] != items[second]:
            swapped = list(items)
            swapped[first], swapped[second] = swapped[second], swapped[first]
            return swapped
    return None


def _tampered_text(message: Any) -> Any:
    if isinstance(message, dict) and CONTAINS in message:
        return {CONTAINS: str(message[CONTAINS]) + TAMPERED}
    return f"{message}{TAMPERED}"
