"""Beanstalk's events wake the deployment that holds the application's lease.

An event for one of this application's environments (see beanstalk_events) names no deployment: the one
running is the lease's holder. `tick.wake` then looks at it now; whatever it decides, polling remains the
safety net, so an event that cannot be handled (a lease that cannot be read) is dropped, not retried.
"""

from __future__ import annotations

from controller.core.decision import DONE, Next
from controller.shell import aws_errors, logline, tick
from controller.shell.beanstalk_events import BeanstalkEvent
from controller.shell.runtime import Runtime


def run(event: BeanstalkEvent, rt: Runtime) -> Next:
    if event.application != rt.config.eb_application or not event.is_news:
        _ignored(event, f"not news for {rt.config.eb_application}")
        return DONE
    try:
        holder = rt.store.lease(event.application).holder
        if holder is None:
            _ignored(event, "no deployment is running")
            return DONE
        logline.emit(
            "wake", deployment_id=holder, environment=event.environment, status=event.status, id=event.id
        )
        return tick.wake(holder, event.environment, rt)
    except Exception as error:
        classified = aws_errors.classify(error)
        if classified is None:
            raise
        logline.emit("wake_failed", id=event.id, error=str(classified))
        return DONE


def _ignored(event: BeanstalkEvent, reason: str) -> None:
    logline.emit(
        "wake_ignored",
        environment=event.environment,
        status=event.status,
        id=event.id,
        reason=reason,
    )
