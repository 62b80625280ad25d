"""Which environment each of production's requests reached, and when: the soak's record of where the front
sent users (a front observer), to check that no environment is redeployed while users still reach it."""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict

from sandbox.network.front import Served


class TrafficLog:
    def __init__(self, names: frozenset[str]) -> None:
        self._names = frozenset(name.lower() for name in names)
        self._at: dict[str, list[float]] = defaultdict(list)
        self._lock = threading.Lock()

    def __call__(self, served: Served) -> None:
        if served.host.lower() in self._names:
            with self._lock:
                bisect.insort(self._at[served.environment], served.at)

    def reached(self, environment: str, since: float, until: float) -> list[float]:
        """When production's requests reached `environment` within [since, until] (time.time())."""
        with self._lock:
            moments = self._at.get(environment, [])
            return moments[bisect.bisect_left(moments, since) : bisect.bisect_right(moments, until)]
