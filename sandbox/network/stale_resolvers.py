"""The `slow-drain` fault's resolvers: after a swap, a share of a name's callers keep reaching the
environment that lost it, well past the DNS TTL, and then stop.

Resolvers are supposed to drop a record when its TTL expires; AWS warns that some do not, and users have
seen an old environment served for days. `StaleResolvers` wraps a lookup (name -> environment): when the
environment a name leads to changes (a swap), one lookup in STALE_EVERY of that name keeps answering the
previous environment for `linger_s()` seconds, while `active()` (the fault is on). Only the names given are
affected: production's callers.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator

STALE_EVERY = 4  # one caller in 4 (25%) has a resolver that keeps the old record


class StaleResolvers:
    def __init__(
        self,
        resolve: Callable[[str], str | None],
        names: frozenset[str],
        active: Callable[[], bool],
        linger_s: Callable[[], float],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._resolve = resolve
        self._names = frozenset(name.lower() for name in names)
        self._active = active
        self._linger_s = linger_s
        self._clock = clock
        self._seen: dict[str, str | None] = {}
        self._stale: dict[str, tuple[str, float]] = {}  # name -> (the environment it left, until)
        self._lookups: Iterator[int] = itertools.count(1)
        self._lock = threading.Lock()

    def __call__(self, host: str) -> str | None:
        answer = self._resolve(host)
        if host not in self._names:
            return answer
        now = self._clock()
        with self._lock:
            before = self._seen.get(host)
            self._seen[host] = answer
            if before is not None and answer != before and self._active():
                self._stale[host] = (before, now + self._linger_s())
            stale = self._stale.get(host)
            if stale is None or now >= stale[1] or not self._active():
                return answer
            return stale[0] if next(self._lookups) % STALE_EVERY == 0 else answer

    def lingering_until(self) -> float | None:
        """When the last stale callers stop (on this clock); None when none linger now."""
        now = self._clock()
        with self._lock:
            until = [end for _, end in self._stale.values() if end > now]
        return max(until) if until and self._active() else None
