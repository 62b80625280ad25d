"""How long one invocation may go on calling AWS and the web app: it always ends before its function's timeout
(API Gateway's 29 s for the API), with room left to record what happened.

A handler runs `within(TICK)` / `within(API)`. Before anything that can block, the
shell asks (`require(seconds)`): an attempt of an AWS call (clients.py: connect + read timeouts), each retry
with its backoff, an HTTP check (observe.py: its timeout). While working, what is asked must fit in the
time left *and* leave the budget's reserve; when it does not, `OutOfTime` is raised. Once the invocation
records its outcome (`record()`: the tick's last save and requeue, a refused rollback's save), or once it
ran out of working time, only what fits in the time left is asked: the reserve is there for that.

    worst case = the budget: every attempt or check starts only when it can end within it.

One deadline per thread (Lambda runs one invocation per container at a time; tests race two ticks on two
threads). Outside `within`, nothing is limited (scripts, tests calling the shell directly).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    """What one kind of invocation may spend: `seconds` in all, of which the last `reserve_s` only to
    record its outcome."""

    name: str
    seconds: float
    reserve_s: float


class OutOfTime(Exception):
    """What was asked no longer fits in the invocation's budget: nothing was sent."""

    def __init__(self, what: str, needed_s: float, left_s: float) -> None:
        super().__init__(f"{what} needs up to {needed_s:.1f} s; {left_s:.1f} s of the invocation are left")
        self.what = what


class Deadline:
    def __init__(self, budget: Budget, clock: Callable[[], float] = time.monotonic) -> None:
        self.budget = budget
        self._clock = clock
        self._ends_at = clock() + budget.seconds
        self.recording = False  # recording the outcome: the reserve may be spent

    def record(self) -> None:
        """From now on the invocation records its outcome: the reserve is for that."""
        self.recording = True

    def left_s(self) -> float:
        return self._ends_at - self._clock()

    def allows(self, seconds: float) -> bool:
        """Whether `seconds` more fit (with the reserve kept, until the invocation is recording)."""
        return self.left_s() >= seconds + (0.0 if self.recording else self.budget.reserve_s)

    def require(self, seconds: float, what: str) -> None:
        """Go on only when `seconds` more fit; else the invocation is recording and OutOfTime is raised."""
        if not self.allows(seconds):
            needed = seconds + (0.0 if self.recording else self.budget.reserve_s)
            self.recording = True
            raise OutOfTime(what, needed, self.left_s())


class _Unlimited(Deadline):
    def __init__(self) -> None:
        super().__init__(Budget("unlimited", float("inf"), 0.0))

    def allows(self, seconds: float) -> bool:
        return True


_local = threading.local()


@contextlib.contextmanager
def within(budget: Budget, clock: Callable[[], float] = time.monotonic) -> Iterator[Deadline]:
    """This thread's invocation runs with `budget` from now until the block ends."""
    started = Deadline(budget, clock)
    _local.deadline = started
    try:
        yield started
    finally:
        _local.deadline = None


def current() -> Deadline:
    found: Deadline | None = getattr(_local, "deadline", None)
    if found is None:
        found = _local.deadline = _Unlimited()
    return found


def require(seconds: float, what: str) -> None:
    current().require(seconds, what)
