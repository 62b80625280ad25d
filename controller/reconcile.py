"""The pure reconcile step: (deployment, observed, now, config) -> Decision.

Level-triggered and idempotent: the same inputs give the same decision, a finished deployment decides
nothing, and an action that changes Beanstalk is only decided when the record shows it was not decided
before (the shell saves the decision before performing it). Above all, once `swap_requested_at` is set no
decision ever contains another SwapCNAMEs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from controller import topology
from controller.actions import (
    AbortUpdate,
    AcquireLease,
    Action,
    CreateVersion,
    ReleaseLease,
    SwapCNAMEs,
    UpdateEnvironment,
)
from controller.config import Config
from controller.model import Deployment, Status, Step, StepName, StepStatus
from controller.observation import EnvironmentView, EventView, HttpCheck, Need, Observed

_T = TypeVar("_T")

FAILURE_SEVERITIES = frozenset({"ERROR", "FATAL"})
IN_PROGRESS = frozenset({"Launching", "Updating", "Aborting"})
VERIFY_WINDOW_S = 120
# Events are stamped by Beanstalk's clock; allow for a little skew against ours.
EVENT_SKEW = timedelta(seconds=5)


@dataclass(frozen=True)
class Decision:
    deployment: Deployment
    actions: tuple[Action, ...] = ()
    requeue_after: int | None = None  # seconds until the next tick; None: no further tick


class MissingObservation(ValueError):
    """The shell called reconcile without an observation the step needs (a programming error)."""


def next_need(d: Deployment, observed: Observed, now: datetime, config: Config) -> Need | None:
    """The next observation the current step needs before it can decide, or None when it has enough."""
    for need in _needs(d, observed, now, config):
        if getattr(observed, need.value) is None:
            return need
    return None


def _needs(d: Deployment, observed: Observed, now: datetime, config: Config) -> tuple[Need, ...]:
    if d.finished or observed.action_failure is not None:
        return ()
    if d.status is Status.QUEUED:
        return (Need.LEASE,)
    step = d.current_step
    if step is None:
        return ()
    if step.name is StepName.CREATE_VERSION:
        return (Need.VERSION,)
    if step.name in (StepName.DEPLOY_PREPROD, StepName.SWAP):
        return (Need.ENVIRONMENTS,)
    if step.name is StepName.WAIT_READY:
        if observed.environments is not None and _events_needed(d, observed.environments, now, config):
            return (Need.ENVIRONMENTS, Need.EVENTS)
        return (Need.ENVIRONMENTS,)
    if step.name is StepName.SMOKE_TEST:
        return (Need.SMOKE,)
    return (Need.VERIFY,)


def _events_needed(
    d: Deployment, environments: tuple[EnvironmentView, ...], now: datetime, config: Config
) -> bool:
    """Failure events are read once the update stops progressing normally (settled, Red, timed out):
    a quiet poll during a healthy update costs one DescribeEnvironments only."""
    env = topology.find(environments, d.preprod_env)
    if env is None:
        return False
    if env.status not in IN_PROGRESS or env.health == "Red":
        return True
    return _elapsed(d.deploy_requested_at, now) > config.deploy_timeout_s


def reconcile(d: Deployment, observed: Observed, now: datetime, config: Config) -> Decision:
    if d.finished:
        return Decision(d)
    if observed.action_failure is not None:
        failure = observed.action_failure
        return _fail(d, now, f"{failure.action} was refused: {failure.message}")
    if d.status is Status.QUEUED:
        return _queued(d, observed, now, config)
    step = d.current_step
    if step is None:  # every step succeeded but the status was not saved as such
        return _succeed(d, now)
    handler = _STEPS[step.name]
    return handler(d, observed, now, config)


# --- queued -------------------------------------------------------------------------------------------


def _queued(d: Deployment, observed: Observed, now: datetime, config: Config) -> Decision:
    lease = _require(observed.lease, Need.LEASE)
    if lease.newest_id is not None and lease.newest_id != d.id:
        superseded = dataclasses.replace(
            d, status=Status.SUPERSEDED, updated_at=now, error=f"superseded by {lease.newest_id}"
        )
        return Decision(superseded)
    if lease.held_by_other(d.id, now):
        return Decision(d, requeue_after=_backoff(_elapsed(d.created_at, now), config))
    running = dataclasses.replace(d, status=Status.RUNNING, updated_at=now)
    running = running.with_step(StepName.CREATE_VERSION, status=StepStatus.RUNNING, started_at=now)
    return Decision(running, (AcquireLease(d.id),), requeue_after=0)


# --- steps --------------------------------------------------------------------------------------------


def _create_version(d: Deployment, observed: Observed, now: datetime, config: Config) -> Decision:
    version = _require(observed.version, Need.VERSION)
    image_ref = f"{d.image}:{d.tag}"
    if not version.exists:
        return Decision(d, (CreateVersion(d.version_label, d.image, d.tag),), requeue_after=0)
    if version.image != image_ref:
        return _fail(d, now, f"version {d.version_label} already exists for another image ({version.image})")
    return _advance(d, now, StepName.CREATE_VERSION, f"version {d.version_label} for {image_ref}")


def _deploy_preprod(d: Deployment, observed: Observed, now: datetime, config: Config) -> Decision:
    environments = _require(observed.environments, Need.ENVIRONMENTS)
    pair = topology.resolve(environments, config.prod_cname_prefix, config.region)
    if isinstance(pair, str):
        return _fail(d, now, pair)
    pre, prod = pair.preproduction, pair.production
    started = d.step(StepName.DEPLOY_PREPROD).started_at
    if pre.status != "Ready":
        if _elapsed(started, now) > config.deploy_timeout_s:
            return _fail(d, now, f"pre-production {pre.name} did not become Ready (still {pre.status})")
        return Decision(d, requeue_after=_backoff(_elapsed(started, now), config))
    placed = dataclasses.replace(
        d,
        preprod_env=pre.name,
        preprod_cname=pre.cname,
        prod_env=prod.name,
        prod_cname=prod.cname,
        previous_label=prod.version_label,
        deploy_requested_at=now,
    )
    advanced = _advance(placed, now, StepName.DEPLOY_PREPROD, f"{pre.name} -> {d.version_label}")
    return dataclasses.replace(
        advanced,
        actions=(UpdateEnvironment(pre.name, d.version_label),),
        requeue_after=config.poll_interval_s,
    )


def _wait_ready(d: Deployment, observed: Observed, now: datetime, config: Config) -> Decision:
    environments = _require(observed.environments, Need.ENVIRONMENTS)
    env = topology.find(environments, d.preprod_env)
    if env is None:
        return _fail(d, now, f"pre-production environment {d.preprod_env} is gone")
    elapsed = _elapsed(d.deploy_requested_at, now)
    updating = env.status in IN_PROGRESS
    abort: tuple[Action, ...] = (AbortUpdate(env.name),) if updating else ()
    if observed.events is not None:
        failures = matching_failures(observed.events, d)
        if failures:
            failed = _fail(d, now, f"{env.name} reported a failure: {failures[0]}", failures)
            return dataclasses.replace(failed, actions=abort + failed.actions)
    if updating:
        if elapsed > config.deploy_timeout_s:
            failed = _fail(
                d, now, f"{env.name} still {env.status} after {config.deploy_timeout_s} s; update aborted"
            )
            return dataclasses.replace(failed, actions=abort + failed.actions)
        return Decision(d, requeue_after=_backoff(elapsed, config))
    if env.status != "Ready":
        return _fail(d, now, f"{env.name} is {env.status}")
    if env.version_label != d.version_label:
        if _untouched_since_request(env, d):
            # Beanstalk has not changed the environment since the update was decided: the request never
            # reached it (the tick failed between saving the decision and calling). Request it again.
            again = dataclasses.replace(d, deploy_requested_at=now, updated_at=now)
            action = UpdateEnvironment(env.name, d.version_label)
            return Decision(again, (action,), requeue_after=config.poll_interval_s)
        return _fail(
            d,
            now,
            f"{env.name} is Ready on {env.version_label}, not {d.version_label}: "
            "Beanstalk rolled the update back",
        )
    if env.health in config.accepted_health:
        return _advance(d, now, StepName.WAIT_READY, f"{env.name} Ready/{env.health} on {d.version_label}")
    if env.health == "Red":
        return _fail(d, now, f"{env.name} is Red after the update to {d.version_label}")
    if elapsed > config.deploy_timeout_s:
        return _fail(
            d,
            now,
            f"{env.name} health stayed {env.health} (accepted: {','.join(sorted(config.accepted_health))})",
        )
    return Decision(d, requeue_after=_backoff(elapsed, config))


def _smoke_test(d: Deployment, observed: Observed, now: datetime, config: Config) -> Decision:
    check = _require(observed.smoke, Need.SMOKE)
    problem = _health_problem(check, d.version_label)
    if problem:
        return _fail(d, now, f"smoke test failed: {problem}")
    return _advance(d, now, StepName.SMOKE_TEST, f"GET {check.url}: 200, version {d.version_label}")


def _swap(d: Deployment, observed: Observed, now: datetime, config: Config) -> Decision:
    environments = _require(observed.environments, Need.ENVIRONMENTS)
    new, old = topology.find(environments, d.preprod_env), topology.find(environments, d.prod_env)
    if new is None or old is None:
        return _fail(d, now, f"environment {d.preprod_env if new is None else d.prod_env} is gone")
    owner = topology.production_owner(environments, config.prod_cname_prefix, config.region)
    both_ready = new.status == "Ready" and old.status == "Ready"
    started = d.step(StepName.SWAP).started_at
    waited = _elapsed(started, now)
    if d.swap_requested_at is None:
        if owner is not None and owner.name == new.name:
            if both_ready:
                return _advance(d, now, StepName.SWAP, f"production CNAME already on {new.name}")
        elif owner is None or owner.name != old.name:
            return _fail(
                d, now, f"production CNAME is on {owner.name if owner else 'nothing'}, expected {old.name}"
            )
        elif both_ready:
            requested = dataclasses.replace(d, swap_requested_at=now, updated_at=now)
            return Decision(
                requested, (SwapCNAMEs(new.name, old.name),), requeue_after=config.poll_interval_s
            )
        if waited > config.deploy_timeout_s:
            return _fail(d, now, f"{new.name} ({new.status}), {old.name} ({old.status}) never both Ready")
        return Decision(d, requeue_after=_backoff(waited, config))
    # The swap was requested: observe where production's CNAME is, never request it again.
    if owner is not None and owner.name == new.name and both_ready:
        return _advance(d, now, StepName.SWAP, f"production CNAME on {new.name}")
    # A pending swap looks like no swap (both Ready, CNAME unchanged): only time tells them apart, and
    # waiting is always safe, so the deployment waits up to DEPLOY_TIMEOUT_S, then fails untouched.
    if _elapsed(d.swap_requested_at, now) > config.deploy_timeout_s:
        where = owner.name if owner is not None else "on no environment"
        return _fail(
            d,
            now,
            f"the CNAME swap did not take effect within {config.deploy_timeout_s} s; production: {where}",
        )
    return Decision(d, requeue_after=_backoff(_elapsed(d.swap_requested_at, now), config))


def _verify(d: Deployment, observed: Observed, now: datetime, config: Config) -> Decision:
    check = _require(observed.verify, Need.VERIFY)
    problem = _health_problem(check, d.version_label)
    if problem is None:
        done = _advance(d, now, StepName.VERIFY, f"GET {check.url}: version {d.version_label}")
        return _succeed(done.deployment, now)
    if _elapsed(d.step(StepName.VERIFY).started_at, now) < VERIFY_WINDOW_S:
        return Decision(d, requeue_after=config.poll_interval_s)
    return _fail(d, now, f"production does not serve {d.version_label}: {problem}")


_STEPS = {
    StepName.CREATE_VERSION: _create_version,
    StepName.DEPLOY_PREPROD: _deploy_preprod,
    StepName.WAIT_READY: _wait_ready,
    StepName.SMOKE_TEST: _smoke_test,
    StepName.SWAP: _swap,
    StepName.VERIFY: _verify,
}


def lease_lost(d: Deployment, now: datetime) -> Deployment:
    """The lease expired and another deployment took it: this one stops where it is."""
    return _fail(d, now, "the application's lease expired and was taken by another deployment").deployment


# --- rollback -----------------------------------------------------------------------------------------


def decide_rollback(
    d: Deployment,
    lease_holder: str | None,
    lease_active: bool,
    last_succeeded_id: str | None,
    environments: tuple[EnvironmentView, ...],
    now: datetime,
    config: Config,
) -> Decision | str:
    """Swap production back to the previous environment, or the reason it is refused."""
    if d.status is not Status.SUCCEEDED:
        return f"deployment {d.id} is {d.status}; only a succeeded deployment can be rolled back"
    if last_succeeded_id != d.id:
        return f"only the latest succeeded deployment ({last_succeeded_id}) can be rolled back"
    if lease_active and lease_holder not in (None, d.id):
        return f"deployment {lease_holder} is running"
    previous, current = topology.find(environments, d.prod_env), topology.find(environments, d.preprod_env)
    if previous is None or current is None:
        return f"environment {d.prod_env if previous is None else d.preprod_env} is gone"
    owner = topology.production_owner(environments, config.prod_cname_prefix, config.region)
    if owner is None or owner.name != current.name:
        return f"production CNAME is not on {current.name} any more"
    if previous.status != "Ready" or current.status != "Ready":
        return f"{previous.name} is {previous.status}, {current.name} is {current.status}; both must be Ready"
    if previous.version_label != d.previous_label:
        return f"{previous.name} runs {previous.version_label}, not the previous version {d.previous_label}"
    rolled = dataclasses.replace(
        d, status=Status.ROLLED_BACK, updated_at=now, error=None, swap_requested_at=now
    )
    return Decision(rolled, (SwapCNAMEs(previous.name, current.name),))


def rollback_refused(d: Deployment, now: datetime, message: str) -> Deployment:
    """Beanstalk refused the rollback swap: the deployment is succeeded again, with the reason."""
    return dataclasses.replace(
        d, status=Status.SUCCEEDED, updated_at=now, error=f"rollback refused: {message}"
    )


# --- details ------------------------------------------------------------------------------------------


def matching_failures(events: tuple[EventView, ...], d: Deployment) -> tuple[str, ...]:
    """ERROR/FATAL events of pre-production since the update was requested, for this version (or none)."""
    if d.deploy_requested_at is None:
        return ()
    return tuple(
        e.message
        for e in sorted(events, key=lambda e: e.date)
        if e.severity in FAILURE_SEVERITIES
        and e.date >= d.deploy_requested_at - EVENT_SKEW
        and e.environment_name in (None, d.preprod_env)
        and e.version_label in (None, d.version_label)
    )


def _untouched_since_request(env: EnvironmentView, d: Deployment) -> bool:
    return (
        env.date_updated is not None
        and d.deploy_requested_at is not None
        and env.date_updated < d.deploy_requested_at - EVENT_SKEW
    )


def _health_problem(check: HttpCheck, label: str) -> str | None:
    if check.error is not None:
        return f"GET {check.url}: {check.error}"
    if check.status != 200:
        return f"GET {check.url}: HTTP {check.status}"
    if check.version != label:
        return f"GET {check.url}: version {check.version!r}, expected {label!r}"
    return None


def _advance(d: Deployment, now: datetime, name: StepName, detail: str) -> Decision:
    """Mark step `name` succeeded and start the next one; the next tick may follow at once."""
    done = d.with_step(name, status=StepStatus.SUCCEEDED, finished_at=now, detail=detail)
    done = dataclasses.replace(done, updated_at=now)
    following = done.current_step
    if following is None:
        return Decision(done, requeue_after=0)
    return Decision(
        done.with_step(following.name, status=StepStatus.RUNNING, started_at=now), requeue_after=0
    )


def _succeed(d: Deployment, now: datetime) -> Decision:
    done = dataclasses.replace(d, status=Status.SUCCEEDED, updated_at=now, error=None)
    return Decision(done, (ReleaseLease(d.id, succeeded=True),))


def _fail(d: Deployment, now: datetime, reason: str, events: tuple[str, ...] = ()) -> Decision:
    step: Step | None = d.current_step
    failed = dataclasses.replace(
        d, status=Status.FAILED, updated_at=now, error=reason, failure_events=d.failure_events + events
    )
    if step is not None:
        failed = failed.with_step(
            step.name,
            status=StepStatus.FAILED,
            started_at=step.started_at or now,
            finished_at=now,
            detail=reason,
        )
    return Decision(failed, (ReleaseLease(d.id, succeeded=False),))


def _backoff(elapsed: float, config: Config) -> int:
    """Poll at POLL_INTERVAL_S at first, then at half the time waited so far, at most 8x the interval."""
    return int(min(config.max_poll_interval_s, max(config.poll_interval_s, elapsed / 2)))


def _elapsed(since: datetime | None, now: datetime) -> float:
    return 0.0 if since is None else (now - since).total_seconds()


def _require(value: _T | None, need: Need) -> _T:
    if value is None:
        raise MissingObservation(f"reconcile needs the {need.value} observation")
    return value
