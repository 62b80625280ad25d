"""POST a JSON body to a receiver (GitHub's REST API, a chat webhook) within a time budget.

Every attempt has a timeout. An answer 5xx or 429, a timeout or a refused connection is tried again, at most
ATTEMPTS times in all, after a backoff that doubles from BACKOFF_S, or after the receiver's `Retry-After`
(seconds or an HTTP date) when it names one. Nothing waits past the budget's deadline: a retry that would
is not made. The outcome is a value (`Delivery`); nothing here raises for a receiver's failure.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

ATTEMPT_TIMEOUT_S = 5.0
ATTEMPTS = 3
BACKOFF_S = 0.5
RESPONSE_BYTES = 65536


@dataclass(frozen=True)
class Delivery:
    status: int | None  # the last answer's HTTP status (None: no answer)
    body: bytes
    attempts: int
    problem: str | None = None  # why it was not delivered (None: a 2xx)

    @property
    def delivered(self) -> bool:
        return self.problem is None

    def json(self) -> dict[str, Any]:
        try:
            value = json.loads(self.body or b"{}")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


class Budget:
    """The time a tick may spend on deliveries (monotonic seconds)."""

    def __init__(self, seconds: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self.deadline = monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.deadline - self._monotonic())


def post_json(
    url: str,
    body: dict[str, Any],
    headers: dict[str, str],
    budget: Budget,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    data = json.dumps(body).encode()
    attempts, status, answer = 0, None, b""
    problem: str | None = "no time left to send it"
    while attempts < ATTEMPTS:
        timeout = min(ATTEMPT_TIMEOUT_S, budget.remaining())
        if timeout <= 0.05:
            break
        attempts += 1
        status, answer, problem, retry_after = _attempt(url, data, headers, timeout)
        if problem is None:
            return Delivery(status, answer, attempts)
        if retry_after is None:  # a refusal (4xx but 429): asking again changes nothing
            break
        wait = retry_after if retry_after > 0 else BACKOFF_S * 2 ** (attempts - 1)
        if attempts >= ATTEMPTS:
            break
        if wait >= budget.remaining():
            problem += f"; not retried: waiting {wait:g} s would pass the tick's budget"
            break
        sleep(wait)
    return Delivery(status, answer, attempts, f"{problem} (after {attempts} attempt(s))")


def _attempt(
    url: str, data: bytes, headers: dict[str, str], timeout: float
) -> tuple[int | None, bytes, str | None, float | None]:
    """(status, body, problem, retry after): problem None on a 2xx; retry after None when a retry is
    pointless, 0 for the usual backoff, else the receiver's Retry-After in seconds."""
    request = urllib.request.Request(  # noqa: S310 (the URL is configuration: http(s) checked at start)
        url, data=data, method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.build_opener().open(request, timeout=timeout) as response:
            return response.status, response.read(RESPONSE_BYTES), None, None
    except urllib.error.HTTPError as error:
        answer = error.read(RESPONSE_BYTES)
        problem = f"HTTP {error.code}" + (f": {answer[:200].decode(errors='replace')}" if answer else "")
        if error.code == 429 or error.code >= 500:
            return error.code, answer, problem, _retry_after(error.headers.get("Retry-After"))
        return error.code, answer, problem, None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return None, b"", f"no answer ({reason})", 0.0


def _retry_after(value: str | None) -> float:
    """Seconds the receiver asked to wait (0: it did not say)."""
    if not value:
        return 0.0
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0.0
    return max(0.0, moment.timestamp() - time.time())
