"""Signed reads of the controller's API (contract §2), for the demo's own look at deployments."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from controller.signing import signed_headers

_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class PipelineError(RuntimeError):
    """The controller answered an error; the message carries its status and text."""


def get(base_url: str, secret: str, path: str) -> dict[str, Any]:
    """GET a signed route (`path` may carry a query string; the signature covers the path only)."""
    route = path.split("?", 1)[0]
    headers = signed_headers(secret, int(time.time()), "GET", route, b"")
    request = urllib.request.Request(base_url + path, headers=headers, method="GET")  # noqa: S310 - http only
    try:
        with _DIRECT.open(request, timeout=10) as response:
            document: dict[str, Any] = json.loads(response.read())
            return document
    except urllib.error.HTTPError as error:
        raise PipelineError(f"GET {path}: {error.code} {error.read().decode(errors='replace')}") from error


def latest_deployment(base_url: str, secret: str) -> dict[str, Any] | None:
    deployments = get(base_url, secret, "/deployments?limit=1").get("deployments", [])
    return deployments[0] if deployments else None
