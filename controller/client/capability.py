"""Capability tokens: a one-click link's action on one deployment, or a look at the dashboard (stdlib only).

A token is `<payload>.<mac>`, both base64url without padding: the payload is compact JSON
`{"a": action, "d": deployment id, "e": expiry (unix seconds), "n": nonce}` and the mac is HMAC-SHA256 of the
payload text under a key derived from the shared signing secret for the token's purpose (links and the
dashboard use different keys, so neither kind passes for the other). Whoever holds the token holds the
capability until it expires; one-click actions are also single-use (the controller records each use).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass

ACTIONS = ("promote", "abort", "rollback")
DASHBOARD = "dashboard"
MAX_TOKEN_LENGTH = 512
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,400}\.[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class Capability:
    action: str  # one of ACTIONS, or DASHBOARD
    deployment_id: str  # "" for the dashboard
    expires_at: int
    nonce: str

    @property
    def use_id(self) -> str:
        """What the controller records when the token is used (its nonce names it)."""
        return f"link:{self.nonce}"


def mint(secret: str, action: str, deployment_id: str, expires_at: int) -> str:
    """A token for `action` on `deployment_id` (or the dashboard) valid until `expires_at`."""
    payload = json.dumps(
        {"a": action, "d": deployment_id, "e": int(expires_at), "n": secrets.token_hex(8)},
        separators=(",", ":"),
        sort_keys=True,
    )
    text = _b64(payload.encode())
    return f"{text}.{_b64(_mac(secret, _purpose(action), text))}"


def verify(secret: str, token: str, now: float, purpose: str) -> Capability | str:
    """The capability a genuine, unexpired token of `purpose` ("link" or "dashboard") grants, else why not
    ("tampered" covers anything not minted with this secret for this purpose; "expired" one past its time)."""
    if len(token) > MAX_TOKEN_LENGTH or not _TOKEN.fullmatch(token):
        return "tampered"
    text, mac = token.split(".")
    if not hmac.compare_digest(_unb64(mac), _mac(secret, purpose, text)):
        return "tampered"
    try:
        fields = json.loads(_unb64(text))
        capability = Capability(str(fields["a"]), str(fields["d"]), int(fields["e"]), str(fields["n"]))
    except (ValueError, KeyError, TypeError):
        return "tampered"
    if _purpose(capability.action) != purpose:
        return "tampered"
    if now >= capability.expires_at:
        return "expired"
    return capability


def _purpose(action: str) -> str:
    return DASHBOARD if action == DASHBOARD else "link"


def _mac(secret: str, purpose: str, text: str) -> bytes:
    key = hmac.new(secret.encode(), f"deliverypipeline/{purpose}".encode(), hashlib.sha256).digest()
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return b""
