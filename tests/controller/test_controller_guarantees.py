"""Promises of the contract that a mutation run showed no test held (issue 23): each test here fails when
the promise is broken by one small, plausible change of the code.

- Two ticks of one deployment at once (SQS hands one message to two Lambdas): the tick that loses the
  conditional save performs nothing.
- Newest wins at the store: only the newest notification takes the lease, and an older one arriving late
  never becomes the application's newest.
- A message of an old or stray tick chain stops: one chain drives a running deployment.
- A `/health` 200 without a version is not the new release (smoke test, verify, bake).
- Bake failures must be consecutive: a healthy check resets the count.
- Signatures are compared in constant time.
- The limits are exact: a 100-character tag and `?limit=100` are accepted, 101 is refused.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import timedelta
from typing import Any

import pytest
from controller_builders import CONFIG, after_swap, at, health, lease, observed, queued, running_at
from controller_harness import GREEN, IMAGE, World

from controller.api import routes
from controller.api.routes import MAX_LIST_LIMIT
from controller.client import signing
from controller.core import actions as act
from controller.core.model import Status, StepName, StepStatus, new_deployment
from controller.core.notification import MAX_TAG_LENGTH
from controller.core.reconcile import reconcile
from controller.core.steps.bake import BAKE_FAILURES
from controller.core.steps.checks import SMOKE_PASSES, VERIFY_DIRECT_FAILURES
from controller.shell.store import LeaseChange, LeaseKind, LeaseLost

TAG = "1.0.42-3f2a1bc"


def _post(world: World, tag: str = TAG) -> str:
    response = world.post_deployment(tag)
    assert response.status_code == 202, response.body
    return str(json.loads(response.body)["id"])


# --- two ticks of one deployment at once --------------------------------------------------------------


class _Race:
    """Two deliveries of one message, interleaved as two Lambdas would run them: both load the record and
    decide before either saves; then the first to save runs to its end while the second waits, and the
    second saves what it decided from the record it loaded (deterministic: moto's own conditional writes
    need not be thread-safe)."""

    WRITES = ("TransactWriteItems", "PutItem")

    def __init__(self, world: World) -> None:
        self.world = world
        self.arrived: list[str] = []
        self.both_decided = threading.Event()
        self.first_done = threading.Event()
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._local = threading.local()

    def _before_write(self, **_: Any) -> None:
        if getattr(self._local, "wrote", False):
            return
        self._local.wrote = True
        with self._lock:
            self.arrived.append(threading.current_thread().name)
            if len(self.arrived) == 2:
                self.both_decided.set()
        assert self.both_decided.wait(10), "the other tick never decided"
        if threading.current_thread().name == self.arrived[1]:
            assert self.first_done.wait(10), "the first tick never finished"

    def run(self, message: Any) -> None:
        events = self.world.rt.client("dynamodb").meta.events
        for operation in self.WRITES:
            events.register(f"before-call.dynamodb.{operation}", self._before_write)
        sqs_event = self.world.client.events.generate_sqs_event(
            message_bodies=[message.body()], queue_name=self.world.rt.config.reconcile_queue
        )

        def deliver() -> None:
            try:
                # The handler itself: chalice.test's invoke swaps os.environ, which two threads would tangle.
                routes.reconcile_tick(sqs_event, None)
            except BaseException as error:
                self.errors.append(error)
            finally:
                if self.arrived and threading.current_thread().name == self.arrived[0]:
                    self.first_done.set()

        threads = [threading.Thread(target=deliver, name=f"lambda-{i}") for i in (1, 2)]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
        finally:
            for operation in self.WRITES:
                events.unregister(f"before-call.dynamodb.{operation}", self._before_write)
        assert not self.errors, self.errors
        assert len(self.arrived) == 2, self.arrived


def test_two_ticks_racing_on_one_message_swap_exactly_once(world: World) -> None:
    """The tick that decides the swap is delivered to two Lambdas at once; both decide the same swap from
    the same record (the simulated clock even makes their records identical): only the one whose save
    wins sends it; the other performs nothing."""
    world.be.set_event_delivery(drop=1.0)  # the safety poll, not an event, is the tick that swaps
    deployment_id = _post(world)
    world.deliver(world.queue.pop_next())  # type: ignore[arg-type]  # lease, version, UpdateEnvironment
    assert world.record(deployment_id).deploy_requested_at is not None
    assert len(world.queue.pending) == 1
    message = world.next_message()
    assert message is not None

    _Race(world).run(message)

    assert world.attempts["SwapEnvironmentCNAMEs"] == 1  # requests sent, botocore's retries included
    assert world.record(deployment_id).swap_requested_at is not None
    world.drain()
    assert world.record(deployment_id).status is Status.SUCCEEDED
    assert world.prod_owner() == GREEN
    assert world.attempts["SwapEnvironmentCNAMEs"] == 1
    assert world.attempts["UpdateEnvironment"] == 1


def test_two_ticks_racing_on_the_first_message_update_exactly_once(world: World) -> None:
    deployment_id = _post(world)
    message = world.next_message()
    assert message is not None

    _Race(world).run(message)

    assert world.attempts["UpdateEnvironment"] == 1
    world.drain()
    assert world.record(deployment_id).status is Status.SUCCEEDED
    assert world.attempts["UpdateEnvironment"] == 1
    assert world.attempts["SwapEnvironmentCNAMEs"] == 1


# --- newest wins at the store ------------------------------------------------------------------------


def test_only_the_newest_notification_can_take_the_lease(world: World) -> None:
    """The lease's condition names the newest notification: a deployment that is not it cannot take a
    free lease, whatever its own decision said."""
    store, now = world.rt.store, world.clock()
    older = store.create(new_deployment(queued().application, IMAGE, "1.0.1", None, None, now))
    newer = store.create(new_deployment(queued().application, IMAGE, "1.0.2", None, None, now))
    assert older is not None and newer is not None
    assert store.lease(older.application).holder is None

    running = dataclasses.replace(older, status=Status.RUNNING)
    with pytest.raises(LeaseLost):
        store.save(running, now, LeaseChange(LeaseKind.ACQUIRE))
    assert store.lease(older.application).holder is None
    assert store.get(older.id) == older  # nothing of the refused save was written

    taken = store.save(dataclasses.replace(newer, status=Status.RUNNING), now, LeaseChange(LeaseKind.ACQUIRE))
    assert store.lease(newer.application).holder == taken.id


def test_an_older_notification_arriving_late_never_becomes_the_newest(world: World) -> None:
    """Two Lambdas take two notifications; the one stamped earlier writes last: it is stored (and ends
    superseded), but the application's newest stays the later one."""
    store, now = world.rt.store, world.clock()
    application = queued().application
    later = store.create(new_deployment(application, IMAGE, "1.0.2", None, None, now))
    earlier = store.create(
        new_deployment(application, IMAGE, "1.0.1", None, None, now - timedelta(seconds=1))
    )
    assert later is not None and earlier is not None
    assert store.get(earlier.id) is not None
    assert store.lease(application).newest_id == later.id


