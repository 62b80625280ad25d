"""Production traffic: GET / on the production CNAME (through the CNAME front), once or continuously."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

INTERVAL_S = 0.2


@dataclass
class Tally:
    """What the callers saw: answers by version (and when each version first answered), and the failures.
    Safe to add to from several threads."""

    by_version: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    first_seen: dict[str, datetime] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.by_version.values()) + len(self.failures)

    def answered(self, version: str, at: datetime | None = None) -> None:
        with self._lock:
            self.by_version[version] += 1
            self.first_seen.setdefault(version, at or datetime.now(UTC))

    def failed(self, reason: str) -> None:
        with self._lock:
            self.failures.append(reason)

    def snapshot(self) -> tuple[Counter[str], list[str], dict[str, datetime]]:
        """(answers by version, failures, first answer of each version), copied."""
        with self._lock:
            return Counter(self.by_version), list(self.failures), dict(self.first_seen)


class Production:
    """Calls `http://<prod cname>/` as a user would, with the front as the HTTP proxy (DNS, in AWS)."""

    def __init__(self, cname: str, proxy_url: str) -> None:
        self.url = f"http://{cname}/"
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy_url}))

    def call(self) -> dict[str, Any]:
        """One counted call; raises urllib.error.URLError (HTTPError) on failure."""
        request = urllib.request.Request(self.url, headers={"Accept": "application/json"})  # noqa: S310
        with self._opener.open(request, timeout=10) as response:
            document: dict[str, Any] = json.loads(response.read())
            return document

    def health(self) -> dict[str, Any] | None:
        try:
            with self._opener.open(self.url + "health", timeout=10) as response:
                document: dict[str, Any] = json.loads(response.read())
                return document
        except (urllib.error.URLError, OSError, ValueError):
            return None


class Background:
    """Keeps calling production every `interval_s` on `callers` threads while in its `with` block."""

    def __init__(self, production: Production, callers: int = 1, interval_s: float = INTERVAL_S) -> None:
        self._production = production
        self._interval_s = interval_s
        self.tally = Tally()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, name=f"traffic-{n}", daemon=True) for n in range(callers)
        ]

    def __enter__(self) -> Tally:
        for thread in self._threads:
            thread.start()
        return self.tally

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tally.answered(str(self._production.call().get("version")))
            except (urllib.error.URLError, OSError, ValueError) as error:
                self.tally.failed(failure(error))
            self._stop.wait(self._interval_s)


def failure(error: Exception) -> str:
    """Why a call failed: an HTTP error with the JSON `error` its body gives (the front's and the web app's
    errors say what happened), else the error itself."""
    if isinstance(error, urllib.error.HTTPError):
        try:
            said = json.loads(error.read() or b"{}").get("error")
        except (ValueError, OSError, AttributeError):
            said = None
        return f"HTTP {error.code}: {said}" if said else f"HTTP {error.code}: {error.reason}"
    return str(error)
