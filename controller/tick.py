"""One reconcile tick: load, observe, decide (pure), save, act, requeue. Safe to run twice or late.

The decision is saved (conditional on the record version) before any action that changes Beanstalk runs,
so of two ticks that loaded the same record only one performs it. Steps that need no waiting continue in
the same invocation; each kind of observation is fetched at most once per tick (one DescribeEnvironments,
one DescribeEvents), and a step that would need a second one goes back to the queue instead.
"""

from __future__ import annotations

import contextlib
import dataclasses

from controller import logline, observe, perform, reconcile
from controller.actions import WRITE_AHEAD, AcquireLease, ReleaseLease
from controller.model import Deployment, Status
from controller.observation import Need, Observed
from controller.runtime import Runtime
from controller.store import LeaseChange, LeaseLost, StaleRecord

MAX_STEPS_PER_TICK = 10


def run(deployment_id: str, rt: Runtime) -> None:
    d = rt.store.get(deployment_id)
    if d is None:
        logline.emit("tick_ignored", deployment_id=deployment_id, reason="unknown deployment")
        return
    if d.finished:
        logline.emit("tick_ignored", deployment_id=d.id, reason=f"deployment is {d.status.value}")
        return
    observed = Observed()
    fetched: set[Need] = set()
    for _ in range(MAX_STEPS_PER_TICK):
        now = rt.clock()
        while (need := reconcile.next_need(d, observed, now, rt.config)) is not None:
            if need in fetched:  # already observed once this tick: let the next tick look again
                rt.enqueue(d.id, 0)
                return
            observed = observe.fetch(need, d, observed, rt)
            fetched.add(need)
        decision = reconcile.reconcile(d, observed, now, rt.config)
        saved = _save(d, decision, rt)
        if saved is None:
            return
        d = saved
        observed = dataclasses.replace(observed, action_failure=None)
        for action in decision.actions:
            if isinstance(action, AcquireLease | ReleaseLease):
                continue
            observed = perform.perform(action, d, observed, rt)
            if observed.action_failure is not None:
                break
        if observed.action_failure is not None:
            continue  # the next step records the refusal as the failure
        if d.finished:
            _wake_next(d, rt)
            return
        if decision.requeue_after is None:
            return
        if decision.requeue_after > 0 or any(isinstance(a, WRITE_AHEAD) for a in decision.actions):
            rt.enqueue(d.id, decision.requeue_after)
            return
    rt.enqueue(d.id, 0)


def _save(before: Deployment, decision: reconcile.Decision, rt: Runtime) -> Deployment | None:
    """Persist the decided record (None: another tick owns this deployment now, do nothing)."""
    after = decision.deployment
    lease = _lease_change(before, decision)
    if after == before and lease is None:
        return before
    now = rt.clock()
    try:
        saved = rt.store.save(after, now, lease)
    except StaleRecord:
        logline.emit("tick_superseded", deployment_id=before.id, reason="record changed by another tick")
        return None
    except LeaseLost:
        if lease is not None and lease.kind == "acquire":
            logline.emit("lease_busy", deployment_id=before.id)
            rt.enqueue(before.id, rt.config.poll_interval_s)
            return None
        lost = reconcile.lease_lost(before, now)
        logline.transitions(before, lost)
        with contextlib.suppress(StaleRecord):
            rt.store.save(lost, now)
        return None
    logline.transitions(before, saved)
    return saved


def _lease_change(before: Deployment, decision: reconcile.Decision) -> LeaseChange | None:
    for action in decision.actions:
        if isinstance(action, AcquireLease):
            return LeaseChange("acquire")
        if isinstance(action, ReleaseLease):
            return LeaseChange("release", succeeded=action.succeeded)
    if decision.deployment.status is Status.RUNNING and decision.deployment != before:
        return LeaseChange("renew")
    return None


def _wake_next(d: Deployment, rt: Runtime) -> None:
    """A finished deployment hands over at once to the newest waiting notification, if any."""
    newest = rt.store.lease(d.application).newest_id
    if newest is not None and newest != d.id:
        rt.enqueue(newest, 0)
