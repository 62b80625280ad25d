"""What one reconcile step decides, and the small pure moves every step makes with a record.

A decision is the new record, the actions to perform (after the record is saved), and when the next tick
runs: `DONE` (nothing further), `CONTINUE` (the next step can be decided at once, in this invocation) or
`RequeueAfter(seconds)` (a re-check, queued on SQS with that delay).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from controller.core.actions import Action, ReleaseLease
from controller.core.config import Config
from controller.core.model import Deployment, Status, StepName, StepStatus
from controller.core.observation import HttpCheck, Need

_T = TypeVar("_T")

# The longest a re-check can be put off: SQS's DelaySeconds allows 0..900.
MAX_DELAY_S = 900


@dataclass(frozen=True)
class Done:
    """No further tick."""


@dataclass(frozen=True)
class ContinueNow:
    """Decide the next step at once."""


@dataclass(frozen=True)
class RequeueAfter:
    """Look again after this many seconds."""

    seconds: int


Next = Done | ContinueNow | RequeueAfter
DONE = Done()
CONTINUE = ContinueNow()


@dataclass(frozen=True)
class Decision:
    deployment: Deployment
    actions: tuple[Action, ...] = ()
    next: Next = DONE


def wait(d: Deployment, seconds: float) -> Decision:
    return Decision(d, next=RequeueAfter(max(0, int(seconds))))


def wait_or_fail(
    d: Deployment, now: datetime, waited: float, limit_s: int, reason: str, config: Config
) -> Decision:
    """Look again later (backing off) while `waited` is within `limit_s`; past it, fail with `reason`."""
    if waited > limit_s:
        return fail(d, now, reason)
    return wait(d, backoff(waited, config))


def await_beanstalk(
    d: Deployment, now: datetime, waited: float, limit_s: int, reason: str, config: Config
) -> Decision:
    """Wait for something Beanstalk announces on EventBridge (an operation ending, health changing): its
    event wakes the deployment at once; the safety poll looks anyway every `safety_poll_s`, in case the
    event was lost, and right after `limit_s`. Past `limit_s`, fail with `reason`."""
    if waited > limit_s:
        return fail(d, now, reason)
    return wait(d, safety_poll(waited, limit_s, config))


def safety_poll(waited: float, limit_s: int, config: Config) -> int:
    """Seconds until the safety poll of a wait that Beanstalk's events end: `safety_poll_s`, or just past
    the wait's limit when that comes first."""
    return max(1, min(config.safety_poll_s, int(limit_s - waited) + 1))


def advance(d: Deployment, now: datetime, name: StepName, detail: str) -> Decision:
    """Mark step `name` succeeded and start the next one; the next tick may follow at once."""
    return _finish_step(d, now, name, StepStatus.SUCCEEDED, detail)


def skip(d: Deployment, now: datetime, name: StepName, detail: str) -> Decision:
    """Mark step `name` as not applying to this deployment and start the next one."""
    return _finish_step(d, now, name, StepStatus.SKIPPED, detail)


def succeed(d: Deployment, now: datetime) -> Decision:
    done = dataclasses.replace(d, status=Status.SUCCEEDED, updated_at=now, error=None)
    return Decision(done, (ReleaseLease(d.id, succeeded=True),))


def fail(d: Deployment, now: datetime, reason: str, events: tuple[str, ...] = ()) -> Decision:
    """The deployment ends `failed` with the reason on its current step; the lease is released."""
    step = d.current_step
    failed = dataclasses.replace(
        d, status=Status.FAILED, updated_at=now, error=reason, failure_events=d.failure_events + events
    )
    if step is not None and step.status is not StepStatus.FAILED:
        failed = failed.with_step(
            step.name,
            status=StepStatus.FAILED,
            started_at=step.started_at or now,
            finished_at=now,
            detail=reason,
        )
    return Decision(failed, (ReleaseLease(d.id, succeeded=False),))


def warn(d: Deployment, now: datetime, warning: str) -> Deployment:
    """The deployment goes on, and the record says what people should look at (once)."""
    if warning in d.warnings:
        return d
    return dataclasses.replace(d, warnings=(*d.warnings, warning), updated_at=now)


def note(d: Deployment, now: datetime, name: StepName, detail: str) -> Deployment:
    """The running step's detail (what it waits for), shown live to the CI client."""
    if d.step(name).detail == detail:
        return d
    return dataclasses.replace(d.with_step(name, detail=detail), updated_at=now)


def health_problem(check: HttpCheck, label: str | None) -> str | None:
    """None when `GET /health` answered 200 with the expected version, else what was wrong."""
    if check.error is not None:
        return f"GET {check.url}: {check.error}"
    if check.status != 200:
        return f"GET {check.url}: HTTP {check.status}"
    if check.version != label:
        return f"GET {check.url}: version {check.version!r}, expected {label!r}"
    return None


class MissingObservation(ValueError):
    """The shell called reconcile without an observation the step needs (a programming error)."""


def require(value: _T | None, need: Need) -> _T:
    if value is None:
        raise MissingObservation(f"reconcile needs the {need.value} observation")
    return value


def backoff(elapsed_s: float, config: Config) -> int:
    """Poll at POLL_INTERVAL_S at first, then at half the time waited so far, at most 8x the interval."""
    return int(min(config.max_poll_interval_s, max(config.poll_interval_s, elapsed_s / 2)))


def elapsed(since: datetime | None, now: datetime) -> float:
    return 0.0 if since is None else (now - since).total_seconds()


def _finish_step(d: Deployment, now: datetime, name: StepName, status: StepStatus, detail: str) -> Decision:
    step = d.step(name)
    done = d.with_step(name, status=status, started_at=step.started_at or now, finished_at=now, detail=detail)
    done = dataclasses.replace(done, updated_at=now)
    following = done.current_step
    if following is None:
        return Decision(done, next=CONTINUE)
    return Decision(done.with_step(following.name, status=StepStatus.RUNNING, started_at=now), next=CONTINUE)
