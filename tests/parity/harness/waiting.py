"""Waiting for a target to get somewhere, in the target's pace (seconds on the emulation, minutes on AWS)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitedTooLong(AssertionError):
    pass


def wait_until(
    look: Callable[[], T], done: Callable[[T], bool], what: str, timeout_s: float, every_s: float
) -> T:
    """Call `look` until `done(result)`; the last result, or WaitedTooLong naming `what` and what was seen."""
    deadline = time.monotonic() + timeout_s
    while True:
        seen = look()
        if done(seen):
            return seen
        if time.monotonic() >= deadline:
            raise WaitedTooLong(f"waited {timeout_s:.0f} s for {what}; last seen: {seen!r}")
        time.sleep(every_s)
