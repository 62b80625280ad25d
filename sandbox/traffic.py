"""Production traffic: GET / on the production CNAME (through the CNAME front), once or continuously."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

INTERVAL_S = 0.2


@dataclass
class Tally:
    """What the callers saw: answers by version, and the failures."""

    by_version: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.by_version.values()) + len(self.failures)


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
    """Keeps calling production every INTERVAL_S on a thread while in its `with` block."""

    def __init__(self, production: Production) -> None:
        self._production = production
        self.tally = Tally()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="traffic", daemon=True)

    def __enter__(self) -> Tally:
        self._thread.start()
        return self.tally

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tally.by_version[str(self._production.call().get("version"))] += 1
            except (urllib.error.URLError, OSError, ValueError) as error:
                self.tally.failures.append(str(error))
            self._stop.wait(INTERVAL_S)
