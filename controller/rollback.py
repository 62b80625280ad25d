"""`POST /deployments/{id}/rollback`: swap production back, when that is still safe.

The decision (decide_rollback) is saved first, with the lease's `last_succeeded_id` forgotten, then the
swap is requested once (single attempt). A refusal puts both back as they were: the deployment is
succeeded again and still the one a rollback may undo.
"""

from __future__ import annotations

from dataclasses import dataclass

from controller import logline, observe, perform
from controller.decide_rollback import decide_rollback, rollback_refused, rollback_unanswered
from controller.model import Deployment
from controller.observation import ActionOutcome
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
    decision = decide_rollback(d, rt.store.lease(d.application), observe.environments(rt), now, rt.config)
    if isinstance(decision, str):
        return Refused(409, decision)
    try:
        saved = rt.store.save(decision.deployment, now, LeaseChange(LeaseKind.FORGET_SUCCESS))
    except (StaleRecord, LeaseLost):
        return Refused(409, "the deployment changed meanwhile (another rollback?); look again and retry")
    logline.transitions(d, saved)
    for action in decision.actions:
        result = perform.perform(action, saved, rt)
        if result.outcome is ActionOutcome.UNKNOWN:
            saved = rt.store.save(rollback_unanswered(saved, now, result.message), now)
        elif result.outcome is not ActionOutcome.DONE:
            # The CNAMEs did not move: the deployment is succeeded again, and what a rollback may undo.
            refused = rollback_refused(saved, now, result.message)
            rt.store.save(refused, now, LeaseChange(LeaseKind.RESTORE_SUCCESS))
            logline.transitions(saved, refused)
            return Refused(409, f"Beanstalk refused the swap: {result.message}")
    return saved
