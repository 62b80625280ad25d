"""The pure reconcile step: (deployment, observed, now, config) -> Decision.

Level-triggered and idempotent: the same inputs give the same decision, a finished deployment decides
nothing, and an action that changes Beanstalk is only decided when the record shows it was not decided
before (the shell saves the decision before performing it, then feeds the action's answer back here).
Above all, once `swap_requested_at` is set no decision ever contains another SwapCNAMEs for the forward
swap; the swap back (`swap_back`) is the only other one.

The steps live in `steps/`: `drain` (production's users have left pre-production), `preprod` (deploy and
wait until healthy), `checks` (smoke test, verification), `promotion` (the promote step, promotion and abort
requests), `swap` (the swap and the swap back), `bake` (watching production before success), with
`analysis` (the metric analysis of verify and the bake).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime

from controller.core.actions import AcquireLease, CreateVersion, SwapCNAMEs, UpdateEnvironment
from controller.core.analysis.metrics import MetricRequest
from controller.core.analysis.window import analysis_request, drain_request
from controller.core.config import Config
from controller.core.decision import (
    CONTINUE,
    Decision,
    advance,
    backoff,
    elapsed,
    fail,
    note,
    require,
    succeed,
    wait,
)
from controller.core.model import Deployment, Status, StepName, StepStatus
from controller.core.observation import ActionOutcome, ActionResult, Need, Observed
from controller.core.steps import analysis, bake, checks, drain, preprod, promotion, swap
from controller.core.steps.load_balancers import missing, remember

Step = Callable[[Deployment, Observed, datetime, Config], Decision]


def next_need(d: Deployment, observed: Observed, now: datetime, config: Config) -> Need | None:
    """The next observation the current step needs before it can decide, or None when it has enough."""
    for need in _needs(d, observed, now, config):
        if getattr(observed, need.value) is None:
            return need
    return None


def wanted_load_balancers(d: Deployment, observed: Observed, config: Config) -> tuple[str, ...]:
    """The environments whose load balancer the current step needs and the record does not know."""
    step = d.current_step
    if step is None or d.finished:
        return ()
    if step.name is StepName.DRAIN:
        return missing(d, drain.wanted_load_balancers(observed, config))
    if step.name in (StepName.VERIFY, StepName.BAKE):
        return analysis.wanted_load_balancers(d)
    return ()


def metric_request(d: Deployment, observed: Observed, now: datetime, config: Config) -> MetricRequest | None:
    """The GetMetricData request of the current step (the drain's, or the analysis')."""
    step = d.current_step
    if step is None or d.finished:
        return None
    known = remember(d, observed)
    if step.name is StepName.DRAIN:
        pair = drain.wanted_load_balancers(observed, config)
        load_balancer = known.load_balancer(pair[0]) if pair else None
        return drain_request(known, load_balancer, now, config) if load_balancer else None
    if step.name in (StepName.VERIFY, StepName.BAKE):
        return analysis_request(known, now, config)
    return None


def reconcile(d: Deployment, observed: Observed, now: datetime, config: Config) -> Decision:
    if d.finished:
        return Decision(d)
    if observed.action_result is not None:
        return _absorb(d, observed.action_result, now, config)
    if d.abort_requested_at is not None:
        return promotion.aborted(d, observed, now, config)
    if d.status is Status.QUEUED:
        return _queued(d, observed, now, config)
    if d.swap_back is not None:
        return swap.swap_back(d, observed, now, config)
    step = d.current_step
    if step is None:  # every step passed but the status was not saved as such
        return succeed(d, now)
    return _STEPS[step.name](d, observed, now, config)


def woken_by(d: Deployment, environment: str) -> bool:
    """Whether Beanstalk's news about `environment` can move this deployment now: it waits for the
    environments to be Ready, for its update to end on pre-production, or watches production in the bake."""
    step = d.current_step
    if not d.holds_lease or d.swap_back is not None or d.abort_requested_at is not None or step is None:
        return False
    if step.name is StepName.DEPLOY_PREPROD:
        return True
    return step.name in (StepName.WAIT_READY, StepName.BAKE) and environment == d.preprod_env


def lease_lost(d: Deployment, now: datetime) -> Deployment:
    """The lease expired and another deployment took it: this one stops where it is."""
    return fail(d, now, "the application's lease expired and was taken by another deployment").deployment


def aws_refused(d: Deployment, now: datetime, error: str) -> Decision:
    """AWS refused a call the deployment cannot go on without (access denied, a missing resource...): it
    fails with the error and releases the lease."""
    where = ""
    if d.swap_requested_at is not None and d.swap_back is None:
        where = f"; production may already be on {d.preprod_env} ({d.version_label})"
    return fail(d, now, f"AWS refused a call: {error}{where}")


# --- observations each step needs -------------------------------------------------------------------


def _needs(d: Deployment, observed: Observed, now: datetime, config: Config) -> tuple[Need, ...]:
    if d.finished or observed.action_result is not None:
        return ()
    if d.abort_requested_at is not None:
        return promotion.abort_needs(d)
    if d.status is Status.QUEUED:
        return (Need.LEASE,)
    if d.swap_back is not None:
        return swap.swap_back_needs(d, observed, config)
    step = d.current_step
    if step is None:
        return ()
    if step.name is StepName.WAIT_READY and preprod.events_needed(d, observed, now, config):
        if preprod.instances_needed(d, observed):
            return (Need.ENVIRONMENTS, Need.EVENTS, Need.INSTANCES)
        return (Need.ENVIRONMENTS, Need.EVENTS)
    if step.name is StepName.BAKE:
        return bake.needs(d, observed, now, config)
    if step.name is StepName.DRAIN:
        return drain.needs(d, observed, now, config)
    if step.name is StepName.VERIFY:
        return checks.verify_needs(d, observed, now, config)
    if step.name is StepName.SWAP:
        return swap.swap_needs(d, config)
    if step.name is StepName.DEPLOY_PREPROD:
        return preprod.deploy_needs(d, observed, now, config)
    return _STEP_NEEDS[step.name]


_STEP_NEEDS: dict[StepName, tuple[Need, ...]] = {
    StepName.CREATE_VERSION: (Need.VERSION,),
    StepName.WAIT_READY: (Need.ENVIRONMENTS,),
    StepName.SMOKE_TEST: (Need.SMOKE,),
    StepName.PROMOTE: (),
}


# --- queued ---------------------------------------------------------------------------------------------


def _queued(d: Deployment, observed: Observed, now: datetime, config: Config) -> Decision:
    lease = require(observed.lease, Need.LEASE)
    if lease.newest_id is not None and lease.newest_id != d.id:
        superseded = dataclasses.replace(
            d, status=Status.SUPERSEDED, updated_at=now, error=f"superseded by {lease.newest_id}"
        )
        return Decision(superseded)
    if lease.held_by_other(d.id, now):
        return wait(d, backoff(elapsed(d.created_at, now), config))
    running = dataclasses.replace(d, status=Status.RUNNING, updated_at=now)
    running = running.with_step(StepName.CREATE_VERSION, status=StepStatus.RUNNING, started_at=now)
    return Decision(running, (AcquireLease(d.id),), CONTINUE)


# --- create_version -------------------------------------------------------------------------------------


def _create_version(d: Deployment, observed: Observed, now: datetime, config: Config) -> Decision:
    version = require(observed.version, Need.VERSION)
    image_ref = f"{d.image}:{d.tag}"
    if not version.exists:
        return Decision(d, (CreateVersion(d.version_label, d.image, d.tag),), CONTINUE)
    if version.image != image_ref:
        return fail(d, now, f"version {d.version_label} already exists for another image ({version.image})")
    return advance(d, now, StepName.CREATE_VERSION, f"version {d.version_label} for {image_ref}")


def _absorb_version(d: Deployment, result: ActionResult, now: datetime, config: Config) -> Decision:
    if result.outcome is ActionOutcome.DONE:
        detail = f"version {d.version_label} for {d.image}:{d.tag}"
        return advance(d, now, StepName.CREATE_VERSION, detail)
    if result.outcome is ActionOutcome.REFUSED and "already exists" not in result.message:
        return fail(d, now, f"CreateApplicationVersion was refused: {result.message}")
    # Lost, refused for now, or made meanwhile by another attempt: the next tick looks at the version.
    detail = f"CreateApplicationVersion: {result.message}; looking again"
    return wait(note(d, now, StepName.CREATE_VERSION, detail), config.poll_interval_s)


# --- dispatch ---------------------------------------------------------------------------------------------


def _absorb(d: Deployment, result: ActionResult, now: datetime, config: Config) -> Decision:
    """Feed an action's answer back into the record (what to do about a lost or refused call)."""
    if isinstance(result.action, CreateVersion):
        return _absorb_version(d, result, now, config)
    if isinstance(result.action, UpdateEnvironment):
        return preprod.absorb_update(d, result, now, config)
    if isinstance(result.action, SwapCNAMEs):
        return swap.absorb_swap(d, result, now, config)
    return wait(d, config.poll_interval_s)


_STEPS: dict[StepName, Step] = {
    StepName.CREATE_VERSION: _create_version,
    StepName.DRAIN: drain.drain,
    StepName.DEPLOY_PREPROD: preprod.deploy_preprod,
    StepName.WAIT_READY: preprod.wait_ready,
    StepName.SMOKE_TEST: checks.smoke_test,
    StepName.PROMOTE: promotion.promote,
    StepName.SWAP: swap.swap,
    StepName.VERIFY: checks.verify,
    StepName.BAKE: bake.bake,
}
