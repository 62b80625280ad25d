"""AWS answering badly, through the whole controller: every error classified once, mutating calls never
re-sent blindly, the store telling a failed condition from contention, and no record ever left running.

Beanstalk's own rough edges come from the emulation's faults (mutation-5xx: a call takes effect and answers
500; busy: "... Must be Ready" once); what no fault gives (throttling of a mutating call, refusals for good,
DynamoDB and SQS errors) is injected at the botocore boundary (World.refuse, World.fail_aws), following the
real API's semantics.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from controller_harness import BLUE, ENV, GREEN, World, aws_client, shared_session

from controller.core.model import Status
from controller.shell import runtime
from controller.shell.tick import MAX_TRANSIENT_RETRIES
from moto_ext import Fault

TAG = "1.0.42-3f2a1bc"


@pytest.fixture(autouse=True)
def no_botocore_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore sleeps between the attempts of a read; simulated time does not need real waiting."""
    monkeypatch.setattr(time, "sleep", lambda seconds: None)


def _deploy(world: World, tag: str = TAG) -> str:
    response = world.post_deployment(tag)
    assert response.status_code == 202, response.body
    return str(json.loads(response.body)["id"])


def _nothing_stuck(world: World) -> None:
    """Every record finished, the lease free, nothing left on the queue."""
    assert world.queue.pending == []
    for d in world.rt.store.recent(world.rt.config.eb_application, 50):
        assert d.finished, (d.id, d.status)
    assert world.rt.store.lease(world.rt.config.eb_application).holder is None


def _swaps_that_took_effect(world: World) -> int:
    return sum(
        1
        for e in world.be.events
        if e.message.startswith("Completed swapping CNAMEs") and e.environment_name == GREEN
    )


# --- a save that fails between deciding and acting -------------------------------------------------------


def _decides_the_swap(params: dict[str, Any]) -> bool:
    items = params.get("TransactItems") or [{"Put": params}]
    doc = json.loads(items[0]["Put"]["Item"]["doc"]["S"])
    return doc.get("swap_requested_at") is not None


def test_a_save_that_fails_between_deciding_and_acting_calls_nothing_and_the_retry_swaps_exactly_once(
    world: World,
) -> None:
    failed = world.fail_aws(
        "dynamodb",
        "TransactWriteItems",
        "InternalServerError",
        "Internal server error",
        when=_decides_the_swap,
    )
    deployment_id = _deploy(world)
    swaps_when_the_save_failed = None
    for _ in world.run():
        if failed and swaps_when_the_save_failed is None:
            swaps_when_the_save_failed = world.calls["elasticbeanstalk.SwapEnvironmentCNAMEs"]
    assert len(failed) == 1
    assert swaps_when_the_save_failed == 0, "the swap was requested before its decision was saved"
    assert world.record(deployment_id).status is Status.SUCCEEDED
    assert world.calls["elasticbeanstalk.SwapEnvironmentCNAMEs"] == 1
    assert _swaps_that_took_effect(world) == 1
    assert world.prod_owner() == GREEN


def test_a_redelivered_swap_decision_that_was_saved_is_never_sent_twice(world: World) -> None:
    """The tick dies after saving the swap decision and sending it; SQS delivers the same message again
    while the swap is still settling: the second tick sees `swap_requested_at` and only watches."""
    deployment_id = _deploy(world)
    world.be.settle_after_s = 60
    replayed = False
    for message in world.run():
        if not replayed and world.record(deployment_id).swap_requested_at is not None:
            replayed = True
            world.deliver(message)  # the same message again, before the swap settled
    assert replayed
    assert world.calls["elasticbeanstalk.SwapEnvironmentCNAMEs"] == 1
    assert world.record(deployment_id).status is Status.SUCCEEDED


# --- mutating calls: one attempt, then observe -------------------------------------------------------------


def test_an_update_whose_answer_is_lost_is_not_sent_again_the_next_tick_sees_it_happened(
    world: World,
) -> None:
    world.be.set_fault(Fault.MUTATION_5XX)  # the next UpdateEnvironment takes effect, then answers 500
    deployment_id = _deploy(world)
    world.drain()
    assert world.attempts["UpdateEnvironment"] == 1, "botocore must not re-send UpdateEnvironment"
    assert world.record(deployment_id).status is Status.SUCCEEDED
    assert world.record(deployment_id).update_request_id is None  # the answer, and its id, were lost
    _nothing_stuck(world)


