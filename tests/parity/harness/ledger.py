"""Everything a run creates, under one unique prefix and tag, and its deletion at the end.

A deleter is written down *before* the create call is made, so a run stopped between the two still
deletes what the call made; each deleter treats "already gone" as done. `cleanup()` deletes newest first,
goes on past a failure (and reports it), ignores Ctrl-C while it works, and runs once.
"""

from __future__ import annotations

import secrets
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TAG_KEY = "deliverypipeline-parity"


def new_prefix(kind: str = "parity") -> str:
    """`pty-` + 6 hex: short enough for every name AWS limits (environment names 4-40, CNAME prefixes)."""
    return f"{kind[:3]}-{secrets.token_hex(3)}"


@dataclass
class Ledger:
    prefix: str
    say: Callable[[str], None] = field(default=lambda line: print(line, file=sys.stderr, flush=True))
    _deleters: list[tuple[str, Callable[[], None]]] = field(default_factory=list)
    _done: bool = False

    @property
    def tag(self) -> dict[str, str]:
        return {"Key": TAG_KEY, "Value": self.prefix}

    @property
    def tags(self) -> list[dict[str, str]]:
        return [self.tag]

    def name(self, suffix: str) -> str:
        return f"{self.prefix}-{suffix}"

    def will_create(self, what: str, delete: Callable[[], None]) -> None:
        """Record `what` before creating it; `delete` must accept that it may not exist."""
        self._deleters.append((what, delete))

    def cleanup(self) -> list[str]:
        """Delete everything recorded, newest first; the failures, each a sentence (empty: all gone)."""
        if self._done:
            return []
        self._done = True
        previous = _ignore_interrupts()
        failures: list[str] = []
        try:
            if self._deleters:
                self.say(f"parity: deleting the {len(self._deleters)} resources of run {self.prefix} ...")
            for what, delete in reversed(self._deleters):
                try:
                    delete()
                except Exception as error:  # every deleter gets its turn; each failure is reported
                    failures.append(f"{what}: {type(error).__name__}: {error}")
            for failure in failures:
                self.say(
                    f"parity: could not delete {failure} - delete it by hand (tag {TAG_KEY}={self.prefix})"
                )
        finally:
            _restore_interrupts(previous)
        return failures


def gone_if_missing(call: Callable[[], Any], *missing_codes: str) -> None:
    """Run a delete call; an AWS error saying the resource does not exist counts as deleted."""
    from botocore.exceptions import ClientError

    try:
        call()
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        message = str(error.response.get("Error", {}).get("Message", ""))
        if code in missing_codes or "not found" in message.lower() or "does not exist" in message.lower():
            return
        raise


def _ignore_interrupts() -> Any:
    try:
        return signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread
        return None


def _restore_interrupts(previous: Any) -> None:
    if previous is not None:
        signal.signal(signal.SIGINT, previous)
