"""What `GET /health` answers: whether this process can count a call now, judged by its write path.

A store that answers a read may still be unable to write: a full disk, a file-size limit, a failed log sync.
So health follows the writes this process made. Every count reports its outcome here; a probe (a durable
write to a health record that is never counted, `Store.probe_write`) stands in for counts when none came
for a while. The rule:
- a write (count or probe) that ended less than `FRESH_S` ago answers for the store: healthy when it
  succeeded, unhealthy with its error when it failed. So `/health` is 503 while the last count failed and
  none has succeeded since, and costs nothing while calls keep coming.
- otherwise `/health` probes, at most once per `FRESH_S` however many health checks arrive (they wait for
  the probe in progress and share its outcome).
Each worker process judges by its own writes: when the store fails, the worker that met the failure answers
503 at once, and every other within `FRESH_S` (its next health check probes).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from webapp.store.base import StoreUnavailable

FRESH_S = 1.0


class WriteHealth:
    def __init__(self, probe: Callable[[], None], clock: Callable[[], float] = time.monotonic) -> None:
        """`probe()` makes one durable write that counts nothing, raising StoreUnavailable when it cannot."""
        self._probe = probe
        self._clock = clock
        self._probing = threading.Lock()
        self._last: tuple[float, str | None] = (float("-inf"), None)  # when the last write ended, its error

    def count_succeeded(self) -> None:
        self._last = (self._clock(), None)

    def count_failed(self, error: StoreUnavailable) -> None:
        self._last = (self._clock(), str(error))

    def problem(self) -> str | None:
        """None when the store can count a call now, else why it cannot."""
        at, error = self._last
        if self._clock() - at < FRESH_S:
            return error
        with self._probing:
            if self._clock() - self._last[0] >= FRESH_S:  # nobody probed while this thread waited
                try:
                    self._probe()
                except StoreUnavailable as failure:
                    self.count_failed(failure)
                else:
                    self.count_succeeded()
            return self._last[1]