def test_a_swap_whose_answer_is_lost_is_settled_by_watching_not_by_asking_again(world: World) -> None:
    deployment_id = _deploy(world)
    _arm_once_updated(world, deployment_id, Fault.MUTATION_5XX)  # the swap takes effect, answers 500
    assert world.attempts["SwapEnvironmentCNAMEs"] == 1, "a second SwapEnvironmentCNAMEs would be a swap back"
    assert world.record(deployment_id).status is Status.SUCCEEDED
    assert _swaps_that_took_effect(world) == 1
    assert world.prod_owner() == GREEN


def test_an_accepted_update_keeps_its_request_id_for_matching_failure_events(world: World) -> None:
    deployment_id = _deploy(world)
    world.drain()
    assert world.record(deployment_id).update_request_id


def test_must_be_ready_means_wait_then_ask_again(world: World) -> None:
    world.be.set_fault(Fault.BUSY)  # the update is refused "... Must be Ready." once
    deployment_id = _deploy(world)
    _arm_once_updated(world, deployment_id, Fault.BUSY)  # and so is the swap
    assert world.attempts["UpdateEnvironment"] == world.attempts["SwapEnvironmentCNAMEs"] == 2
    assert world.record(deployment_id).status is Status.SUCCEEDED
    assert _swaps_that_took_effect(world) == 1
    assert [e.message for e in world.be.events].count("Environment update is starting.") == 1
    _nothing_stuck(world)


def _arm_once_updated(world: World, deployment_id: str, fault: Fault) -> None:
    """Drain the queue, switching `fault` on once the update was accepted: the next mutating call is the
    swap."""
    armed: list[Fault] = []

    def arm(world: World, _message: Any) -> None:
        if not armed and world.record(deployment_id).update_request_id is not None:
            world.be.set_fault(fault)
            armed.append(fault)

    for _ in world.run(on_message=arm):
        pass
    assert armed, "the update was never accepted"


def test_a_throttled_update_is_asked_again_not_failed(world: World) -> None:
    updates = world.refuse("UpdateEnvironment", "Throttling", "Rate exceeded")
    deployment_id = _deploy(world)
    world.drain()
    assert len(updates) == 2
    assert world.record(deployment_id).status is Status.SUCCEEDED


def test_an_update_beanstalk_refuses_fails_with_its_error_and_releases_the_lease(world: World) -> None:
    world.refuse(
        "UpdateEnvironment", "InsufficientPrivilegesException", "not allowed to pass the role", status=403
    )
    deployment_id = _deploy(world)
    world.drain()
    d = world.record(deployment_id)
    assert d.status is Status.FAILED and "InsufficientPrivilegesException" in (d.error or "")
    assert world.prod_owner() == BLUE
    _nothing_stuck(world)


# --- reads: transient errors retry with backoff, others fail the deployment ------------------------------


def test_a_read_failing_transiently_is_retried_later_with_backoff(
    world: World, controller_log: pytest.LogCaptureFixture
) -> None:
    """Throttled beyond botocore's own attempts: the tick goes back to the queue, later each time."""
    failed = world.fail_aws(
        "elasticbeanstalk", "DescribeEnvironments", "Throttling", "Rate exceeded", status=400, times=2
    )
    deployment_id = _deploy(world)
    world.drain()
    assert len(failed) == 2
    assert world.record(deployment_id).status is Status.SUCCEEDED
    lines = [json.loads(r.getMessage()) for r in controller_log.records]
    retries = [(line["retry"], line["delay_s"]) for line in lines if line["event"] == "transient_error"]
    poll = world.rt.config.poll_interval_s
    assert retries == [(1, poll), (2, 2 * poll)]
    assert "Throttling" in next(line["error"] for line in lines if line["event"] == "transient_error")


