"""Beanstalk's events as EventBridge delivers them to the reconcile queue (the rule `BeanstalkEventsRule`
in .chalice/resources.json sends them as they are, with no input transformer):

    {"version": "0", "id": "...", "detail-type": "Elastic Beanstalk resource status change",
     "source": "aws.elasticbeanstalk", "account": "...", "time": "...", "region": "...",
     "resources": ["arn:aws:elasticbeanstalk:<region>:<account>:environment/<application>/<environment>"],
     "detail": {"Status": "Environment update successful", "EventDate": 1795694400000,
                "ApplicationName": "...", "EnvironmentName": "...", "Message": "...", "Severity": "INFO"}}

Only the statuses in NEWS can end a wait of a deployment (an operation that ended, health that changed, an
environment going away); the rule delivers only those, and the controller checks again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

SOURCE = "aws.elasticbeanstalk"
DETAIL_TYPES = ("Elastic Beanstalk resource status change", "Health status change")
NEWS = (
    "Environment creation successful",
    "Environment update successful",
    "Environment update failed",
    "Environment health changed",
    "Environment termination started",
    "Environment termination successful",
)
# An operation ended: what DescribeEnvironments shows should have changed (it may lag behind the event).
OPERATION_ENDS = (
    "Environment creation successful",
    "Environment update successful",
    "Environment update failed",
)


@dataclass(frozen=True)
class BeanstalkEvent:
    id: str
    detail_type: str
    status: str
    application: str
    environment: str
    message: str

    @property
    def is_news(self) -> bool:
        return self.status in NEWS

    @property
    def ends_operation(self) -> bool:
        return self.status in OPERATION_ENDS


def parse(body: str) -> BeanstalkEvent | None:
    """The event, or None when the body is not one of Beanstalk's events about an environment."""
    try:
        fields = json.loads(body)
    except ValueError:
        return None
    if not isinstance(fields, dict) or fields.get("source") != SOURCE:
        return None
    detail = fields.get("detail")
    if not isinstance(detail, dict):
        return None
    texts = (
        _text(fields, "id"),
        _text(fields, "detail-type"),
        _text(detail, "Status"),
        _text(detail, "ApplicationName"),
        _text(detail, "EnvironmentName"),
    )
    if any(text is None for text in texts):
        return None
    event_id, detail_type, status, application, environment = (str(text) for text in texts)
    return BeanstalkEvent(
        event_id, detail_type, status, application, environment, _text(detail, "Message") or ""
    )


def _text(fields: dict[str, Any], name: str) -> str | None:
    value = fields.get(name)
    return value if isinstance(value, str) and value else None