def test_the_late_older_notification_ends_superseded_and_the_newest_deploys(world: World) -> None:
    """Through the API: the older notification's tick finds a newer one at the store and stops."""
    application = world.rt.config.eb_application
    store, now = world.rt.store, world.clock()
    later = store.create(new_deployment(application, IMAGE, "1.0.2", None, None, now))
    earlier = store.create(
        new_deployment(application, IMAGE, "1.0.1", None, None, now - timedelta(seconds=1))
    )
    assert later is not None and earlier is not None
    world.deliver(earlier.id)
    world.deliver(later.id)
    world.drain()
    assert world.record(earlier.id).status is Status.SUPERSEDED
    assert world.record(later.id).status is Status.SUCCEEDED
    assert world.attempts["UpdateEnvironment"] == 1


# --- one chain drives a running deployment -------------------------------------------------------------


def test_a_message_of_an_old_chain_stops_there(world: World) -> None:
    """While the deployment waited for the lease, two chains polled it (a repeated POST heals with a tick
    of its own), and the finishing deployment hands over with a third. One of them takes the lease; every
    message of the others reads the record and stops there (no other call, nothing queued), and the chain
    that drives it never has more than one tick queued."""
    first = _post(world, "1.0.1")
    world.deliver(world.queue.pop_next())  # type: ignore[arg-type]  # first runs, holding the lease
    waiting = _post(world, "1.0.2")
    repeated = world.post_deployment("1.0.2")  # a queued deployment's POST again: a tick of a new chain
    assert repeated.status_code == 200
    assert len({m.chain for m in world.queue.pending if m.deployment_id == waiting}) == 2

    stopped = 0
    while (message := world.next_message()) is not None:
        d = world.record(waiting)
        stray = message.deployment_id == waiting and d.holds_lease and message.chain != d.chain
        calls, pending = dict(world.calls), len(world.queue.pending)
        world.deliver(message)
        if stray:
            stopped += 1
            changed = {k: v - calls.get(k, 0) for k, v in world.calls.items() if v != calls.get(k, 0)}
            assert changed == {"dynamodb.GetItem": 1}, changed
            assert len(world.queue.pending) == pending
        d = world.record(waiting)
        if d.holds_lease:
            assert len(world.queue.ticks_of(d.chain)) <= 1, world.queue.pending

    assert world.record(first).status is Status.SUCCEEDED
    assert world.record(waiting).status is Status.SUCCEEDED
    assert stopped >= 1, "no message of another chain arrived once the deployment ran"
    assert world.attempts["UpdateEnvironment"] == 2 and world.attempts["SwapEnvironmentCNAMEs"] == 2


