"""Running the stack for as long as a command needs it, and never leaving anything behind.

SIGINT and SIGTERM interrupt whatever is happening (start, the demo, or the wait of `up`); the stack is
stopped in a `finally`, and once more at exit should anything bypass it.
"""

from __future__ import annotations

import atexit
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Protocol, TypeVar

from sandbox.stack import StackError


class Runs(Protocol):
    """What runs until a signal: a `Stack`, or the hosted account of `python -m sandbox host`."""

    def start(self) -> object: ...

    def stop(self) -> None: ...


R = TypeVar("R", bound=Runs)


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived."""


def run_until_signalled(stack: R, body: Callable[[R], int], *, wait: bool) -> int:
    """Start `stack`, run `body`, then (when `wait`) block until a signal; always stop the stack."""
    atexit.register(stack.stop)
    received: list[int] = []
    stopping = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        stopping.set()
        if not stopping_now.is_set():
            raise Interrupted

    stopping_now = threading.Event()
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        stack.start()
        code = body(stack)
        while wait and not stopping.wait(timeout=0.5):
            pass
        return code
    except Interrupted:
        stopping_now.set()
        name = signal.Signals(received[-1]).name if received else "a signal"
        print(f"\nsandbox: {name} received, stopping everything", file=sys.stderr, flush=True)
        return 130 if received and received[-1] == signal.SIGINT else 0
    except StackError as error:
        print(f"sandbox: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        stopping_now.set()
        stack.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        print("sandbox: stopped", file=sys.stderr, flush=True)
