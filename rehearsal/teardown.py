"""Everything a run creates, written down before it is created, and its deletion, newest first.

A deleter treats "already gone" as done, so a run stopped between writing it down and creating the thing
still ends clean. `run()` goes on past a failure (and reports it), ignores Ctrl-C while it works, and runs
once. Shared by the rehearsal and the parity suite.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass
class Teardown:
    say: Callable[[str], None] = to_stderr
    _deleters: list[tuple[str, Callable[[], None]]] = field(default_factory=list)
    _done: bool = False

    def will_create(self, what: str, delete: Callable[[], None]) -> None:
        """Write `what` down before creating it; `delete` must accept that it may not exist."""
        self._deleters.append((what, delete))

    @property
    def recorded(self) -> list[str]:
        return [what for what, _ in self._deleters]

    def run(self) -> list[str]:
        """Delete everything written down, newest first; the failures, each a sentence (empty: all gone)."""
        if self._done:
            return []
        self._done = True
        previous = _ignore_interrupts()
        failures: list[str] = []
        try:
            for what, delete in reversed(self._deleters):
                self.say(f"  deleting {what}")
                try:
                    delete()
                except Exception as error:  # every deleter gets its turn; each failure is reported
                    failures.append(f"{what}: {type(error).__name__}: {error}")
        finally:
            _restore_interrupts(previous)
        return failures


def gone_if_missing(call: Callable[[], Any], *missing_codes: str) -> None:
    """Run a delete call; an AWS error saying the thing does not exist counts as deleted."""
    from botocore.exceptions import ClientError

    try:
        call()
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        message = str(error.response.get("Error", {}).get("Message", "")).lower()
        if code in missing_codes or "not found" in message or "does not exist" in message:
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