def test_the_decision_rule_newest_wins_even_when_the_lease_is_free() -> None:
    """A queued deployment that is not the newest notification ends superseded, lease free or not; the
    newest takes the lease."""
    older = queued()
    decision = reconcile(older, observed(lease=lease(newest="d-newer")), at(1), CONFIG)
    assert decision.deployment.status is Status.SUPERSEDED and "d-newer" in (decision.deployment.error or "")
    assert decision.actions == ()
    newest = reconcile(older, observed(lease=lease(newest=older.id)), at(1), CONFIG)
    assert newest.deployment.status is Status.RUNNING
    assert newest.actions == (act.AcquireLease(older.id),)


# --- a /health 200 without a version is not the new release ---------------------------------------------

NO_VERSION = health(200, None)
BAKING = dataclasses.replace(CONFIG, bake_s=300)


def test_the_smoke_test_does_not_pass_on_a_200_without_a_version() -> None:
    d = running_at(StepName.SMOKE_TEST)
    decision = reconcile(d, observed(smoke=(NO_VERSION,) * SMOKE_PASSES), at(5), CONFIG)
    assert decision.deployment.step(StepName.SMOKE_TEST).status is StepStatus.RUNNING
    assert "version None" in (decision.deployment.step(StepName.SMOKE_TEST).detail or "")
    ended = reconcile(d, observed(smoke=(NO_VERSION,) * SMOKE_PASSES), at(CONFIG.smoke_window_s), CONFIG)
    assert ended.deployment.status is Status.FAILED


