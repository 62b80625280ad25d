"""boto3 clients as the controller uses them (botocore honours AWS_ENDPOINT_URL).

Reads retry adaptively: a lost answer to a read costs nothing. Calls that change something
(UpdateEnvironment, SwapEnvironmentCNAMEs, AbortEnvironmentUpdate, CreateApplicationVersion) make exactly
one attempt: botocore would re-send them on a 5xx or a read timeout, and a second swap is a swap back.
After such an error the next tick observes what happened instead.

boto3 is imported on first use, not at module import: a cold start that only answers `GET /health` or
rejects a request never pays for it.
"""

from __future__ import annotations

from typing import Any

READ_ATTEMPTS = 8


def new_session() -> Any:
    import boto3

    return boto3.session.Session()


def for_reads(session: Any, service: str) -> Any:
    return _client(session, service, {"mode": "adaptive", "max_attempts": READ_ATTEMPTS})


def single_attempt(session: Any, service: str) -> Any:
    return _client(session, service, {"mode": "standard", "total_max_attempts": 1})


def _client(session: Any, service: str, retries: dict[str, Any]) -> Any:
    from botocore.config import Config

    return session.client(service, config=Config(retries=retries, connect_timeout=5, read_timeout=15))
