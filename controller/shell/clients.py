"""boto3 clients as the controller uses them (botocore honours AWS_ENDPOINT_URL), bounded in time.

Every attempt of every call is bounded (CONNECT_TIMEOUT_S + READ_TIMEOUT_S), and so is the number of
attempts. Reads retry in botocore's standard mode, READ_ATTEMPTS attempts in all: a lost answer to a read
costs nothing. Calls that change something (UpdateEnvironment, SwapEnvironmentCNAMEs,
AbortEnvironmentUpdate, CreateApplicationVersion) make exactly one attempt: botocore would re-send them on
a 5xx or a read timeout, and a second swap is a swap back. After such an error the next tick observes what
happened instead.

On top of that, each attempt and each retry asks the invocation's deadline first (deadline.py): an attempt
starts only when it can end within the function's budget, keeping the room to record the outcome, and a
retry (its backoff sleep, then the attempt) only when both fit. So however slowly AWS answers, or if it
never does, a handler ends within its budget (tests/controller/test_controller_time_bounds.py computes
the worst case from these numbers and the packaged template's timeouts).

boto3 is imported on first use, not at module import: a cold start that only answers `GET /health` or
rejects a request never pays for it.

Every call is logged once it is answered, or once it fails to be (logline.aws_call).
"""

from __future__ import annotations

import functools
from typing import Any

from controller.shell import deadline, logline

CONNECT_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 4.0
READ_ATTEMPTS = 3  # in all, the first included
ATTEMPT_S = CONNECT_TIMEOUT_S + READ_TIMEOUT_S  # the longest one attempt can take
# botocore's standard mode sleeps before attempt n+1 at most min(2**(n-1), 20) s, plus up to 5 s more when
# the answer carries x-amz-retry-after (botocore.retries.standard.ExponentialBackoff).
BACKOFF_CAP_S = 20.0
RETRY_AFTER_EXTRA_S = 5.0


def max_retry_sleep_s(attempts: int) -> float:
    """The longest botocore's standard mode sleeps before any retry of a call of `attempts` attempts."""
    if attempts <= 1:
        return 0.0
    return min(2.0 ** (attempts - 2), BACKOFF_CAP_S) + RETRY_AFTER_EXTRA_S


def worst_call_s(attempts: int) -> float:
    """The longest one call can take without the deadline's checks: every attempt times out and every
    backoff is the longest."""
    sleeps = sum(min(2.0 ** (n - 1), BACKOFF_CAP_S) + RETRY_AFTER_EXTRA_S for n in range(1, attempts))
    return attempts * ATTEMPT_S + sleeps


def new_session() -> Any:
    import boto3

    return boto3.session.Session()


def for_reads(session: Any, service: str) -> Any:
    return _client(session, service, READ_ATTEMPTS)


def single_attempt(session: Any, service: str) -> Any:
    return _client(session, service, 1)


def _client(session: Any, service: str, attempts: int) -> Any:
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "total_max_attempts": attempts},
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
    )
    client = session.client(service, config=config)
    events, name = client.meta.events, client.meta.service_model.service_id.hyphenize()
    events.register_first(f"before-send.{name}", _before_attempt)
    events.register_first(f"needs-retry.{name}", _retry_fits(attempts))
    events.register("after-call", _answered)
    events.register("after-call-error", functools.partial(_unanswered, service))
    return client


def _answered(http_response: Any, model: Any, **_: Any) -> None:
    logline.aws_call(model.service_model.service_name, model.name, int(http_response.status_code))


def _unanswered(service: str, exception: BaseException, event_name: str, **_: Any) -> None:
    """`event_name` ends in the operation's name (botocore passes no model with this event)."""
    logline.aws_call(service, event_name.rsplit(".", 1)[-1], type(exception).__name__)


def _before_attempt(event_name: str = "", **_: Any) -> None:
    """Every attempt (the first and each retry) starts only when it can end within the deadline."""
    deadline.require(ATTEMPT_S, f"{event_name.rsplit('.', 1)[-1] or 'an AWS call'} (one attempt)")


def _retry_fits(attempts: int) -> Any:
    longest_sleep = max_retry_sleep_s(attempts)

    def retry_fits(**_: Any) -> bool | None:
        """Run before botocore's own retry handler: when a retry (its sleep, then an attempt) would not fit,
        answer False (no retry: the last answer or error stands); else let botocore decide."""
        return None if deadline.current().allows(longest_sleep + ATTEMPT_S) else False

    return retry_fits
