"""The reconcile queue: a tick for a deployment, due after a delay (SQS DelaySeconds, at most 900 s)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

from controller.core.decision import MAX_DELAY_S


@dataclass(frozen=True)
class TickMessage:
    """One queued tick: the deployment, the chain of ticks it continues, and how many transient errors in a
    row led to it (0 for an ordinary re-check).

    Or a wake's re-check (`recheck`: the environment Beanstalk announced the end of an operation of, while
    DescribeEnvironments did not show it yet; `rechecks`: how many re-checks this is): it is no tick of a
    chain, it looks once as a wake does (tick.py)."""

    deployment_id: str
    chain: str | None = None
    retry: int = 0
    recheck: str | None = None
    rechecks: int = 0

    def body(self) -> str:
        fields: dict[str, object] = {"deployment_id": self.deployment_id, "chain": self.chain or new_chain()}
        if self.retry:
            fields["retry"] = self.retry
        if self.recheck is not None:
            fields["recheck"], fields["rechecks"] = self.recheck, self.rechecks
        return json.dumps(fields)


def parse(body: str) -> TickMessage | None:
    """The message, or None when the body is not one of ours."""
    try:
        fields = json.loads(body)
        deployment_id = fields["deployment_id"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(deployment_id, str):
        return None
    chain, retry = fields.get("chain"), fields.get("retry", 0)
    recheck, rechecks = fields.get("recheck"), fields.get("rechecks", 0)
    return TickMessage(
        deployment_id,
        chain if isinstance(chain, str) else None,
        _count(retry),
        recheck if isinstance(recheck, str) and recheck else None,
        _count(rechecks),
    )


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


class TickQueue(Protocol):
    def send(self, message: TickMessage, delay_s: int) -> None: ...


class SqsTickQueue:
    def __init__(self, sqs: Any, queue_name: str) -> None:
        self._sqs = sqs
        self._queue_name = queue_name
        self._url: str | None = None

    def send(self, message: TickMessage, delay_s: int) -> None:
        if self._url is None:
            self._url = str(self._sqs.get_queue_url(QueueName=self._queue_name)["QueueUrl"])
        self._sqs.send_message(
            QueueUrl=self._url,
            MessageBody=message.body(),
            DelaySeconds=max(0, min(MAX_DELAY_S, int(delay_s))),
        )


def new_chain() -> str:
    return secrets.token_hex(6)
