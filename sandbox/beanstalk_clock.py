"""Beanstalk's own pace in the sandbox: operations finish, and their EventBridge events go out, unasked.

On AWS an update ends and Beanstalk sends "Environment update successful" to EventBridge whether or not
anyone is looking. The emulation settles lazily, on the next call that reads or changes its state; in the
sandbox nothing may call it while the controller waits for the event (its safety poll is far off), so this
thread settles it every SETTLE_EVERY_S. The events then reach the controller's reconcile queue through the
rule of its stack, as on AWS.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import moto_ext

SETTLE_EVERY_S = 0.2


class BeanstalkClock:
    def __init__(self, backend: moto_ext.BeanstalkBackend, report: Callable[[str], None]) -> None:
        self._backend = backend
        self._report = report
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="beanstalk-clock", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stopping.wait(SETTLE_EVERY_S):
            try:
                self._backend.settle()
            except Exception as error:  # keep Beanstalk's time running; say what went wrong
                self._report(f"sandbox: settling the Beanstalk emulation failed: {error!r}")
