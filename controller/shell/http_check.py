"""`GET http://<cname>/health` for the smoke test and the verification (urllib honours HTTP_PROXY)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from controller.core.observation import HttpCheck

TIMEOUT_S = 5.0
BODY_BYTES = 200


def health(url: str) -> HttpCheck:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 (http is the point)
    try:
        # A fresh opener reads HTTP_PROXY / NO_PROXY now (urlopen's shared opener froze them at first use).
        with urllib.request.build_opener().open(request, timeout=TIMEOUT_S) as response:
            status, body = response.status, response.read(65536)
    except urllib.error.HTTPError as error:
        return HttpCheck(url=url, status=error.code, body=_excerpt(error.read(BODY_BYTES)))
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return HttpCheck(url=url, error=f"unreachable ({reason})")
    try:
        version = json.loads(body).get("version")
    except (ValueError, AttributeError):
        return HttpCheck(url=url, status=status, error="answer is not a JSON object", body=_excerpt(body))
    shown = None if version is None else str(version)
    return HttpCheck(url=url, status=status, version=shown, body=_excerpt(body))


def _excerpt(body: bytes) -> str:
    return body[:BODY_BYTES].decode(errors="replace")
