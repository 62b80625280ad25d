"""An in-process store: a counter under a lock. Not durable and not shared between processes.

The benchmark uses it as the ceiling of the web stack (the server with the database taken out); it follows
the same contract test as the real adapters.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC

from webapp.store.base import MAX_DEPLOYS, Deploy, State


class MemoryStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, int] = {}
        self._deploys: dict[str, Deploy] = {}

    def count_call(self, version: str) -> State:
        with self._lock:
            self._calls[version] = self._calls.get(version, 0) + 1
            return self._state()

    def record_deploy(self, deploy: Deploy) -> None:
        with self._lock:
            self._deploys.setdefault(
                deploy.version, replace(deploy, deployed_at=deploy.deployed_at.astimezone(UTC))
            )

    def read_state(self) -> State:
        with self._lock:
            return self._state()

    def probe_write(self) -> None:
        pass

    def close(self) -> None:
        pass

    def _state(self) -> State:
        newest = sorted(self._deploys.values(), key=lambda deploy: deploy.deployed_at, reverse=True)
        return State(calls_by_version=dict(self._calls), deploys=tuple(newest[:MAX_DEPLOYS]))
