"""What each deployment did, read back from where AWS keeps it: its steps and their timings (the
deployment's record), the AWS calls the controller made for it (its functions' `aws_call` log lines in
CloudWatch Logs), and Beanstalk's events while it ran (the catch-all rule's log group)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

from .capture import Capture, read
from .scenarios import DeploymentRun

CALL_FILTER = '{ $.event = "aws_call" }'


def aws_calls(run: DeploymentRun, functions: tuple[str, ...], clients: Any) -> dict[str, Any] | None:
    """The controller's calls for this deployment in the run's window, by operation; None when its logs
    cannot be read (no function has a log group)."""
    from botocore.exceptions import ClientError

    logs = clients.client("logs")
    counted: Counter[str] = Counter()
    read_any = False
    for function in functions:
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=f"/aws/lambda/{function}",
            startTime=run.started_ms,
            endTime=run.until_ms - 1,  # inclusive; the next run's window starts there
            filterPattern=CALL_FILTER,
        )
        try:
            for page in pages:
                read_any = True
                for entry in page.get("events", []):
                    line = _json(entry.get("message", ""))
                    if line.get("event") == "aws_call" and line.get("deployment_id") == run.deployment_id:
                        counted[f"{line.get('service')}.{line.get('operation')}"] += 1
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
    if not read_any:
        return None
    return {"total": sum(counted.values()), "by_operation": dict(counted.most_common())}


def beanstalk_events(run: DeploymentRun, capture: Capture, clients: Any) -> list[dict[str, Any]]:
    """The catch-all rule's events that Beanstalk wrote while this deployment ran, each with the role
    (production, pre-production) the record gives its environment."""
    roles = {run.record.get("preprod_env"): "pre-production", run.record.get("prod_env"): "production"}
    found = []
    for event in read(capture, clients, run.started_ms):
        detail = event.get("detail", {})
        when = int(detail.get("EventDate", 0))
        if not run.started_ms <= when < run.until_ms:
            continue
        found.append(
            {
                "time": datetime.fromtimestamp(when / 1000).astimezone().isoformat(timespec="seconds"),
                "environment": detail.get("EnvironmentName"),
                "role": roles.get(detail.get("EnvironmentName"), "other"),
                "detail_type": event.get("detail-type"),
                "status": detail.get("Status"),
                "severity": detail.get("Severity"),
                "message": detail.get("Message"),
            }
        )
    return found


def steps(run: DeploymentRun) -> list[dict[str, Any]]:
    """The record's steps with how long each took (seconds; None for a step that did not run)."""
    found = []
    for step in run.record.get("steps", []):
        started, finished = _time(step.get("started_at")), _time(step.get("finished_at"))
        took = (finished - started).total_seconds() if started and finished else None
        found.append(
            {
                "name": step.get("name"),
                "status": step.get("status"),
                "seconds": None if took is None else round(took, 1),
                "detail": step.get("detail"),
            }
        )
    return found


def _time(text: Any) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
