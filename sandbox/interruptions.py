"""SIGINT and SIGTERM in the sandbox's commands: they interrupt whatever the main thread is doing, as
`Interrupted`, except inside `shielded()` (starting a process and recording it for the stop), where the
signal waits until the block ends. So nothing the sandbox starts escapes the stop, whenever the signal
comes (issue 23, item 11).

`Interrupted` is a BaseException, like KeyboardInterrupt: an `except Exception` on the way (around a
launcher that reports its own failures as values) never turns it into a failure of that step.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived (`signum` says which)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class _State:
    def __init__(self) -> None:
        self.received: list[int] = []
        self.arrived = threading.Event()
        self.shields = 0  # shielded() blocks the main thread is in
        self.pending: int | None = None  # a signal that arrived inside one, raised when the last ends
        self.raising = False  # raise on a signal (off once the command is stopping anyway)
        self.waiting = False  # the command announced that it waits for a signal (announce_wait)


_state = _State()


def install() -> dict[int, object]:
    """Handle SIGINT and SIGTERM from now on (main thread only); answers the previous handlers."""
    global _state
    _state = _State()
    _state.raising = True
    return {sig: signal.signal(sig, _on_signal) for sig in SIGNALS}


def uninstall(previous: dict[int, object]) -> None:
    _state.raising = False
    for sig, handler in previous.items():
        signal.signal(sig, handler)  # type: ignore[arg-type]


def stopping() -> None:
    """The command is stopping everything now: later signals only wait their turn."""
    _state.raising = False


def announce_wait(announce: Callable[[], object]) -> None:
    """`announce` prints the line that says the command is ready (`up`'s JSON), and the command waits for a
    signal from then on. The two are one step: a signal that arrives once the line is out, even before
    `announce` returned, ends that wait (`waiting()`) instead of interrupting the start."""
    with shielded():
        announce()
        _state.waiting = True


def waiting() -> bool:
    """Whether the command announced its wait (a signal now ends it)."""
    return _state.waiting


def received() -> int | None:
    """The last signal received (None: none)."""
    return _state.received[-1] if _state.received else None


def wait(timeout_s: float) -> bool:
    """Whether a signal arrived within `timeout_s`."""
    return _state.arrived.wait(timeout_s)


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """A signal arriving in the main thread inside this block is raised when the (outermost) block ends."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _state.shields += 1
    try:
        yield
    finally:
        _state.shields -= 1
        pending, _state.pending = _state.pending, None
        if _state.shields == 0 and pending is not None and _state.raising:
            raise Interrupted(pending)
        if _state.shields > 0:
            _state.pending = pending


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    _state.received.append(signum)
    _state.arrived.set()
    if not _state.raising:
        return
    if _state.shields > 0:
        _state.pending = signum
        return
    raise Interrupted(signum)
