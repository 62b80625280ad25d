"""Deploy to pre-production and wait until it is Ready and healthy on the new version (pure).

UpdateEnvironment is decided once and saved before it is sent. What its answer said comes back through
`absorb_update`: accepted (its RequestId is kept to match failure events), lost (5xx, timeout: the next
tick looks), refused for now (busy, throttled: sent again once pre-production is Ready), or refused.
A request that never reached Beanstalk (pre-production untouched since) is sent again, at most
MAX_UPDATE_REQUESTS times in all.

Pre-production is only updated once production's users have left it (the drain step, before this one), and
never once it owns the production name (a swap while the update waited to be sent again).

Health outside ACCEPTED_HEALTH on the new version, Red included, is waited out for HEALTH_GRACE_S from the
first time the controller sees it Ready on that version: instances still registering read Red or Yellow.
Failure events of the update fail it at once.

Beanstalk announces what these waits wait for on EventBridge (the update ending, the environment launched,
health changing), and the event wakes the deployment (`wake` in shell/tick.py); the waits themselves only
schedule the safety poll for events that get lost: just after the end that pre-production's past updates let
expect (update_polls.py), else `safety_poll_s` apart. When the update lands, the record keeps how long it
took.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from controller.core import topology
from controller.core.actions import AbortUpdate, UpdateEnvironment
from controller.core.config import Config
from controller.core.decision import (
    Decision,
    RequeueAfter,
    advance,
    await_beanstalk,
    elapsed,
    fail,
    note,
    require,
    wait,
    wait_or_fail,
    warn,
)
from controller.core.failure_events import EVENT_SKEW, matching_failures
from controller.core.mixed_versions import mixed_versions
from controller.core.model import Deployment, StepName
from controller.core.observation import ActionOutcome, ActionResult, EnvironmentView, Need, Observed
from controller.core.steps import update_polls
from controller.core.steps.drain import dns_wait

MAX_UPDATE_REQUESTS = 3


def deploy_needs(d: Deployment, observed: Observed, now: datetime, config: Config) -> tuple[Need, ...]:
    """The environments; and, once pre-production can be updated now, what its past updates took."""
    if observed.environments is None:
        return (Need.ENVIRONMENTS,)
    pair = topology.resolve(
        observed.environments, config.prod_cname_prefix, config.region, config.preprod_cname_prefix
    )
    if isinstance(pair, str) or pair.preproduction.status != "Ready":
        return (Need.ENVIRONMENTS,)
    return (Need.ENVIRONMENTS, Need.HISTORY)


def deploy_preprod(d: Deployment, observed: Observed, now: datetime, config: Config) -> Decision:
    environments = require(observed.environments, Need.ENVIRONMENTS)
    pair = topology.resolve(
        environments, config.prod_cname_prefix, config.region, config.preprod_cname_prefix
    )
    if isinstance(pair, str):
        return fail(d, now, pair)
    pre, prod = pair.preproduction, pair.production
    waited = elapsed(d.step(StepName.DEPLOY_PREPROD).started_at, now)
    if pre.status != "Ready":
        waiting = note(d, now, StepName.DEPLOY_PREPROD, f"waiting for {pre.name} to be Ready ({pre.status})")
        reason = f"pre-production {pre.name} did not become Ready (still {pre.status})"
        return await_beanstalk(waiting, now, waited, config.deploy_timeout_s, reason, config)
    expected = update_polls.expected_update_s(require(observed.history, Need.HISTORY), pre.name)
    placed = dataclasses.replace(
        d,
        preprod_env=pre.name,
        preprod_cname=pre.cname,
        preprod_endpoint=pre.endpoint_url or None,
        prod_env=prod.name,
        prod_cname=prod.cname,
        prod_endpoint=prod.endpoint_url or None,
        previous_label=prod.version_label,
        expected_update_s=None if expected is None else expected[0],
        update_spread_s=0.0 if expected is None else expected[1],
    )
    running = prod.version_label or "no application version"  # an environment launched without one
    detail = f"{pre.name} -> {d.version_label} (production {prod.name} runs {running})"
    advanced = advance(placed, now, StepName.DEPLOY_PREPROD, detail)
    return request_update(advanced.deployment, now, config)


def wait_ready(d: Deployment, observed: Observed, now: datetime, config: Config) -> Decision:
    environments = require(observed.environments, Need.ENVIRONMENTS)
    env = topology.find(environments, d.preprod_env)
    if env is None:
        return fail(d, now, f"pre-production environment {d.preprod_env} is gone")
    if d.deploy_requested_at is None:
        return _request_when_ready(d, env, environments, now, config)
    if observed.events is not None:
        failures = matching_failures(observed.events, d)
        if failures:
            reason = f"{env.name} reported a failure: {failures[0]}"
            return _aborting(fail(_not_clean(d, env, observed, now), now, reason, failures), env)
    waited = elapsed(d.deploy_requested_at, now)
    if env.busy:
        if waited > config.deploy_timeout_s:
            reason = f"{env.name} still {env.status} after {config.deploy_timeout_s} s; update aborted"
            return _aborting(fail(d, now, reason), env)
        return wait(d, _next_look(d, waited, config))
    if env.status != "Ready":
        return fail(d, now, f"{env.name} is {env.status}")
    if env.version_label != d.version_label:
        if not _untouched_since_request(env, d):
            return fail(
                _not_clean(d, env, observed, now),
                now,
                f"{env.name} is Ready on {env.version_label}, not {d.version_label}: "
                "Beanstalk rolled the update back",
            )
        # Beanstalk has not changed the environment since the update was decided: the request never
        # reached it (the tick failed between saving and calling, or the call's answer was lost).
        if d.update_requests >= MAX_UPDATE_REQUESTS:
            return fail(
                d,
                now,
                f"UpdateEnvironment was sent {d.update_requests} times and {env.name} never started the "
                f"update (still on {env.version_label})",
            )
        return request_update(d, now, config)
    return _healthy(_timed(d, env, now), env, now, config)


def instances_needed(d: Deployment, observed: Observed) -> bool:
    """Pre-production's instances are read when the update settled without landing (failed, rolled back):
    some instances may keep the new version (core.mixed_versions)."""
    if observed.environments is None or d.deploy_requested_at is None:
        return False
    env = topology.find(observed.environments, d.preprod_env)
    if env is None or env.busy or env.status != "Ready":
        return False
    failures = observed.events is not None and bool(matching_failures(observed.events, d))
    rolled_back = env.version_label != d.version_label and not _untouched_since_request(env, d)
    return failures or rolled_back


def events_needed(d: Deployment, observed: Observed, now: datetime, config: Config) -> bool:
    """Failure events are read once the update stops progressing normally (settled, Red, timed out):
    a quiet poll during a healthy update costs one DescribeEnvironments only."""
    if observed.environments is None or d.deploy_requested_at is None:
        return False
    env = topology.find(observed.environments, d.preprod_env)
    if env is None:
        return False
    if not env.busy or env.health == "Red":
        return True
    return elapsed(d.deploy_requested_at, now) > config.deploy_timeout_s


def request_update(d: Deployment, now: datetime, config: Config) -> Decision:
    """Send UpdateEnvironment (again): saved first, so its answer, if lost, is looked for next tick."""
    assert d.preprod_env is not None
    requested = dataclasses.replace(
        d,
        deploy_requested_at=now,
        update_request_id=None,
        update_requests=d.update_requests + 1,
        preprod_ready_at=None,
        updated_at=now,
    )
    return Decision(
        requested,
        (UpdateEnvironment(d.preprod_env, d.version_label),),
        RequeueAfter(config.poll_interval_s),
    )


def absorb_update(d: Deployment, result: ActionResult, now: datetime, config: Config) -> Decision:
    """What UpdateEnvironment answered."""
    if result.outcome is ActionOutcome.DONE:
        accepted = dataclasses.replace(d, update_request_id=result.request_id, updated_at=now)
        return wait(accepted, _next_look(accepted, 0, config))
    if result.outcome is ActionOutcome.UNKNOWN:
        detail = f"UpdateEnvironment's answer was lost ({result.message}); looking at {d.preprod_env} next"
        return wait(note(d, now, StepName.WAIT_READY, detail), config.poll_interval_s)
    if result.outcome is ActionOutcome.NOT_DONE:
        deferred = dataclasses.replace(
            d, deploy_requested_at=None, update_requests=max(0, d.update_requests - 1), updated_at=now
        )
        detail = f"UpdateEnvironment refused for now ({result.message}); asking again once it is Ready"
        return wait(note(deferred, now, StepName.WAIT_READY, detail), config.poll_interval_s)
    return fail(d, now, f"UpdateEnvironment was refused: {result.message}")


def _request_when_ready(
    d: Deployment,
    env: EnvironmentView,
    environments: tuple[EnvironmentView, ...],
    now: datetime,
    config: Config,
) -> Decision:
    """The last UpdateEnvironment was refused for now: send it once pre-production is Ready, unless it has
    become production meanwhile (a swap), and not within DNS_TTL_S of its last change (a swap and back
    meanwhile would have sent it users again; the drain was before)."""
    owner = topology.production_owner(environments, config.prod_cname_prefix, config.region)
    if owner is not None and owner.name == env.name:
        return fail(
            d,
            now,
            f"{env.name} owns the production CNAME now (swapped since it was chosen as pre-production); "
            f"{d.version_label} was not deployed to it",
        )
    cached = dns_wait(env, now, config)
    if env.status == "Ready" and cached > 0:
        return wait(d, cached)
    if env.status == "Ready":
        return request_update(d, now, config)
    waited = elapsed(d.step(StepName.WAIT_READY).started_at, now)
    reason = f"{env.name} stayed {env.status}; the update could not be sent"
    return wait_or_fail(d, now, waited, config.deploy_timeout_s, reason, config)


def _healthy(d: Deployment, env: EnvironmentView, now: datetime, config: Config) -> Decision:
    """Ready on the new version: go on when its health is accepted, wait out the grace otherwise."""
    if env.health in config.accepted_health:
        return advance(d, now, StepName.WAIT_READY, f"{env.name} Ready/{env.health} on {d.version_label}")
    accepted = ",".join(sorted(config.accepted_health, key=len))
    since = d.preprod_ready_at or now
    waited = elapsed(since, now)
    if waited >= config.health_grace_s:
        return fail(
            d,
            now,
            f"{env.name} is Ready on {d.version_label} but its health stayed {env.health} "
            f"for {int(waited)} s (accepted: {accepted}; HEALTH_GRACE_S={config.health_grace_s})",
        )
    seen = (
        d if d.preprod_ready_at is not None else dataclasses.replace(d, preprod_ready_at=now, updated_at=now)
    )
    detail = (
        f"{env.name} Ready/{env.health} on {d.version_label}; "
        f"waiting up to {config.health_grace_s} s for {accepted}"
    )
    remaining = config.health_grace_s - waited
    return wait(note(seen, now, StepName.WAIT_READY, detail), max(1, min(config.safety_poll_s, remaining)))


def _next_look(d: Deployment, waited: float, config: Config) -> int:
    """When the safety poll looks at the update next (its events wake the deployment sooner)."""
    return update_polls.next_look_s(
        d.expected_update_s, d.update_spread_s, waited, config.deploy_timeout_s, config
    )


def _timed(d: Deployment, env: EnvironmentView, now: datetime) -> Deployment:
    """The record with how long its update took (first seen landed): from the request to Beanstalk's
    DateUpdated, which marks the landing whenever the controller looks."""
    if d.update_s is not None or d.deploy_requested_at is None:
        return d
    landed = env.date_updated if env.date_updated is not None else now
    if landed < d.deploy_requested_at:
        landed = now
    return dataclasses.replace(d, update_s=(landed - d.deploy_requested_at).total_seconds(), updated_at=now)


def _not_clean(d: Deployment, env: EnvironmentView, observed: Observed, now: datetime) -> Deployment:
    """The failing record, with a warning when the update left some of pre-production's instances on the
    new version: it is no clean pre-production, nor a rollback target, until its next full deployment."""
    mixed = None if observed.instances is None else mixed_versions(env, observed.instances)
    if mixed is None:
        return d
    return warn(d, now, f"pre-production is not clean after this failed update: {mixed}")


def _aborting(failed: Decision, env: EnvironmentView) -> Decision:
    """A failed update still in progress is aborted (pre-production goes back to its previous version)."""
    if not env.busy:
        return failed
    return dataclasses.replace(failed, actions=(AbortUpdate(env.name), *failed.actions))


def _untouched_since_request(env: EnvironmentView, d: Deployment) -> bool:
    return (
        env.date_updated is not None
        and d.deploy_requested_at is not None
        and env.date_updated < d.deploy_requested_at - EVENT_SKEW
    )
