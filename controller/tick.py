"""One reconcile tick: load, observe, decide (pure), save, act, requeue. Safe to run twice or late.

The decision is saved (conditional on the record version) before any action that changes Beanstalk runs,
so of two ticks that loaded the same record only one performs it. Steps that need no waiting continue in
the same invocation; each kind of observation is fetched at most once per tick (one DescribeEnvironments,
one DescribeEvents), and a step that would need a second one goes back to the queue instead.

Each message names its tick chain (`chain`): requeues continue the chain of the tick that sent them. When
a queued deployment takes the lease, its record keeps that chain, and ticks of any other chain (a kick
from a finishing deployment, a repeated POST, the polls while it waited) stop there: one chain drives a
running deployment, so extra messages do not multiply into extra polling. A redelivered message carries
its chain and is handled as usual.
"""

from __future__ import annotations

import contextlib
import dataclasses

from controller import logline, observe, perform, reconcile
from controller.actions import WRITE_AHEAD, AcquireLease, ReleaseLease
from controller.model import Deployment, Status
from controller.observation import Need, Observed
from controller.runtime import Runtime, new_chain
from controller.store import LeaseChange, LeaseKind, LeaseLost, StaleRecord

MAX_STEPS_PER_TICK = 10


def run(deployment_id: str, rt: Runtime, chain: str | None = None) -> None:
    saved = rt.store.get(deployment_id)
    if saved is None:
        logline.emit("tick_ignored", deployment_id=deployment_id, reason="unknown deployment")
        return
    if saved.finished:
        logline.emit("tick_ignored", deployment_id=saved.id, reason=f"deployment is {saved.status.value}")
        return
    chain = chain or new_chain()
    if saved.chain is not None and saved.chain != chain:
        logline.emit(
            "tick_ignored", deployment_id=saved.id, reason="another tick chain drives this deployment"
        )
        return
    _Tick(saved, rt, chain).run()


class _Tick:
    """One invocation's state: the last saved record, the decided one, and what was observed."""

    def __init__(self, saved: Deployment, rt: Runtime, chain: str) -> None:
        self.chain = chain
        self.saved = saved
        self.d = saved
        self.rt = rt
        self.observed = Observed()
        self.fetched: set[Need] = set()
        self.unlogged: list[tuple[Deployment, Deployment]] = []

    def run(self) -> None:
        rt = self.rt
        for _ in range(MAX_STEPS_PER_TICK):
            now = rt.clock()
            while (need := reconcile.next_need(self.d, self.observed, now, rt.config)) is not None:
                if need in self.fetched:  # observed once this tick already: the next tick looks again
                    if self.save(None):
                        rt.enqueue(self.d.id, 0, self.chain)
                    return
                self.observed = observe.fetch(need, self.d, self.observed, rt)
                self.fetched.add(need)
            decision = reconcile.reconcile(self.d, self.observed, now, rt.config)
            self.unlogged.append((self.d, decision.deployment))
            self.d = decision.deployment
            if any(isinstance(a, AcquireLease) for a in decision.actions):
                self.d = dataclasses.replace(self.d, chain=self.chain)
            ends_tick = decision.requeue_after != 0 or self.d.finished
            lease = _lease_change(decision)
            # Save before anything that changes Beanstalk or the lease, and before the tick ends; steps that
            # follow each other at once are saved together.
            if (
                lease is not None or ends_tick or any(isinstance(a, WRITE_AHEAD) for a in decision.actions)
            ) and (not self.save(lease)):
                return
            self.observed = dataclasses.replace(self.observed, action_failure=None)
            for action in decision.actions:
                if isinstance(action, AcquireLease | ReleaseLease):
                    continue
                self.observed = perform.perform(action, self.d, self.observed, rt)
                if self.observed.action_failure is not None:
                    break
            if self.observed.action_failure is not None:
                continue  # the next step records the refusal as the failure
            if self.d.finished:
                _wake_next(self.d, rt)
                return
            if decision.requeue_after is None:
                return
            if ends_tick or any(isinstance(a, WRITE_AHEAD) for a in decision.actions):
                rt.enqueue(self.d.id, decision.requeue_after, self.chain)
                return
        if self.save(None):
            rt.enqueue(self.d.id, 0, self.chain)

    def save(self, lease: LeaseChange | None) -> bool:
        """Persist the decided record if it changed; False when another tick owns the deployment now."""
        if self.d == self.saved and lease is None:
            self.unlogged.clear()
            return True
        if lease is None and self.d.status is Status.RUNNING:
            lease = LeaseChange(LeaseKind.RENEW)
        now = self.rt.clock()
        try:
            self.saved = self.d = self.rt.store.save(
                dataclasses.replace(self.d, record_version=self.saved.record_version), now, lease
            )
        except StaleRecord:
            logline.emit("tick_superseded", deployment_id=self.d.id, reason="record changed by another tick")
            return False
        except LeaseLost:
            if lease is not None and lease.kind is LeaseKind.ACQUIRE:
                logline.emit("lease_busy", deployment_id=self.d.id)
                self.rt.enqueue(self.d.id, self.rt.config.poll_interval_s, self.chain)
                return False
            lost = reconcile.lease_lost(self.saved, now)
            logline.transitions(self.saved, lost)
            with contextlib.suppress(StaleRecord):
                self.rt.store.save(lost, now)
            return False
        for before, after in self.unlogged:
            logline.transitions(before, after)
        self.unlogged.clear()
        return True


def _lease_change(decision: reconcile.Decision) -> LeaseChange | None:
    for action in decision.actions:
        if isinstance(action, AcquireLease):
            return LeaseChange(LeaseKind.ACQUIRE)
        if isinstance(action, ReleaseLease):
            return LeaseChange(LeaseKind.RELEASE, succeeded=action.succeeded)
    return None


def _wake_next(d: Deployment, rt: Runtime) -> None:
    """A finished deployment hands over at once to the newest waiting notification, if any."""
    newest = rt.store.lease(d.application).newest_id
    if newest is not None and newest != d.id:
        rt.enqueue(newest, 0)
