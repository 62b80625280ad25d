"""What a target answered, held against a snapshot: a pure function from (expected, observed) to the
differences, each naming the path where it is.

Three ways to match, chosen per snapshot:
- "at-least" (a documented snapshot's default): every key the snapshot names must be there with its value;
  keys the snapshot does not name are allowed (AWS's examples are abbreviated). A list in the snapshot must
  appear in the answer in that order, other items possibly between (AWS's own example event lists skip
  events).
- "exact-keys" (a recording's default): the same keys, no more and no fewer; lists as in "at-least" (an
  account's event stream varies from run to run: health transitions, instance counts).
- "exact": the same keys, and lists of the same items in the same order.

A value `{"$contains": "text"}` matches any text that includes "text": for a message AWS is on record
with only in part.

Paths look like `refused.message`, `events[2].severity`, `update.Tier.Name`; an `unchecked` pattern may use
`[*]` for any index. An unchecked path is neither compared nor required.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

CONTAINS = "$contains"  # {"$contains": "Must be Ready."}: a text that includes this (AWS gives no more)
AT_LEAST = "at-least"
EXACT_KEYS = "exact-keys"
EXACT = "exact"
MATCHES = (AT_LEAST, EXACT_KEYS, EXACT)


@dataclass(frozen=True)
class Rules:
    match: str = AT_LEAST
    unchecked: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.match not in MATCHES:
            raise ValueError(f"match must be one of {', '.join(MATCHES)}, got {self.match!r}")

    @property
    def exact_keys(self) -> bool:
        return self.match in (EXACT_KEYS, EXACT)

    def skips(self, path: str) -> bool:
        return any(_pattern(pattern).fullmatch(path) for pattern in self.unchecked)


def differences(expected: Any, observed: Any, rules: Rules, path: str = "") -> list[str]:
    """Every way `observed` falls short of `expected`; empty when it holds."""
    if path and rules.skips(path):
        return []
    if isinstance(expected, dict) and set(expected) == {CONTAINS}:
        if not isinstance(observed, str) or str(expected[CONTAINS]) not in observed:
            return [
                f"{_shown(path)}: expected text containing {_brief(expected[CONTAINS])}, "
                f"got {_brief(observed)}"
            ]
        return []
    if isinstance(expected, dict):
        if not isinstance(observed, dict):
            return [f"{_shown(path)}: expected an object, got {_brief(observed)}"]
        return _object_differences(expected, observed, rules, path)
    if isinstance(expected, list):
        if not isinstance(observed, list):
            return [f"{_shown(path)}: expected a list, got {_brief(observed)}"]
        if rules.match == EXACT:
            return _list_differences_exact(expected, observed, rules, path)
        return _list_differences_in_order(expected, observed, rules, path)
    if type(expected) is not type(observed) or expected != observed:
        return [f"{_shown(path)}: expected {_brief(expected)}, got {_brief(observed)}"]
    return []


def _object_differences(
    expected: dict[str, Any], observed: dict[str, Any], rules: Rules, path: str
) -> list[str]:
    found: list[str] = []
    for key, value in expected.items():
        where = _join(path, key)
        if rules.skips(where):
            continue
        if key not in observed:
            found.append(f"{where}: missing (expected {_brief(value)})")
            continue
        found.extend(differences(value, observed[key], rules, where))
    if rules.exact_keys:
        for key in sorted(observed.keys() - expected.keys()):
            where = _join(path, key)
            if not rules.skips(where):
                found.append(f"{where}: not in the snapshot (got {_brief(observed[key])})")
    return found


def _list_differences_exact(expected: list[Any], observed: list[Any], rules: Rules, path: str) -> list[str]:
    found = [
        difference
        for index, (want, got) in enumerate(zip(expected, observed, strict=False))
        for difference in differences(want, got, rules, f"{path}[{index}]")
    ]
    if len(expected) != len(observed):
        found.append(f"{_shown(path)}: expected {len(expected)} items, got {len(observed)}")
    return found


def _list_differences_in_order(
    expected: list[Any], observed: list[Any], rules: Rules, path: str
) -> list[str]:
    """Each expected item must match an observed one after the previous match (leftmost first, which
    finds an in-order match whenever there is one)."""
    position = 0
    for index, want in enumerate(expected):
        match = next(
            (
                at
                for at in range(position, len(observed))
                if not differences(want, observed[at], rules, f"{path}[{index}]")
            ),
            None,
        )
        if match is None:
            earlier = [
                at for at in range(position) if not differences(want, observed[at], rules, f"{path}[{index}]")
            ]
            where = f"{path}[{index}]"
            if earlier:
                return [
                    f"{where}: {_brief(want)} came too early (at [{earlier[0]}], before item [{index - 1}])"
                ]
            return [f"{where}: {_brief(want)} not found in order; got {_listing(observed)}"]
        position = match + 1
    return []


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _shown(path: str) -> str:
    return path or "(the whole answer)"


def _brief(value: Any, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _listing(items: Iterable[Any]) -> str:
    return "[" + ", ".join(_brief(item, 100) for item in items) + "]"


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _pattern(pattern: str) -> re.Pattern[str]:
    if pattern not in _PATTERNS:
        _PATTERNS[pattern] = re.compile(re.escape(pattern).replace(r"\[\*\]", r"\[\d+\]"))
    return _PATTERNS[pattern]
