"""Waiting for a freshly started web app to answer `GET /health` with the version it should run."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from sandbox.live.instances import Instance
from sandbox.network.ports import LOOPBACK

PROBE_TIMEOUT_S = 2.0
PROBE_INTERVAL_S = 0.1

# Loopback probes never go through the sandbox's CNAME proxy, whatever HTTP_PROXY says.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def await_version(
    instance: Instance,
    timeout_s: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> str | None:
    """None once `instance` answers /health 200 with its image's tag; otherwise why it did not."""
    deadline = clock() + timeout_s
    last_seen = "nothing answered"
    while True:
        exited = instance.exit_status()
        if exited is not None:
            return f"it {exited}"
        seen = probe_health(instance.port)
        if seen == ("ok", instance.image.tag):
            return None
        if seen is not None:
            last_seen = f"/health answered status {seen[0]!r}, version {seen[1]!r}"
        if clock() >= deadline:
            wanted = instance.image.tag
            return f"it did not answer /health with version {wanted} within {timeout_s:g} s ({last_seen})"
        sleep(PROBE_INTERVAL_S)


def probe_health(port: int) -> tuple[str, str] | None:
    """(status, version) from `GET http://127.0.0.1:<port>/health`, or None when nothing usable answers."""
    url = f"http://{LOOPBACK}:{port}/health"
    try:
        with _DIRECT.open(url, timeout=PROBE_TIMEOUT_S) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        body = error.read()
    except (OSError, ValueError):
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    return str(document.get("status")), str(document.get("version"))
