"""What a DNS resolver would still have cached: the `dns-lag` fault's CNAME -> environment lookups.

After a CNAME swap, clients keep reaching the old environment under the old name until the record they
resolved expires (Beanstalk's CNAME records have a 60 s TTL). `DnsCache` wraps the exact lookup and keeps
each answer for `ttl_s()` seconds from when it was resolved; a TTL of 0 resolves every time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class DnsCache:
    def __init__(
        self,
        resolve: Callable[[str], str | None],
        ttl_s: Callable[[], float],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._resolve = resolve
        self._ttl_s = ttl_s
        self._clock = clock
        self._cached: dict[str, tuple[str | None, float]] = {}
        self._lock = threading.Lock()

    def __call__(self, host: str) -> str | None:
        """The environment `host` leads to, as a resolver that cached it would answer now."""
        now = self._clock()
        with self._lock:
            cached = self._cached.get(host)
        if cached is not None and now < cached[1]:
            return cached[0]
        answer = self._resolve(host)
        ttl = self._ttl_s()
        with self._lock:
            if ttl > 0:
                self._cached[host] = (answer, now + ttl)
            else:
                self._cached.pop(host, None)
        return answer
