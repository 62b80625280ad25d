"""`POST /deployments/{id}/rollback`: swap production back, when that is still safe."""

from __future__ import annotations

from dataclasses import dataclass

from controller import logline, observe, perform, reconcile
from controller.model import Deployment
from controller.observation import Observed
from controller.runtime import Runtime
from controller.store import LeaseChange, LeaseKind, LeaseLost, StaleRecord


@dataclass(frozen=True)
class Refused:
    status: int
    reason: str


def run(deployment_id: str, rt: Runtime) -> Deployment | Refused:
    d = rt.store.get(deployment_id)
    if d is None:
        return Refused(404, f"no deployment {deployment_id}")
    now = rt.clock()
    lease = rt.store.lease(d.application)
    decision = reconcile.decide_rollback(
        d,
        lease_holder=lease.holder,
        lease_active=lease.expires_at is not None and lease.expires_at > now,
        last_succeeded_id=lease.last_succeeded_id,
        environments=observe.environments(rt),
        now=now,
        config=rt.config,
    )
    if isinstance(decision, str):
        return Refused(409, decision)
    try:
        saved = rt.store.save(decision.deployment, now, LeaseChange(LeaseKind.FORGET_SUCCESS))
    except (StaleRecord, LeaseLost):
        return Refused(409, "the deployment changed meanwhile (another rollback?); look again and retry")
    logline.transitions(d, saved)
    observed = Observed()
    for action in decision.actions:
        observed = perform.perform(action, saved, observed, rt)
    if observed.action_failure is not None:
        # The CNAMEs did not move: the deployment is succeeded again, and what a rollback may undo.
        failed = reconcile.rollback_refused(saved, now, observed.action_failure.message)
        rt.store.save(failed, now, LeaseChange(LeaseKind.RESTORE_SUCCESS))
        return Refused(409, f"Beanstalk refused the swap: {observed.action_failure.message}")
    return saved
