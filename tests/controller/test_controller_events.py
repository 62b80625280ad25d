"""Beanstalk's events wake the waiting deployment: delivered, delayed, duplicated, lost.

The emulation publishes its state changes on moto's EventBridge; the rule of the controller's template
(`BeanstalkEventsRule`, its pattern as written) sends them to the reconcile queue, and `reconcile_tick`
receives them as AWS's event source mapping would (controller_harness). Polling stays the safety net.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from controller_harness import APPLICATION, BLUE, GREEN, World

import moto_ext
from controller.core.model import Status

TAG = "1.0.42-3f2a1bc"
UPDATE_S = 607  # a long update, not a whole number of safety polls


def _post(world: World) -> str:
    response = world.post_deployment(TAG)
    assert response.status_code == 202, response.body
    return str(json.loads(response.body)["id"])


def _ended(world: World, message: str = "Environment update completed successfully.") -> datetime:
    """When Beanstalk wrote `message` for pre-production (green), to the second: the emulation stamps an
    operation's events a millisecond apart, as AWS's are apart (this clock moves in whole seconds)."""
    found = [e.event_date for e in world.be.events if e.environment_name == GREEN and e.message == message]
    assert found, f"no {message!r} event for {GREEN}"
    return found[-1].replace(microsecond=0)


def _swap_requested(world: World, deployment_id: str) -> datetime:
    requested = world.record(deployment_id).swap_requested_at
    assert requested is not None
    return requested


def _one_chain_throughout(world: World, deployment_id: str) -> int:
    """Drain, checking before each delivery that the chain driving the deployment has at most one tick
    queued (events and stray ticks never multiply the polling); the number of deliveries."""
    delivered = 0
    for _ in world.run():
        delivered += 1
        if not world.record(deployment_id).finished:
            assert len(world.driving_ticks(deployment_id)) <= 1, world.queue.pending
    return delivered


def test_the_end_of_a_long_update_wakes_the_deployment_within_seconds(world: World) -> None:
    world.be.set_timings(update_s=UPDATE_S)
    deployment_id = _post(world)

    _one_chain_throughout(world, deployment_id)

    assert world.record(deployment_id).status is Status.SUCCEEDED
    ended = _ended(world)
    assert ended - _swap_requested(world, deployment_id) <= timedelta(0)
    assert _swap_requested(world, deployment_id) - ended <= timedelta(seconds=5)
    # one look at the start, one safety poll (600 s) while it ran, the wake, the swap settling
    assert world.calls["elasticbeanstalk.DescribeEnvironments"] <= 5, dict(world.calls)


def test_a_delayed_event_wakes_it_when_it_arrives(world: World) -> None:
    world.be.set_timings(update_s=UPDATE_S)
    world.be.set_event_delivery(delay_s=30)
    deployment_id = _post(world)

    _one_chain_throughout(world, deployment_id)

    late = _swap_requested(world, deployment_id) - _ended(world)
    assert timedelta(seconds=30) <= late <= timedelta(seconds=35)
    assert world.record(deployment_id).status is Status.SUCCEEDED


def test_duplicated_events_change_nothing_and_never_add_a_polling_chain(world: World) -> None:
    world.be.set_timings(update_s=UPDATE_S)
    world.be.set_event_delivery(duplicate=1.0, seed=3)
    deployment_id = _post(world)

    _one_chain_throughout(world, deployment_id)

    assert world.record(deployment_id).status is Status.SUCCEEDED
    assert _swap_requested(world, deployment_id) - _ended(world) <= timedelta(seconds=5)
    assert world.calls["elasticbeanstalk.UpdateEnvironment"] == 1
    assert world.calls["elasticbeanstalk.SwapEnvironmentCNAMEs"] == 1
    assert world.queue.pending == []


def test_with_every_event_lost_the_safety_poll_finishes_the_deployment(world: World) -> None:
    world.be.set_timings(update_s=UPDATE_S)
    world.be.set_event_delivery(drop=1.0)
    deployment_id = _post(world)

    _one_chain_throughout(world, deployment_id)

    assert world.record(deployment_id).status is Status.SUCCEEDED
    assert world.prod_owner() == GREEN
    late = _swap_requested(world, deployment_id) - _ended(world)
    assert timedelta(0) < late <= timedelta(seconds=world.rt.config.safety_poll_s)


def test_health_recovering_after_the_update_wakes_the_deployment(world: World) -> None:
    """Ready and Red at first (instances registering): the grace wait ends with the health event."""
    world.be.set_fault("transient-red")
    world.be.set_timings(health_recovery_s=45)
    deployment_id = _post(world)

    _one_chain_throughout(world, deployment_id)

    recovered = _ended(world, "Environment health has transitioned from Severe to Ok.")
    assert timedelta(0) <= _swap_requested(world, deployment_id) - recovered <= timedelta(seconds=5)
    assert world.record(deployment_id).status is Status.SUCCEEDED


def test_a_failed_update_event_fails_the_deployment_at_once(world: World) -> None:
    world.be.set_timings(update_s=UPDATE_S)
    world.be.set_outcome(GREEN, moto_ext.Outcome.RED)
    deployment_id = _post(world)

    world.drain()

    failed = world.record(deployment_id)
    assert failed.status is Status.FAILED and "Instance deployment failed" in (failed.error or "")
    assert failed.updated_at - _ended(world, "Failed to deploy application.") <= timedelta(seconds=5)
    assert world.prod_owner() == BLUE


def test_an_event_revives_a_deployment_whose_tick_chain_died(world: World) -> None:
    """Its requeued tick is gone (a crashed Lambda, the message dead-lettered): Beanstalk's news moves it."""
    world.be.set_timings(update_s=UPDATE_S)
    deployment_id = _post(world)
    world.deliver(world.queue.pop_next())  # type: ignore[arg-type]
    world.queue.pending.clear()  # the safety poll is lost too

    world.drain()

    assert world.record(deployment_id).status is Status.SUCCEEDED
    assert world.prod_owner() == GREEN


