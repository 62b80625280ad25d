"""The public internet's scanners (the `scanner-4xx` fault): while it is on, a steady stream of requests for
paths the web app does not have (404s) reaches every environment's load balancer.

Beanstalk's health monitoring sees them (the emulation turns an environment that counts HTTP 4xx Yellow:
moto_ext/elasticbeanstalk/settings/health.py); the web app answers 404 and counts nothing, so production's
counts stay exact. A scanner's answer is never waited on for long and never fails anything.
"""

from __future__ import annotations

import itertools
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence

INTERVAL_S = 0.25
PATHS = ("/wp-login.php", "/.env", "/phpmyadmin/", "/admin/config.php", "/.git/config")
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Scanners:
    def __init__(self, active: Callable[[], bool], targets: Sequence[str]) -> None:
        self._active = active
        self._targets = list(targets)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-scanners", daemon=True)
        self.sent = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        paths = itertools.cycle(PATHS)
        while not self._stopping.wait(INTERVAL_S):
            if not self._active():
                continue
            path = next(paths)
            for target in self._targets:
                self._probe(target.rstrip("/") + path)

    def _probe(self, url: str) -> None:
        try:
            with _DIRECT.open(url, timeout=2) as response:
                response.read()
        except (urllib.error.URLError, OSError):
            pass  # a 404 (HTTPError) is the point; an environment that is down is someone else's finding
        self.sent += 1
