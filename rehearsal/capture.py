"""Every `aws.elasticbeanstalk` event, caught by a catch-all EventBridge rule into a CloudWatch Logs log
group, as an operator would keep them: EventBridge delivers these events on a best-effort basis, and the log
group is where the report reads them back from."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .teardown import gone_if_missing

PATTERN = {"source": ["aws.elasticbeanstalk"]}


@dataclass(frozen=True)
class Capture:
    log_group: str
    rule: str


@dataclass(frozen=True)
class Names:
    log_group: str
    rule: str
    policy: str


def names(prefix: str) -> Names:
    return Names(f"/aws/events/{prefix}-beanstalk", f"{prefix}-beanstalk-events", f"{prefix}-events-to-logs")


def start(prefix: str, clients: Any, account: str, region: str) -> Capture:
    logs = clients.client("logs")
    events = clients.client("events")
    named = names(prefix)
    group, rule, policy = named.log_group, named.rule, named.policy
    logs.create_log_group(logGroupName=group)
    group_arn = f"arn:aws:logs:{region}:{account}:log-group:{group}"
    logs.put_resource_policy(
        policyName=policy,
        policyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": ["events.amazonaws.com", "delivery.logs.amazonaws.com"]},
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": f"{group_arn}:*",
                    }
                ],
            }
        ),
    )
    events.put_rule(Name=rule, EventPattern=json.dumps(PATTERN), State="ENABLED")
    events.put_targets(Rule=rule, Targets=[{"Id": "log-group", "Arn": group_arn}])
    return Capture(group, rule)


def read(capture: Capture, clients: Any, since_ms: int) -> list[dict[str, Any]]:
    """Every event the log group holds since `since_ms`, in the order Beanstalk wrote them."""
    logs = clients.client("logs")
    found: list[dict[str, Any]] = []
    for page in logs.get_paginator("filter_log_events").paginate(
        logGroupName=capture.log_group, startTime=since_ms
    ):
        for entry in page.get("events", []):
            try:
                found.append(json.loads(entry["message"]))
            except ValueError:
                continue
    return sorted(found, key=lambda event: event.get("detail", {}).get("EventDate", 0))


def delete(prefix: str, clients: Any, what: str) -> None:
    """Delete one of the capture's parts (`rule`, `policy`, `log group`), whether or not it exists."""
    named = names(prefix)
    logs = clients.client("logs")
    if what == "rule":
        _delete_rule(clients.client("events"), named.rule)
    elif what == "policy":
        gone_if_missing(
            lambda: logs.delete_resource_policy(policyName=named.policy), "ResourceNotFoundException"
        )
    else:
        gone_if_missing(
            lambda: logs.delete_log_group(logGroupName=named.log_group), "ResourceNotFoundException"
        )


def _delete_rule(events: Any, rule: str) -> None:
    def remove_targets() -> None:
        ids = [target["Id"] for target in events.list_targets_by_rule(Rule=rule)["Targets"]]
        if ids:
            events.remove_targets(Rule=rule, Ids=ids)

    gone_if_missing(remove_targets, "ResourceNotFoundException")
    gone_if_missing(lambda: events.delete_rule(Name=rule), "ResourceNotFoundException")
