"""SIGINT/SIGTERM in the sandbox's commands (sandbox.interruptions): an Interrupted no `except Exception`
swallows, and a signal that waits while a process is started and recorded."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from sandbox import interruptions
from sandbox.interruptions import Interrupted
from sandbox.lifetime import run_until_signalled


@pytest.fixture
def handled() -> Iterator[None]:
    previous = interruptions.install()
    try:
        yield
    finally:
        interruptions.uninstall(previous)


def _signal(signum: int) -> None:
    """Send `signum` to this process; its Python handler runs at one of the next bytecodes."""
    os.kill(os.getpid(), signum)


def test_a_signal_is_raised_as_interrupted_which_except_exception_does_not_catch(handled: None) -> None:
    with pytest.raises(Interrupted) as caught:
        try:
            _signal(signal.SIGINT)
            for _ in range(1000):  # the Python-level handler runs between bytecodes
                pass
        except Exception:  # what the launcher's wrapper did
            pytest.fail("Interrupted was caught as an Exception")
    assert caught.value.signum == signal.SIGINT
    assert interruptions.received() == signal.SIGINT


def test_inside_shielded_the_signal_waits_for_the_end_of_the_block(handled: None) -> None:
    recorded: list[str] = []
    with pytest.raises(Interrupted) as caught:
        with interruptions.shielded():
            _signal(signal.SIGTERM)
            for _ in range(1000):
                pass
            recorded.append("started and recorded")
    assert recorded == ["started and recorded"]
    assert caught.value.signum == signal.SIGTERM


def test_once_stopping_signals_only_wait_their_turn(handled: None) -> None:
    interruptions.stopping()
    _signal(signal.SIGINT)
    for _ in range(1000):
        pass
    assert interruptions.received() == signal.SIGINT


class _Quiet:
    """A stack with nothing to start or stop: run_until_signalled's own rules alone."""

    def start(self) -> object:
        return None

    def stop(self) -> None:
        pass


def test_a_sigterm_just_after_the_ready_line_ends_the_wait_with_0(capsys: pytest.CaptureFixture[str]) -> None:
    """`up` prints its JSON line and then waits; whoever reads that line may SIGTERM it at once, while the
    main thread is still on its way back from printing. That ends the wait (0), it does not interrupt the
    start (143): CI once saw 143 after 'sandbox: stopped' (test_up's --keep-logs case)."""

    def ready(_stack: _Quiet) -> int:
        def announce() -> None:
            print('{"ready": true}', flush=True)
            _signal(signal.SIGTERM)  # the reader's signal, handled before the announcing call returns

        interruptions.announce_wait(announce)
        return 0

    assert run_until_signalled(_Quiet(), ready, wait=True) == 0
    assert '{"ready": true}' in capsys.readouterr().out


def test_a_sigterm_before_the_ready_line_interrupts_the_start_143() -> None:
    def starting(_stack: _Quiet) -> int:
        _signal(signal.SIGTERM)
        interruptions.announce_wait(lambda: print("never", flush=True))
        return 0

    assert run_until_signalled(_Quiet(), starting, wait=True) == 143
