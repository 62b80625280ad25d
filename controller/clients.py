"""boto3 clients, created once per container with adaptive retries (botocore honours AWS_ENDPOINT_URL).

boto3 is imported on first use, not at module import: a cold start that only answers `GET /health` or
rejects a request never pays for it. One session serves every client (its loaders parse the endpoint and
service data once).
"""

from __future__ import annotations

from typing import Any

MAX_ATTEMPTS = 8
_clients: dict[str, Any] = {}
_sessions: list[Any] = []


def client(service: str) -> Any:
    if service not in _clients:
        from botocore.config import Config

        config = Config(
            retries={"mode": "adaptive", "max_attempts": MAX_ATTEMPTS},
            connect_timeout=5,
            read_timeout=15,
        )
        _clients[service] = session().client(service, config=config)
    return _clients[service]


def session() -> Any:
    if not _sessions:
        import boto3

        _sessions.append(boto3.session.Session())
    return _sessions[0]


def reset() -> None:
    """Forget the clients (tests switch endpoints and regions between cases); the session's parsed
    service data is kept."""
    _clients.clear()
