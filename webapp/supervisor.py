"""A small pre-fork supervisor: N worker processes serve one listening socket; a dead one is replaced.

`Supervisor.run` forks the workers (each runs `work(index)` and exits with what it returns), then waits for
signals: SIGCHLD reaps a worker that died and starts another in its place (at once, or after a growing pause
when it died within a second of starting, so a worker that cannot start does not spin); SIGTERM or SIGINT
closes the supervisor's copy of the listening socket, passes SIGTERM to every worker so each drains its
in-flight requests, and returns 0 once all of them have exited 0.

The supervisor stays single-threaded and never touches the store, so forking it is safe. It blocks the
signals it waits for; a worker unblocks them as it starts. A worker asks the kernel for SIGTERM when the
supervisor dies (`kill -9`, a crash), so no worker outlives it.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

WATCHED = {signal.SIGCHLD, signal.SIGTERM, signal.SIGINT}
QUICK_EXIT_S = 1.0  # a worker that dies sooner than this after starting is restarted after a pause
FIRST_PAUSE_S = 0.5
LONGEST_PAUSE_S = 10.0
STOP_GRACE_S = 30.0  # after SIGTERM, workers still running this much later are killed
PR_SET_PDEATHSIG = 1


@dataclass
class Worker:
    index: int
    pid: int
    started_at: float


@dataclass
class Slot:
    """What the supervisor remembers of worker `index` between restarts."""

    quick_exits: int = 0
    restart_at: float | None = None


class Supervisor:
    """Runs `processes` workers, each `work(index)` in a forked child, until SIGTERM/SIGINT."""

    def __init__(self, work: Callable[[int], int], processes: int, listener: socket.socket) -> None:
        self._work = work
        self._listener = listener
        self._slots = [Slot() for _ in range(processes)]
        self._workers: dict[int, Worker] = {}
        self._stopping_since: float | None = None
        self._unclean_stops = 0

    def run(self) -> int:
        """0 when every worker stopped cleanly, else 1."""
        previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, WATCHED)
        try:
            for index in range(len(self._slots)):
                self._start(index, previous_mask)
            while self._workers or (self._stopping_since is None and self._restarts_pending()):
                received = signal.sigtimedwait(WATCHED, self._wait_s())
                if received is not None and received.si_signo != signal.SIGCHLD:
                    self._stop(signal.Signals(received.si_signo))
                self._reap()
                self._restart_due(previous_mask)
                self._kill_stragglers()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)
        log.info("all workers stopped")
        return 0 if self._unclean_stops == 0 else 1

    # -- workers -------------------------------------------------------------------------------------------

    def _start(self, index: int, unblocked: set[int | signal.Signals]) -> None:
        supervisor = os.getpid()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            os._exit(_run_worker(self._work, index, supervisor, unblocked))
        self._workers[pid] = Worker(index, pid, time.monotonic())
        self._slots[index].restart_at = None

    def _reap(self) -> None:
        while self._workers:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            worker = self._workers.pop(pid, None)
            if worker is not None:
                self._after_exit(worker, os.waitstatus_to_exitcode(status))

    def _after_exit(self, worker: Worker, code: int) -> None:
        how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
        if self._stopping_since is not None:
            clean = code in (0, -signal.SIGTERM)  # -SIGTERM: stopped before it began to serve
            self._unclean_stops += 0 if clean else 1
            (log.info if clean else log.error)("worker %d (pid %d) %s", worker.index, worker.pid, how)
            return
        slot = self._slots[worker.index]
        lived = time.monotonic() - worker.started_at
        slot.quick_exits = slot.quick_exits + 1 if lived < QUICK_EXIT_S else 0
        pause = min(FIRST_PAUSE_S * 2 ** (slot.quick_exits - 1), LONGEST_PAUSE_S) if slot.quick_exits else 0.0
        slot.restart_at = time.monotonic() + pause
        log.error(
            "worker %d (pid %d) %s after %.1fs; starting another%s",
            worker.index,
            worker.pid,
            how,
            lived,
            f" in {pause:g}s" if pause else "",
        )

    def _restarts_pending(self) -> bool:
        return any(slot.restart_at is not None for slot in self._slots)

    def _restart_due(self, unblocked: set[int | signal.Signals]) -> None:
        if self._stopping_since is not None:
            return
        now = time.monotonic()
        for index, slot in enumerate(self._slots):
            if slot.restart_at is not None and slot.restart_at <= now:
                self._start(index, unblocked)
                log.info("worker %d started again (pid %d)", index, self._pid_of(index))

    def _pid_of(self, index: int) -> int:
        return next(worker.pid for worker in self._workers.values() if worker.index == index)

    # -- stopping ------------------------------------------------------------------------------------------

    def _stop(self, received: signal.Signals) -> None:
        if self._stopping_since is not None:
            log.info("received %s again: still waiting for the workers to drain", received.name)
            return
        log.info("received %s: draining %d worker(s), then stopping", received.name, len(self._workers))
        self._stopping_since = time.monotonic()
        self._listener.close()
        for pid in self._workers:
            _signal(pid, signal.SIGTERM)

    def _kill_stragglers(self) -> None:
        if self._stopping_since is None or time.monotonic() - self._stopping_since < STOP_GRACE_S:
            return
        for worker in self._workers.values():
            log.error("worker %d (pid %d) still running after SIGTERM: killing it", worker.index, worker.pid)
            _signal(worker.pid, signal.SIGKILL)
        self._stopping_since = time.monotonic()  # and wait for the kernel to report them dead

    def _wait_s(self) -> float:
        """How long the next wait for a signal may last: until the next due restart or stop check."""
        now = time.monotonic()
        due = [slot.restart_at for slot in self._slots if slot.restart_at is not None]
        if self._stopping_since is not None:
            due = [self._stopping_since + STOP_GRACE_S]
        return max(min(due, default=now + 60.0) - now, 0.0)


def _run_worker(
    work: Callable[[int], int], index: int, supervisor: int, unblocked: set[int | signal.Signals]
) -> int:
    """The forked child: dies with the supervisor, takes the default signal actions back, runs `work`."""
    code = 1
    try:
        _die_with_parent()
        if os.getppid() != supervisor:  # the supervisor died before the request above took effect
            return 1
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, unblocked)
        code = work(index)
    except BaseException:
        log.exception("worker %d failed", index)
    finally:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
    return code


def _die_with_parent() -> None:
    """SIGTERM this process when its parent dies (Linux prctl; elsewhere nothing)."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # it has just exited; the next reap reports it
        os.kill(pid, sig)
