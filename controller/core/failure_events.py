"""Which of Beanstalk's ERROR/FATAL events belong to this deployment's update (pure).

Beanstalk stamps the events of an operation with the RequestId of the call that started it. When the
UpdateEnvironment's answer arrived, its RequestId is in the record and an event that carries an id matches
exactly on it. When the answer was lost (5xx, timeout: no id known), or an event carries no id, an event
matches when it is about pre-production, not about another version, and not older than the request.
"""

from __future__ import annotations

from datetime import timedelta

from controller.core.model import Deployment
from controller.core.observation import EventView

FAILURE_SEVERITIES = frozenset({"ERROR", "FATAL"})
# Events are stamped by Beanstalk's clock; allow for a little skew against ours.
EVENT_SKEW = timedelta(seconds=5)


def matching_failures(events: tuple[EventView, ...], d: Deployment) -> tuple[str, ...]:
    """The messages of this update's failure events, oldest first."""
    if d.deploy_requested_at is None:
        return ()
    return tuple(
        e.message
        for e in sorted(events, key=lambda e: e.date)
        if e.severity in FAILURE_SEVERITIES and _ours(e, d)
    )


def _ours(e: EventView, d: Deployment) -> bool:
    if d.update_request_id is not None and e.request_id is not None:
        return e.request_id == d.update_request_id
    assert d.deploy_requested_at is not None
    return (
        e.environment_name in (None, d.preprod_env)
        and e.version_label in (None, d.version_label)
        and e.date >= d.deploy_requested_at - EVENT_SKEW
    )