def test_verify_does_not_pass_on_a_200_without_a_version_directly_or_by_name() -> None:
    d = running_at(StepName.VERIFY, swap_requested_at=at(0))
    for direct, public in ((NO_VERSION, health()), (health(), NO_VERSION), (NO_VERSION, NO_VERSION)):
        decision = reconcile(d, observed(direct=direct, public=public), at(5), CONFIG)
        assert decision.deployment.step(StepName.VERIFY).status is StepStatus.RUNNING, (direct, public)
    failing = dataclasses.replace(d, verify_failures=VERIFY_DIRECT_FAILURES - 1)
    back = reconcile(failing, observed(direct=NO_VERSION, public=health()), at(5), CONFIG)
    assert back.deployment.swap_back is not None


def test_the_bake_counts_a_200_without_a_version_as_a_bad_check() -> None:
    d = running_at(StepName.BAKE, swap_requested_at=at(0))
    decision = reconcile(d, observed(environments=after_swap(), direct=NO_VERSION), at(5), BAKING)
    assert decision.deployment.bake_failures == 1


# --- bake failures must be consecutive ----------------------------------------------------------------


def test_a_healthy_bake_check_resets_the_count_of_bad_ones() -> None:
    """Bad, bad, good, bad, bad, ...: never BAKE_FAILURES in a row, so never a swap back; the bake ends
    succeeded."""
    d = running_at(StepName.BAKE, swap_requested_at=at(0))
    seconds = 0
    pattern = ([health(503, None)] * (BAKE_FAILURES - 1) + [health()]) * 10
    for check in pattern:
        seconds += 10
        decision = reconcile(d, observed(environments=after_swap(), direct=check), at(seconds), BAKING)
        d = decision.deployment
        assert d.swap_back is None, (seconds, d.bake_failures)
        if check.version is not None:
            assert d.bake_failures == 0
        if d.step(StepName.BAKE).status is StepStatus.SUCCEEDED:
            break
    assert seconds >= BAKING.bake_s and d.step(StepName.BAKE).status is StepStatus.SUCCEEDED


# --- signatures are compared in constant time ----------------------------------------------------------


def test_the_signature_is_compared_with_hmac_compare_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    """`==` stops at the first differing byte, and its timing tells an attacker how much of a forged
    signature is right: the comparison must go through hmac.compare_digest, and decide by it."""
    body = b'{"a": 1}'
    header = signing.sign("k", 1000, "POST", "/deployments", body)
    compared: list[tuple[bytes, bytes]] = []

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return False  # whatever the bytes, the constant-time comparison has the last word

    monkeypatch.setattr(signing.hmac, "compare_digest", spy)
    problem = signing.verify("k", "1000", header, "POST", "/deployments", body, now=1000)
    assert compared and compared[0][0] == compared[0][1] == header.encode()
    assert problem == "signature does not match"


# --- the limits are exact -------------------------------------------------------------------------------


@pytest.mark.parametrize(("length", "status"), [(MAX_TAG_LENGTH, 202), (MAX_TAG_LENGTH + 1, 400)])
def test_a_tag_of_100_characters_is_accepted_and_101_refused(world: World, length: int, status: int) -> None:
    tag = "1" + "a" * (length - 1)
    response = world.post_deployment(tag)
    assert response.status_code == status, response.body
    if status == 202:
        assert json.loads(response.body)["version_label"] == tag
    else:
        assert f"{MAX_TAG_LENGTH}" in json.loads(response.body)["error"]
        assert world.table_items() == []


@pytest.mark.parametrize(
    ("limit", "status"), [("1", 200), (str(MAX_LIST_LIMIT), 200), (str(MAX_LIST_LIMIT + 1), 400), ("0", 400)]
)
def test_a_list_limit_of_100_is_accepted_and_101_refused(world: World, limit: str, status: int) -> None:
    for tag in ("1.0.1", "1.0.2"):
        _post(world, tag)
    response = world.request("GET", f"/deployments?limit={limit}")
    assert response.status_code == status, response.body
    if status == 200:
        assert len(json.loads(response.body)["deployments"]) == min(2, int(limit))
    else:
        assert f"from 1 to {MAX_LIST_LIMIT}" in json.loads(response.body)["error"]
