"""Signed calls of the controller's API (contract §2): the demo's and the soak's look at deployments."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from controller.client.signing import signed_headers

_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
TIMEOUT_S = 30


class PipelineError(RuntimeError):
    """The controller answered an error; the message carries its status and text."""


def get(base_url: str, secret: str, path: str) -> dict[str, Any]:
    """GET a signed route (`path` may carry a query string; the signature covers the path only)."""
    status, document = call(base_url, secret, "GET", path)
    if status != 200:
        raise PipelineError(f"GET {path}: {status} {document.get('error', document)}")
    return document


def post(
    base_url: str, secret: str, path: str, body: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    """POST a signed route; (status, JSON answer), refusals (4xx) included."""
    return call(base_url, secret, "POST", path, json.dumps(body or {}).encode())


def call(base_url: str, secret: str, method: str, path: str, body: bytes = b"") -> tuple[int, dict[str, Any]]:
    """A signed request; (status, JSON answer) whatever the status."""
    route = path.split("?", 1)[0]
    headers = {
        "Content-Type": "application/json",
        **signed_headers(secret, int(time.time()), method, route, body),
    }
    request = urllib.request.Request(  # noqa: S310 - http only
        base_url + path, data=body if method != "GET" else None, headers=headers, method=method
    )
    try:
        with _DIRECT.open(request, timeout=TIMEOUT_S) as response:
            return int(response.status), _document(response.read())
    except urllib.error.HTTPError as error:
        return error.code, _document(error.read())


def latest_deployment(base_url: str, secret: str) -> dict[str, Any] | None:
    deployments = get(base_url, secret, "/deployments?limit=1").get("deployments", [])
    return deployments[0] if deployments else None


def _document(raw: bytes) -> dict[str, Any]:
    try:
        document = json.loads(raw)
    except ValueError:
        return {"error": raw.decode(errors="replace")}
    return document if isinstance(document, dict) else {"error": repr(document)}
