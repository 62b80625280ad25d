"""The requests about one deployment: `POST /deployments/{id}/rollback`, `.../promote` and `.../abort`.

Rollback swaps production back, when that is still safe (core.rollback: the standby is rollback_ready,
its instances all running its version, core.standby; `force` skips that). The decision is saved first,
taking the application's lease and forgetting its `last_succeeded_id`, with a new tick chain; then the swap
is requested once (single attempt), and a tick of that chain follows the deployment until production's name
answers the previous version (steps.swap). A refusal puts everything back as it was: the deployment is
succeeded again and still the one a rollback may undo. A tick that cannot be queued leaves the rollback
unverified, said in its record.

Promote and abort record what was asked, and have the deployment act on it now. The request is decided
(core.steps.promotion) and saved, conditional on the record's version (a tick that saved meanwhile makes
the request decide again), together with a new tick chain named in the record; then a tick of that chain
is queued. The deployment's previous chain stops at its next message, so exactly one
chain drives it. If that tick cannot be queued, the record goes back to its previous chain, which finds
the request at its next tick (the request stays recorded; only its promptness is lost), and the answer says
so with a 503 (500 when the queue refuses us).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from controller.core.decision import RequeueAfter
from controller.core.model import Deployment, Status
from controller.core.observation import ActionOutcome
from controller.core.rollback import decide_rollback, rollback_refused, rollback_unverified
from controller.core.steps import promotion
from controller.shell import aws_errors, logline, observe, perform
from controller.shell.runtime import Runtime
from controller.shell.store import LeaseChange, LeaseKind, LeaseLost, StaleRecord
from controller.shell.tick_queue import new_chain


@dataclass(frozen=True)
class Refused:
    status: int
    reason: str


ATTEMPTS = 3  # decisions in a row that lose to a tick saving the same deployment before giving up

Decide = Callable[[Deployment, datetime], "Deployment | str"]


def rollback(deployment_id: str, rt: Runtime, force: bool = False) -> Deployment | Refused:
    d = rt.store.get(deployment_id)
    if d is None:
        return Refused(404, f"no deployment {deployment_id}")
    now = rt.clock()
    lease, environments = rt.store.lease(d.application), observe.environments(rt)
    # Is its target clean? Read before deciding, so a refusal gives every reason (core.standby).
    target = None if force or d.status is not Status.SUCCEEDED else d.prod_env
    previous = () if target is None else observe.instances(target, rt)
    decision = decide_rollback(d, lease, environments, now, rt.config, force, previous)
    if isinstance(decision, str):
        return Refused(409, decision)
    chain = new_chain()
    try:
        saved = rt.store.save(
            dataclasses.replace(decision.deployment, chain=chain), now, LeaseChange(LeaseKind.ROLLBACK)
        )
    except StaleRecord:
        return Refused(409, "the deployment changed meanwhile (another rollback?); look again and retry")
    except LeaseLost:
        return Refused(409, "another deployment took the application's lease meanwhile; look again and retry")
    logline.transitions(d, saved)
    for action in decision.actions:
        result = perform.perform(action, saved, rt)
        if result.outcome in (ActionOutcome.NOT_DONE, ActionOutcome.REFUSED):
            # The CNAMEs did not move: the deployment is succeeded again, and what a rollback may undo.
            refused = rollback_refused(saved, now, result.message)
            rt.store.save(refused, now, LeaseChange(LeaseKind.ROLLBACK_UNDONE))
            logline.transitions(saved, refused)
            return Refused(409, f"Beanstalk refused the swap: {result.message}")
    delay = decision.next.seconds if isinstance(decision.next, RequeueAfter) else 0
    try:
        rt.enqueue(saved.id, delay, chain)
    except Exception as error:
        classified = aws_errors.classify(error, "SendMessage")
        if classified is None:
            raise
        unverified = rollback_unverified(saved, rt.clock(), str(classified))
        with contextlib.suppress(StaleRecord, LeaseLost):  # a tick got there first: it verifies
            saved = rt.store.release(unverified.deployment, now, succeeded=False)[0]
            logline.transitions(unverified.deployment, saved)
    return saved


def promote(deployment_id: str, rt: Runtime) -> Deployment | Refused:
    return _request(deployment_id, rt, promotion.promotion_requested, "promotion")


def abort(deployment_id: str, rt: Runtime) -> Deployment | Refused:
    return _request(deployment_id, rt, promotion.abort_requested, "abort")


def _request(deployment_id: str, rt: Runtime, decide: Decide, what: str) -> Deployment | Refused:
    for _ in range(ATTEMPTS):
        d = rt.store.get(deployment_id)
        if d is None:
            return Refused(404, f"no deployment {deployment_id}")
        now = rt.clock()
        decided = decide(d, now)
        if isinstance(decided, str):
            return Refused(409, decided)
        if decided == d:
            return d  # asked before, and not acted on yet: nothing more to record
        chain = new_chain()
        lease = LeaseChange(LeaseKind.RENEW) if decided.holds_lease else None
        try:
            saved = rt.store.save(dataclasses.replace(decided, chain=chain), now, lease)
        except StaleRecord:
            continue
        except LeaseLost:
            return Refused(409, f"deployment {d.id} no longer holds the application's lease (it expired)")
        logline.transitions(d, saved)
        logline.emit(what, deployment_id=saved.id, status=saved.status.value)
        try:
            rt.enqueue(saved.id, 0, chain)
        except Exception as error:
            return _unscheduled(d, saved, error, rt, what)
        return saved
    return Refused(409, f"deployment {deployment_id} kept changing meanwhile; look at it again and retry")


def _unscheduled(before: Deployment, saved: Deployment, error: Exception, rt: Runtime, what: str) -> Refused:
    classified = aws_errors.classify(error, "SendMessage")
    if classified is None:
        raise error
    now = rt.clock()
    lease = LeaseChange(LeaseKind.RENEW) if saved.holds_lease else None
    with contextlib.suppress(StaleRecord, LeaseLost):  # a tick saved first: its chain drives it anyway
        rt.store.save(dataclasses.replace(saved, chain=before.chain), now, lease)
    status = 503 if classified.transient else 500
    return Refused(
        status,
        f"the {what} of deployment {saved.id} is recorded, but its tick could not be queued ({classified}); "
        "the deployment acts on it at its next check",
    )
