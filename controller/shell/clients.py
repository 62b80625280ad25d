"""boto3 clients as the controller uses them (botocore honours AWS_ENDPOINT_URL).

Reads retry adaptively: a lost answer to a read costs nothing. Calls that change something
(UpdateEnvironment, SwapEnvironmentCNAMEs, AbortEnvironmentUpdate, CreateApplicationVersion) make exactly
one attempt: botocore would re-send them on a 5xx or a read timeout, and a second swap is a swap back.
After such an error the next tick observes what happened instead.

boto3 is imported on first use, not at module import: a cold start that only answers `GET /health` or
rejects a request never pays for it.

Every call is logged once it is answered, or once it fails to be (logline.aws_call).
"""

from __future__ import annotations

import functools
from typing import Any

from controller.shell import logline

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

    client = session.client(service, config=Config(retries=retries, connect_timeout=5, read_timeout=15))
    client.meta.events.register("after-call", _answered)
    client.meta.events.register("after-call-error", functools.partial(_unanswered, service))
    return client


def _answered(http_response: Any, model: Any, **_: Any) -> None:
    logline.aws_call(model.service_model.service_name, model.name, int(http_response.status_code))


def _unanswered(service: str, exception: BaseException, event_name: str, **_: Any) -> None:
    """`event_name` ends in the operation's name (botocore passes no model with this event)."""
    logline.aws_call(service, event_name.rsplit(".", 1)[-1], type(exception).__name__)
