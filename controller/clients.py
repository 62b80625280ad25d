"""boto3 clients, created once per container with adaptive retries (botocore honours AWS_ENDPOINT_URL).

boto3 is imported on first use, not at module import: a cold start that only answers `GET /health` or
rejects a request never pays for it.
"""

from __future__ import annotations

from typing import Any

MAX_ATTEMPTS = 8
_clients: dict[str, Any] = {}


def client(service: str) -> Any:
    if service not in _clients:
        import boto3
        from botocore.config import Config

        config = Config(
            retries={"mode": "adaptive", "max_attempts": MAX_ATTEMPTS},
            connect_timeout=5,
            read_timeout=15,
        )
        _clients[service] = boto3.session.Session().client(service, config=config)
    return _clients[service]


def reset() -> None:
    """Forget the clients (tests switch endpoints and regions between cases)."""
    _clients.clear()
