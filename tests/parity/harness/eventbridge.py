"""Beanstalk's EventBridge events, caught as a user would catch them: a rule on the default bus matching
`{"source": ["aws.elasticbeanstalk"]}` whose target is an SQS queue the suite reads.

AWS delivers these events on a best-effort basis (its EventBridge reference says so), so a read waits for
the event an operation ends with and gives up after the target's patience.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .ledger import Ledger, gone_if_missing
from .targets import Target
from .waiting import WaitedTooLong, wait_until

PATTERN = {"source": ["aws.elasticbeanstalk"]}


@dataclass
class EventCapture:
    target: Target
    ledger: Ledger
    seen: list[dict[str, Any]] = field(default_factory=list)
    queue_url: str = ""

    @classmethod
    def start(cls, target: Target, ledger: Ledger) -> EventCapture:
        capture = cls(target, ledger)
        capture._arrange()
        return capture

    def _arrange(self) -> None:
        sqs = self.target.client("sqs", attempts=5)
        events = self.target.client("events", attempts=5)
        name = self.ledger.name("eb-events")
        self.ledger.will_create(
            f"SQS queue {name}",
            lambda: gone_if_missing(
                lambda: sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"]),
                "AWS.SimpleQueueService.NonExistentQueue",
                "QueueDoesNotExist",
            ),
        )
        self.queue_url = sqs.create_queue(QueueName=name, tags={self.ledger.tag["Key"]: self.ledger.prefix})[
            "QueueUrl"
        ]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.ledger.will_create(f"EventBridge rule {name}", lambda: _delete_rule(events, name))
        rule_arn = events.put_rule(
            Name=name, EventPattern=json.dumps(PATTERN), State="ENABLED", Tags=self.ledger.tags
        )["RuleArn"]
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
                }
            ],
        }
        sqs.set_queue_attributes(QueueUrl=self.queue_url, Attributes={"Policy": json.dumps(policy)})
        events.put_targets(Rule=name, Targets=[{"Id": "parity-queue", "Arn": queue_arn}])

    def drain(self) -> list[dict[str, Any]]:
        """Every event delivered so far (read once, kept here)."""
        sqs = self.target.client("sqs", attempts=5)
        while True:
            got = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            messages = got.get("Messages", [])
            if not messages:
                return list(self.seen)
            for message in messages:
                self.seen.append(json.loads(message["Body"]))
            sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )

    def of(self, environment: str, since: datetime, until_status: str | None = None) -> list[dict[str, Any]]:
        """The events of `environment` since `since`; with `until_status`, once one with that detail Status
        has arrived (or the target's patience is out: then what arrived)."""

        def mine() -> list[dict[str, Any]]:
            floor = math.floor(since.timestamp() * 1000)  # EventDate is whole milliseconds
            return [
                event
                for event in self.drain()
                if event.get("detail", {}).get("EnvironmentName") == environment
                and float(event.get("detail", {}).get("EventDate", 0)) >= floor
            ]

        if until_status is None:
            return mine()
        try:
            return wait_until(
                mine,
                lambda found: any(e.get("detail", {}).get("Status") == until_status for e in found),
                f"the EventBridge event {until_status!r} of {environment}",
                min(self.target.patience_s, 300.0),
                self.target.poll_s,
            )
        except WaitedTooLong:
            return mine()


def _delete_rule(events: Any, name: str) -> None:
    def remove_targets() -> None:
        ids = [target["Id"] for target in events.list_targets_by_rule(Rule=name)["Targets"]]
        if ids:
            events.remove_targets(Rule=name, Ids=ids)

    gone_if_missing(remove_targets, "ResourceNotFoundException")
    gone_if_missing(lambda: events.delete_rule(Name=name), "ResourceNotFoundException")
