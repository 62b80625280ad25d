"""Request signatures: HMAC-SHA256(secret, f"{timestamp}.{METHOD}.{path}." + raw body), ±300 s."""

from __future__ import annotations

import hashlib
import hmac
import re

MAX_SKEW_S = 300
SIGNATURE_HEADER = "X-Pipeline-Signature"
TIMESTAMP_HEADER = "X-Pipeline-Timestamp"
_SIGNATURE = re.compile(r"^sha256=([0-9a-f]{64})$")
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")


def sign(secret: str, timestamp: int, method: str, path: str, body: bytes) -> str:
    """The `X-Pipeline-Signature` header value for a request."""
    message = f"{timestamp}.{method.upper()}.{path}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, timestamp: int, method: str, path: str, body: bytes) -> dict[str, str]:
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, method, path, body),
    }


def verify(
    secret: str,
    timestamp_header: str | None,
    signature_header: str | None,
    method: str,
    path: str,
    body: bytes,
    now: float,
) -> str | None:
    """None when the request is authentic and fresh, else why not (never echoes the expected value)."""
    if not timestamp_header or not signature_header:
        return f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header"
    if not _TIMESTAMP.match(timestamp_header.strip()):
        return f"malformed {TIMESTAMP_HEADER} header"
    match = _SIGNATURE.match(signature_header.strip())
    if match is None:
        return f"malformed {SIGNATURE_HEADER} header (expected sha256=<hex>)"
    timestamp = int(timestamp_header.strip())
    if abs(now - timestamp) > MAX_SKEW_S:
        return f"stale request: {TIMESTAMP_HEADER} is more than {MAX_SKEW_S} s from the controller's clock"
    expected = sign(secret, timestamp, method, path, body)
    if not hmac.compare_digest(expected.encode(), ("sha256=" + match.group(1)).encode()):
        return "signature does not match"
    return None
