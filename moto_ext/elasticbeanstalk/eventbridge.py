"""Beanstalk's state changes on moto's EventBridge, as AWS sends them (best effort) to the default bus.

AWS documents four detail types (source `aws.elasticbeanstalk`) and maps each event message to a
detail `Status` ("Using Elastic Beanstalk with Amazon EventBridge", field mapping). The emulation sends:

    Elastic Beanstalk resource status change   Environment creation started / successful,
                                               Environment update started / successful / failed,
                                               Environment termination started / successful
    Health status change                       Environment health changed

each as {"version": "0", "id", "detail-type", "source": "aws.elasticbeanstalk", "account", "time"
("2026-11-26T12:00:00Z"), "region", "resources": [environment ARN], "detail": {"Status", "EventDate" (epoch
ms), "ApplicationName", "Message", "EnvironmentName", "Severity"}}, to every enabled rule of the default
bus whose pattern matches (moto's matching and targets). Other events (versions, swaps, aborts) AWS does
not document on EventBridge, so they are not sent. Delivery is best effort: `Delivery` can drop, duplicate
or delay events (by the emulation's clock), as a test chooses.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from moto.elasticbeanstalk.utils import make_arn

from . import control_numbers
from . import events as texts
from .events import Event

SOURCE = "aws.elasticbeanstalk"
RESOURCE_CHANGE = "Elastic Beanstalk resource status change"
HEALTH_CHANGE = "Health status change"
_EXACT: dict[str, tuple[str, str, str | None]] = {
    texts.CREATE_STARTING: (RESOURCE_CHANGE, "Environment creation started", None),
    texts.UPDATE_STARTING: (RESOURCE_CHANGE, "Environment update started", None),
    texts.UPDATE_COMPLETED: (RESOURCE_CHANGE, "Environment update successful", None),
    texts.DEPLOY_FAILED: (RESOURCE_CHANGE, "Environment update failed", None),
    texts.CONFIG_FAILED: (RESOURCE_CHANGE, "Environment update failed", None),
    texts.TERMINATE_STARTING: (RESOURCE_CHANGE, "Environment termination started", None),
    texts.TERMINATE_COMPLETED: (RESOURCE_CHANGE, "Environment termination successful", None),
}
_LAUNCHED = texts.CREATE_COMPLETED.split("{")[0]  # "Successfully launched environment: "
_LAUNCHED_MESSAGE = "createEnvironment completed successfully."  # the field mapping's message
_HEALTH = "Environment health has "


def message(event: Event, account_id: str, region: str) -> dict[str, Any] | None:
    """The EventBridge event AWS would send for this environment event, or None when it sends none."""
    if event.environment_name is None:
        return None
    mapped = _EXACT.get(event.message)
    if mapped is None and event.message.startswith(_LAUNCHED):
        mapped = (RESOURCE_CHANGE, "Environment creation successful", _LAUNCHED_MESSAGE)
    if mapped is None and event.message.startswith(_HEALTH):
        mapped = (HEALTH_CHANGE, "Environment health changed", None)
    if mapped is None:
        return None
    detail_type, status, text = mapped
    arn = make_arn(region, account_id, "environment", f"{event.application_name}/{event.environment_name}")
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": SOURCE,
        "account": account_id,
        "time": event.event_date.timestamp(),  # moto's targets write it as ISO 8601 (seconds)
        "region": region,
        "resources": [arn],
        "detail": {
            "Status": status,
            "EventDate": int(event.event_date.timestamp() * 1000),
            "ApplicationName": event.application_name,
            "Message": text or event.message,
            "EnvironmentName": event.environment_name,
            "Severity": event.severity,
        },
    }


@dataclass
class Delivery:
    """Best-effort delivery, as a test chooses: a share dropped, a share sent twice, all late by delay_s."""

    drop: float = 0.0
    duplicate: float = 0.0
    delay_s: float = 0.0
    rng: random.Random = field(default_factory=random.Random)

    @classmethod
    def chosen(cls, drop: float, duplicate: float, delay_s: float, seed: int | None) -> Delivery:
        for name, share in (("drop", drop), ("duplicate", duplicate)):
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"{name} must be a share within 0..1, got {share}")
        delay_s = control_numbers.seconds("delay_s", delay_s)
        return cls(drop, duplicate, delay_s, random.Random(seed))  # noqa: S311 - not for secrets

    def copies(self) -> int:
        """How many times the next event is sent: 0 (lost), 1, or 2 (duplicated)."""
        if self.drop and self.rng.random() < self.drop:
            return 0
        return 2 if self.duplicate and self.rng.random() < self.duplicate else 1

    def describe(self) -> dict[str, float]:
        return {"drop": self.drop, "duplicate": self.duplicate, "delay_s": self.delay_s}


@dataclass
class Outbox:
    """Entries waiting for their delivery time (the emulation's clock), oldest first."""

    pending: list[tuple[datetime, dict[str, Any]]] = field(default_factory=list)

    def add(self, item: dict[str, Any], due: datetime, copies: int) -> None:
        self.pending.extend((due, item) for _ in range(copies))

    def due(self, now: datetime) -> list[dict[str, Any]]:
        ready = [item for at, item in self.pending if at <= now]
        self.pending = [(at, item) for at, item in self.pending if at > now]
        return ready


def publish(messages: list[dict[str, Any]], account_id: str, region: str) -> None:
    """Hand each event to the enabled rules of moto's default bus that match it, as AWS's bus would: a
    target without an InputTransformer gets the whole event, one with a transformer what it renders."""
    if not messages:
        return
    from moto.events.models import events_backends

    bus = events_backends[account_id][region].describe_event_bus("default")
    for sent in messages:
        delivered: Any = {**sent, "ingestion-time": sent["time"]}  # moto's EventMessageType
        for rule in list(bus.rules.values()):
            if rule.state != "ENABLED" or not rule.event_pattern.matches_event(delivered):
                continue
            whole = all("InputTransformer" not in target for target in rule.targets)
            copy: Any = dict(delivered)  # moto's targets rewrite the time in place
            rule.send_to_targets(copy, transform_input=not whole)


def delay(delivery: Delivery) -> timedelta:
    return timedelta(seconds=delivery.delay_s)