def _event(application: str = APPLICATION, status: str = "Environment update successful") -> str:
    return json.dumps(
        {
            "version": "0",
            "id": "0d6f5c0e-0000-4000-8000-000000000000",
            "detail-type": "Elastic Beanstalk resource status change",
            "source": "aws.elasticbeanstalk",
            "account": "123456789012",
            "time": "2026-11-26T12:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": {
                "Status": status,
                "EventDate": 1795694400000,
                "ApplicationName": application,
                "Message": "Environment update completed successfully.",
                "EnvironmentName": GREEN,
                "Severity": "INFO",
            },
        }
    )


@pytest.mark.parametrize(
    "body",
    [
        _event(application="someone-else"),
        _event(status="Environment update started"),
        json.dumps({"source": "aws.elasticbeanstalk", "detail": "not an object"}),
    ],
    ids=["another application", "not news", "malformed"],
)
def test_events_that_are_not_news_for_this_application_cost_no_aws_call(world: World, body: str) -> None:
    event = world.client.events.generate_sqs_event(message_bodies=[body], queue_name="q")
    world.client.lambda_.invoke("reconcile_tick", event)
    assert sum(world.calls.values()) == 0, dict(world.calls)
    assert world.queue.pending == []


def test_news_with_no_deployment_running_reads_the_lease_only(world: World) -> None:
    event = world.client.events.generate_sqs_event(message_bodies=[_event()], queue_name="q")
    world.client.lambda_.invoke("reconcile_tick", event)
    assert dict(world.calls) == {"dynamodb.GetItem": 1}


def test_an_event_ahead_of_describe_environments_is_looked_at_again_within_a_poll_interval(
    world: World,
) -> None:
    """events-before-state: "Environment update successful" arrives while DescribeEnvironments still shows
    the update in progress. The quiet wake leaves a re-check POLL_INTERVAL_S later instead of waiting for
    the safety poll (issue 18, item 6)."""
    world.be.set_fault("events-before-state")
    world.be.set_timings(update_s=UPDATE_S, state_lag_s=10)
    deployment_id = _post(world)

    _one_chain_throughout(world, deployment_id)

    assert world.record(deployment_id).status is Status.SUCCEEDED
    late = _swap_requested(world, deployment_id) - _ended(world)
    assert timedelta(0) < late <= timedelta(seconds=world.rt.config.poll_interval_s), late
    assert world.queue.rechecks() == []


def test_re_checks_of_a_quiet_wake_are_few_and_the_safety_poll_still_finishes(world: World) -> None:
    """DescribeEnvironments behind its events for longer than the re-checks look: MAX_RECHECKS of them,
    never a polling loop of their own; the safety poll finishes the deployment."""
    from controller.shell.tick import MAX_RECHECKS

    world.be.set_fault("events-before-state")
    world.be.set_timings(update_s=UPDATE_S, state_lag_s=400)
    deployment_id = _post(world)
    rechecks = 0
    for message in world.run():
        rechecks += message.recheck is not None
        if not world.record(deployment_id).finished:
            assert len(world.driving_ticks(deployment_id)) <= 1, world.queue.pending
            assert len(world.queue.rechecks()) <= 1, world.queue.pending

    assert rechecks == MAX_RECHECKS
    assert world.record(deployment_id).status is Status.SUCCEEDED
