"""Running the stack for as long as a command needs it, and never leaving anything behind.

SIGINT and SIGTERM interrupt whatever is happening (the start, the demo, the soak, or the wait of `up`):
the stack is stopped in a `finally`, and once more at exit should anything bypass it. Every process the
stack starts is recorded for the stop before a signal can interrupt (sandbox.interruptions), so a signal at
any moment of the start leaves nothing running and no file behind.

Exit codes: SIGINT 130. SIGTERM 0 when it ends a wait (`up` from the moment its line is out, `demo --keep`:
the way to stop them), 143 when it interrupts the work (the start, the demo, the soak). A part that cannot
start: 1.
"""

from __future__ import annotations

import atexit
import signal
import sys
from collections.abc import Callable
from typing import Protocol, TypeVar

from sandbox import interruptions
from sandbox.interruptions import Interrupted
from sandbox.stack import StackError


class Runs(Protocol):
    """What runs until a signal: a `Stack`, or the hosted account of `python -m sandbox host`."""

    def start(self) -> object: ...

    def stop(self) -> None: ...


R = TypeVar("R", bound=Runs)


def run_until_signalled(stack: R, body: Callable[[R], int], *, wait: bool) -> int:
    """Start `stack`, run `body`, then (when `wait`) block until a signal; always stop the stack."""
    atexit.register(stack.stop)
    previous = interruptions.install()
    waiting = False
    try:
        stack.start()
        code = body(stack)
        waiting = wait
        while wait and not interruptions.wait(timeout_s=0.5):
            pass
        if waiting:
            return _exit_code(interruptions.received(), ended_a_wait=True)
        return code
    except Interrupted as interrupted:
        interruptions.stopping()
        name = signal.Signals(interrupted.signum).name
        print(f"\nsandbox: {name} received, stopping everything", file=sys.stderr, flush=True)
        return _exit_code(interrupted.signum, ended_a_wait=waiting or interruptions.waiting())
    except StackError as error:
        interruptions.stopping()
        print(f"sandbox: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        interruptions.stopping()
        stack.stop()
        interruptions.uninstall(previous)
        print("sandbox: stopped", file=sys.stderr, flush=True)


def _exit_code(signum: int | None, ended_a_wait: bool) -> int:
    if signum == signal.SIGINT:
        return 130
    if signum == signal.SIGTERM and not ended_a_wait:
        return 143
    return 0
