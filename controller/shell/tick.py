"""One reconcile tick: observe until decidable, save, act, requeue. Safe to run twice or late.

    load -> [observe what the step needs -> decide (pure) -> save -> act -> feed the answer back]* -> requeue

The decision is saved (conditional on the record version) before any action that changes Beanstalk runs,
so of two ticks that loaded the same record only one performs it, and a tick that dies after saving leaves
a record that says what it was about to do (the next tick observes whether it happened). Steps that need
no waiting continue in the same invocation; each kind of observation is fetched at most once per tick, and
a step that would need a second one goes back to the queue instead. The tick ends with an explicit
`Next`: DONE (nothing scheduled: finished, or another tick owns the deployment) or RequeueAfter(seconds).

Errors of AWS calls are classified once (aws_errors): a transient one (throttling, 5xx, timeout) sends
the tick back to the queue with a growing delay; any other one fails the deployment with the error in its
record and releases the lease. Nothing is left `running` with no tick scheduled to move it. A tick that
runs out of its budget (deadline.py) records what it has (the answer of an action it could not send
included) and queues the next tick at once.

Each message names its tick chain (`chain`): requeues continue the chain of the tick that sent them. When
a queued deployment takes the lease, its record keeps that chain, and ticks of any other chain (a kick
from a finishing deployment, a repeated POST, the polls while it waited) stop there: one chain drives a
running deployment, so extra messages do not multiply into extra polling. A redelivered message carries
its chain and is handled as usual. A Beanstalk event wakes the deployment (`wake`): a tick that takes the
deployment over with a chain of its own only when it moves it on; a promote or abort request does the same
(interventions.py).

Nothing promises that DescribeEnvironments already shows what an event announced. When the end of an
operation wakes the deployment and it finds nothing new, the wake leaves a re-check (a message that is a
wake, not a tick of a chain) POLL_INTERVAL_S later, then 2x and 4x that, MAX_RECHECKS in all: a bounded
few looks, never a second polling loop.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Sequence
from datetime import datetime

from controller.core import announcements, digest, reconcile
from controller.core.actions import WRITE_AHEAD, AcquireLease, Action, ReleaseLease
from controller.core.announcements import Event
from controller.core.decision import DONE, ContinueNow, Decision, Done, Next, RequeueAfter
from controller.core.model import Deployment, Status
from controller.core.observation import HttpCheck, Need, Observed
from controller.shell import aws_errors, deadline, logline, observe, perform
from controller.shell.aws_errors import AwsError, ErrorKind
from controller.shell.beanstalk_events import BeanstalkEvent
from controller.shell.deadline import OutOfTime
from controller.shell.people import announce
from controller.shell.runtime import Runtime
from controller.shell.store import LeaseChange, LeaseKind, LeaseLost, StaleRecord
from controller.shell.tick_queue import TickMessage, new_chain

MAX_STEPS_PER_TICK = 10
MAX_TRANSIENT_RETRIES = 8  # transient errors in a row before the deployment fails with the last one
MAX_RECHECKS = 3  # of a quiet wake on the end of an operation


def run(message: TickMessage, rt: Runtime) -> Next:
    """Drive the deployment as far as it can go now; what this tick scheduled next."""
    if message.recheck is not None:
        return _recheck(message, message.recheck, rt)
    try:
        saved = rt.store.get(message.deployment_id)
    except Exception as error:
        classified = aws_errors.classify(error, "GetItem")
        if classified is None or not classified.transient:
            raise
        return _retry_later(message, rt, classified)
    if saved is None:
        logline.emit("tick_ignored", deployment_id=message.deployment_id, reason="unknown deployment")
        return DONE
    if saved.finished:  # nothing to decide; what it has not announced yet (a rollback by request) it does now
        _announce_finished(saved, rt)
        logline.emit("tick_ignored", deployment_id=saved.id, reason=f"deployment is {saved.status.value}")
        return DONE
    chain = message.chain or new_chain()
    if saved.chain is not None and saved.chain != chain:
        logline.emit(
            "tick_ignored", deployment_id=saved.id, reason="another tick chain drives this deployment"
        )
        return DONE
    return _Tick(saved, rt, chain, message.retry).run()


def wake(event: BeanstalkEvent, rt: Runtime) -> Next:
    """Beanstalk announced news about one of this application's environments: the deployment holding the
    application's lease (an event names no deployment) looks now instead of at its next poll.

    The wake is a tick of its own chain. When the deployment decides nothing new (the news changed nothing
    it waits for), the wake ends there, saving and scheduling nothing: the chain that drives the
    deployment carries on. When it moves the deployment on, the wake's chain takes over with its first
    save (the record names the driving chain) and the old chain's pending message ends where it arrives.
    Duplicated or late events are harmless: the deployment has moved on, or there is nothing new. Polling
    remains the safety net, so an event that cannot be handled (a lease that cannot be read) is dropped,
    not retried."""
    if event.application != rt.config.eb_application or not event.is_news:
        return _wake_ignored(event, f"not news for {rt.config.eb_application}")
    try:
        holder = rt.store.lease(event.application).holder
        if holder is None:
            return _wake_ignored(event, "no deployment is running")
        logline.emit(
            "wake", deployment_id=holder, environment=event.environment, status=event.status, id=event.id
        )
        saved = rt.store.get(holder)
        if saved is None or not reconcile.woken_by(saved, event.environment):
            reason = "unknown deployment" if saved is None else "not waiting for news of this environment"
            return _wake_ignored(event, reason, deployment_id=holder)
        recheck = TickMessage(saved.id, recheck=event.environment) if event.ends_operation else None
        return _Tick(saved, rt, new_chain(), 0, wakes=True, recheck=recheck).run()
    except Exception as error:
        classified = aws_errors.classify(error)
        if classified is None:
            raise
        logline.emit("wake_failed", id=event.id, error=str(classified))
        return DONE


def _recheck(message: TickMessage, environment: str, rt: Runtime) -> Next:
    """A quiet wake's re-check: a wake again, for the same environment, while the deployment still waits
    for its news."""
    try:
        saved = rt.store.get(message.deployment_id)
        if saved is None or not reconcile.woken_by(saved, environment):
            reason = "unknown deployment" if saved is None else "no longer waiting for news of it"
            logline.emit("recheck_ignored", deployment_id=message.deployment_id, reason=reason)
            return DONE
        logline.emit("recheck", deployment_id=saved.id, environment=environment, rechecks=message.rechecks)
        return _Tick(saved, rt, new_chain(), 0, wakes=True, recheck=message).run()
    except Exception as error:
        classified = aws_errors.classify(error)
        if classified is None:
            raise
        logline.emit("recheck_failed", deployment_id=message.deployment_id, error=str(classified))
        return DONE


def _wake_ignored(event: BeanstalkEvent, reason: str, **fields: str) -> Next:
    logline.emit(
        "wake_ignored",
        environment=event.environment,
        status=event.status,
        id=event.id,
        reason=reason,
        **fields,
    )
    return DONE


class _Tick:
    """One invocation's state: the last saved record, the decided one, and what was observed."""

    def __init__(
        self,
        saved: Deployment,
        rt: Runtime,
        chain: str,
        retry: int,
        wakes: bool = False,
        recheck: TickMessage | None = None,
    ) -> None:
        self.rt = rt
        self.chain = chain
        self.retry = retry
        self.saved = saved
        self.d = saved
        self.observed = Observed()
        self.fetched: set[Need] = set()
        self.unlogged: list[tuple[Deployment, Deployment]] = []
        self.waking = wakes  # a wake that has not taken the deployment over (yet)
        self.recheck = recheck  # what a quiet wake on the end of an operation checks again later
        self.released = False  # this tick gave the lease up, and so learnt ...
        self.waiting: str | None = None  # ... the newest notification waiting for it
        self.last_smoke: tuple[HttpCheck, ...] | None = None  # its last smoke round (a digest quotes it)
        self.claimed: list[Event] = []  # changes this tick's saves claimed, told before it ends

    def run(self) -> Next:
        try:
            with logline.about(self.d.id):
                return self._drive()
        except Exception as error:
            classified = aws_errors.classify(error)
            if classified is None:
                raise
            return self._after_error(classified)

    def _drive(self) -> Next:
        for _ in range(MAX_STEPS_PER_TICK):
            if deadline.current().recording and self.observed.action_result is None:
                return self._requeue(RequeueAfter(0))  # out of time: record, and the next tick goes on
            now = self.rt.clock()
            try:
                decidable = self._observe_until_decidable(now)
            except OutOfTime:
                return self._requeue(RequeueAfter(0))  # what was decided is saved; the next tick goes on
            if not decidable:
                return self._requeue(RequeueAfter(0))  # a second look of one kind: the next tick
            decision = reconcile.reconcile(self.d, self.observed, now, self.rt.config)
            if self.waking and _nothing_new(decision, self.saved):
                logline.emit("wake_quiet", deployment_id=self.d.id, reason="nothing new; its chain goes on")
                self._recheck_later()
                return DONE
            before = self._decided(decision)
            beanstalk = [a for a in decision.actions if not isinstance(a, AcquireLease | ReleaseLease)]
            lease = self._lease_change(decision)
            ends_tick = not isinstance(decision.next, ContinueNow) or self.d.finished
            must_save = lease is not None or ends_tick or any(isinstance(a, WRITE_AHEAD) for a in beanstalk)
            if must_save and not self._save(lease):
                return DONE
            self.observed = self._still_valid(before, beanstalk)
            results = [perform.perform(action, self.d, self.rt) for action in beanstalk]
            if results and not self.d.finished:
                self.observed = Observed(action_result=results[-1])  # the next step records the answer
                continue
            match decision.next:
                case Done():
                    self._announce()
                    if self.d.finished:
                        self._wake_next()
                    return DONE
                case ContinueNow():
                    continue
                case RequeueAfter():
                    return self._requeue(decision.next)
        return self._requeue(RequeueAfter(0))

    def _recheck_later(self) -> None:
        """An operation's end was announced, DescribeEnvironments does not show it yet: look again
        POLL_INTERVAL_S later (then 2x, 4x), a few times at most. A failure here only leaves it to the
        safety poll."""
        if self.recheck is None or self.recheck.rechecks >= MAX_RECHECKS:
            return
        later = dataclasses.replace(self.recheck, rechecks=self.recheck.rechecks + 1)
        delay = self.rt.config.poll_interval_s * 2**self.recheck.rechecks
        try:
            self.rt.queue.send(later, delay)
        except Exception as error:
            classified = aws_errors.classify(error, "SendMessage")
            if classified is None:
                raise
            logline.emit("recheck_failed", deployment_id=self.d.id, error=str(classified))
            return
        logline.emit("recheck_queued", deployment_id=self.d.id, environment=later.recheck, delay_s=delay)

    def _observe_until_decidable(self, now: datetime) -> bool:
        """Fetch what the step needs (as of `now`, the moment it decides at); False when it needs a kind
        already fetched this tick."""
        while (need := reconcile.next_need(self.d, self.observed, now, self.rt.config)) is not None:
            if need in self.fetched:
                return False
            self.observed = observe.fetch(need, self.d, self.observed, self.rt, now)
            self.fetched.add(need)
            if self.observed.smoke is not None:
                self.last_smoke = self.observed.smoke
        return True

    def _decided(self, decision: Decision) -> Deployment:
        """Take the decided record (not saved yet); the one before it."""
        before = self.d
        self.d = decision.deployment
        if self.waking or any(isinstance(a, AcquireLease) for a in decision.actions):
            self.d = dataclasses.replace(self.d, chain=self.chain)  # this chain drives it from its save on
            self.waking = False
        self.unlogged.append((before, self.d))
        return before

    def _still_valid(self, before: Deployment, beanstalk: Sequence[Action]) -> Observed:
        """What was observed stays true for the next step, unless an action changes Beanstalk or the
        deployment starts swapping back (its checks look at other targets). An action's answer is
        recorded by exactly one step."""
        if beanstalk or (before.swap_back is None) != (self.d.swap_back is None):
            return Observed()
        return dataclasses.replace(self.observed, action_result=None)

    def _lease_change(self, decision: Decision) -> LeaseChange | None:
        for action in decision.actions:
            if isinstance(action, AcquireLease):
                return LeaseChange(LeaseKind.ACQUIRE)
            if isinstance(action, ReleaseLease) and self.saved.status is not Status.QUEUED:
                return LeaseChange(LeaseKind.RELEASE, succeeded=action.succeeded)
        return None

    def _save(self, lease: LeaseChange | None) -> bool:
        """Persist the decided record if it changed; False when another tick owns the deployment now."""
        if self.d == self.saved and lease is None:
            self.unlogged.clear()
            return True
        self.d = self._with_digest(self.d)
        if lease is None and self.d.holds_lease:
            lease = LeaseChange(LeaseKind.RENEW)
        claim = announcements.due(self.d) if lease is not None else None
        if claim is not None:  # a transaction: the save that wins it is the claim (announce.py)
            self.d = announcements.claim(self.d, claim)
        now = self.rt.clock()
        ours = dataclasses.replace(self.d, record_version=self.saved.record_version)
        try:
            if lease is not None and lease.kind is LeaseKind.RELEASE:
                self.saved, self.waiting = self.rt.store.release(ours, now, lease.succeeded)
                self.d, self.released = self.saved, True
            else:
                self.saved = self.d = self.rt.store.save(ours, now, lease)
        except StaleRecord:
            logline.emit("tick_superseded", deployment_id=self.d.id, reason="record changed by another tick")
            self._tell_claimed()
            return False
        except LeaseLost:
            self._tell_claimed()
            if lease is not None and lease.kind is LeaseKind.ACQUIRE:
                logline.emit("lease_busy", deployment_id=self.d.id)
                self.rt.enqueue(self.d.id, self.rt.config.poll_interval_s, self.chain)
                return False
            lost = reconcile.lease_lost(self.saved, now)
            logline.transitions(self.saved, lost)
            with contextlib.suppress(StaleRecord):  # another tick recorded its end first: nothing to add
                self.rt.store.save(lost, now)
            return False
        for before, after in self.unlogged:
            logline.transitions(before, after)
        self.unlogged.clear()
        if claim is not None:
            self.claimed.append(claim)
        return True

    def _with_digest(self, d: Deployment) -> Deployment:
        """A deployment that fails or is rolled back now is saved with its digest (the same write)."""
        if d.status not in (Status.FAILED, Status.ROLLED_BACK) or d.digest is not None:
            return d
        causes, smoke = announce.instance_causes(d, self.rt), announce.last_response(self.last_smoke)
        return dataclasses.replace(d, digest=digest.compose(d, causes, smoke))

    def _requeue(self, after: RequeueAfter) -> Next:
        """Save, then queue the next tick of this chain. A queue that does not exist (or refuses us) can
        never move the deployment: it fails with that error."""
        deadline.current().record()
        if not self._save(None):
            return DONE
        self._announce()
        try:
            self.rt.enqueue(self.d.id, after.seconds, self.chain)
        except Exception as error:
            classified = aws_errors.classify(error, "SendMessage")
            if classified is None or classified.transient:
                raise  # SQS delivers this message again: the saved record carries on from there
            return self._fail_with(classified)
        return after

    def _after_error(self, error: AwsError) -> Next:
        deadline.current().record()
        if error.kind is ErrorKind.OUT_OF_TIME:  # no error of AWS's: the next tick goes on, uncounted
            logline.emit("out_of_time", deployment_id=self.d.id, error=str(error))
            self.rt.enqueue(self.d.id, 0, self.chain, self.retry)
            return RequeueAfter(0)
        if not error.transient:
            return self._fail_with(error)
        if self.retry >= MAX_TRANSIENT_RETRIES:
            return self._fail_with(error, f" (still failing after {self.retry} tries)")
        return _retry_later(TickMessage(self.d.id, self.chain, self.retry), self.rt, error)

    def _fail_with(self, error: AwsError, note: str = "") -> Next:
        """The deployment cannot go on: it fails with the AWS error and releases the lease."""
        self.d = self.saved if self.d.finished else self.d
        decision = reconcile.aws_refused(self.d, self.rt.clock(), f"{error}{note}")
        self._decided(decision)
        if self._save(self._lease_change(decision)):
            self._announce()
            self._wake_next()
        return DONE

    def _announce(self) -> None:
        """The saved record's state change, told (announce.py); before the next tick is queued, so the
        announcement's own save never races this chain's next tick."""
        if self.d != self.saved:
            return  # decided but not saved: nothing new has happened yet
        claimed, self.claimed = self.claimed, []
        try:
            for event in claimed:
                self.saved = self.d = announce.deliver(self.saved, event, self.rt)
            self.saved = self.d = announce.run(self.saved, self.rt, self.last_smoke)  # what is still due
        except Exception as error:
            classified = aws_errors.classify(error)
            if classified is None:
                raise
            logline.emit("announce_failed", deployment_id=self.d.id, error=str(classified))

    def _tell_claimed(self) -> None:
        """What this tick's earlier saves claimed, told although a later save lost to another tick: that
        tick loaded the record with the change announced, so nobody else tells it."""
        claimed, self.claimed = self.claimed, []
        try:
            for event in claimed:
                self.saved = announce.deliver(self.saved, event, self.rt)
        except Exception as error:
            classified = aws_errors.classify(error)
            if classified is None:
                raise
            logline.emit("announce_failed", deployment_id=self.saved.id, error=str(classified))

    def _wake_next(self) -> None:
        """A finished deployment hands over at once to the newest waiting notification, if any (it also
        polls by itself, so a failure here only delays it). Releasing the lease told who that is; a
        deployment that never held it reads the lease."""
        try:
            newest = self.waiting if self.released else self.rt.store.lease(self.d.application).newest_id
            if newest is not None and newest != self.d.id:
                self.rt.enqueue(newest, 0)
        except Exception as error:
            classified = aws_errors.classify(error)
            if classified is None:
                raise
            logline.emit("wake_failed", deployment_id=self.d.id, error=str(classified))


def _announce_finished(saved: Deployment, rt: Runtime) -> None:
    try:
        announce.run(saved, rt)
    except Exception as error:
        classified = aws_errors.classify(error)
        if classified is None:
            raise
        logline.emit("announce_failed", deployment_id=saved.id, error=str(classified))


def _nothing_new(decision: Decision, saved: Deployment) -> bool:
    """The decision only waits, and leaves the record as it was saved."""
    return not decision.actions and isinstance(decision.next, RequeueAfter) and decision.deployment == saved


def _retry_later(message: TickMessage, rt: Runtime, error: AwsError) -> Next:
    """A transient error: the same tick again after a delay that doubles with each error in a row."""
    delay = min(rt.config.max_poll_interval_s, rt.config.poll_interval_s * 2**message.retry)
    logline.emit(
        "transient_error",
        deployment_id=message.deployment_id,
        error=str(error),
        retry=message.retry + 1,
        delay_s=delay,
    )
    rt.enqueue(message.deployment_id, delay, message.chain, message.retry + 1)
    return RequeueAfter(delay)