def test_a_read_failing_transiently_for_good_fails_the_deployment_in_the_end(world: World) -> None:
    failed = world.fail_aws(
        "elasticbeanstalk", "DescribeEnvironments", "ServiceUnavailable", "down", status=503, times=1000
    )
    deployment_id = _deploy(world)
    world.drain()
    d = world.record(deployment_id)
    assert d.status is Status.FAILED, d
    assert "ServiceUnavailable" in (d.error or "") and f"after {MAX_TRANSIENT_RETRIES} tries" in (
        d.error or ""
    )
    assert len(failed) == MAX_TRANSIENT_RETRIES + 1
    _nothing_stuck(world)


def test_access_denied_on_a_read_fails_the_deployment_at_once_and_releases_the_lease(world: World) -> None:
    message = (
        "User: arn:aws:sts::123456789012:assumed-role/x is not authorized to perform: DescribeEnvironments"
    )
    world.fail_aws("elasticbeanstalk", "DescribeEnvironments", "AccessDenied", message, status=403, times=1)
    deployment_id = _deploy(world)
    world.drain()
    d = world.record(deployment_id)
    assert (
        d.status is Status.FAILED
        and "AccessDenied" in (d.error or "")
        and "not authorized" in (d.error or "")
    )
    _nothing_stuck(world)
    assert _deploy(world, "1.0.43")  # the next deployment is free to run
    world.drain()
    assert world.prod_owner() == GREEN


def test_a_missing_queue_fails_the_running_deployment_instead_of_leaving_it_running(world: World) -> None:
    deployment_id = _deploy(world)
    first = world.queue.pop_next()
    assert first is not None
    real = runtime.Runtime(
        world.rt.config, session=shared_session(), clock=world.clock, http_get=world.http_get
    )
    runtime.install(real)
    sqs = aws_client("sqs")
    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=ENV["RECONCILE_QUEUE"])["QueueUrl"])
    world.deliver(first)
    d = world.record(deployment_id)
    assert d.status is Status.FAILED and "NonExistentQueue" in (d.error or ""), d.error
    assert world.rt.store.lease(world.rt.config.eb_application).holder is None


def test_a_notification_whose_first_tick_cannot_be_queued_fails_and_says_so(world: World) -> None:
    runtime.install(runtime.Runtime(world.rt.config, session=shared_session(), clock=world.clock))
    sqs = aws_client("sqs")
    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=ENV["RECONCILE_QUEUE"])["QueueUrl"])
    response = world.post_deployment(TAG)
    assert response.status_code == 500
    error = json.loads(response.body)["error"]
    assert "could not be queued" in error and "NonExistentQueue" in error
    [d] = world.rt.store.recent(world.rt.config.eb_application, 5)
    assert d.status is Status.FAILED


# --- the store: only a failed condition means stale or lost ------------------------------------------------


def _cancelled(*codes: str) -> dict[str, Any]:
    return {"CancellationReasons": [{"Code": code} for code in codes]}


def _renews_the_lease(params: dict[str, Any]) -> bool:
    items = params.get("TransactItems") or []
    return len(items) == 2 and items[1]["Update"]["UpdateExpression"] == "SET lease_expires_at = :exp"


def test_a_transaction_conflict_on_a_save_is_retried_not_read_as_a_lost_lease(world: World) -> None:
    """A running deployment's save meets a concurrent writer on the application item (a new notification
    marking itself newest): the transaction is cancelled with TransactionConflict, not a failed condition."""
    failed = world.fail_aws(
        "dynamodb",
        "TransactWriteItems",
        "TransactionCanceledException",
        "Transaction cancelled [None, TransactionConflict]",
        status=400,
        times=2,
        when=_renews_the_lease,
        extra=_cancelled("None", "TransactionConflict"),
    )
    deployment_id = _deploy(world)
    world.drain()
    assert len(failed) == 2
    assert world.record(deployment_id).status is Status.SUCCEEDED


def test_throttling_on_the_newest_marker_does_not_make_a_new_notification_superseded(world: World) -> None:
    first = _deploy(world, "1.0.42")
    world.drain()
    failed = world.fail_aws(
        "dynamodb",
        "TransactWriteItems",
        "TransactionCanceledException",
        "Transaction cancelled [None, ThrottlingError]",
        status=400,
        extra=_cancelled("None", "ThrottlingError"),
    )
    second = _deploy(world, "1.0.43")
    world.drain()
    assert len(failed) == 1
    assert world.record(first).status is Status.SUCCEEDED
    assert world.record(second).status is Status.SUCCEEDED, world.record(second).error
