"""One deployment at a time per application; waiting notifications collapse to the newest; rollback."""

from __future__ import annotations

import json

from controller_harness import BLUE, GREEN, Message, World

import moto_ext
from controller.core.model import Status


def _post(world: World, tag: str) -> str:
    response = world.post_deployment(tag)
    assert response.status_code == 202, response.body
    world.clock.advance(1)
    return str(json.loads(response.body)["id"])


def _never_two_running(world: World, message: Message) -> None:
    recent = world.rt.store.recent(world.rt.config.eb_application, 50)
    running = [d for d in recent if d.status is Status.RUNNING]
    assert len(running) <= 1, [d.id for d in running]


def test_notifications_during_a_deployment_wait_and_only_the_newest_runs(world: World) -> None:
    first = _post(world, "1.0.42")
    world.deliver(world.queue.pop_next())  # type: ignore[arg-type]
    assert world.record(first).status is Status.RUNNING
    second, third = _post(world, "1.0.43"), _post(world, "1.0.44")

    for _ in world.run(on_message=_never_two_running):
        pass

    assert world.record(first).status is Status.SUCCEEDED
    superseded = world.record(second)
    assert superseded.status is Status.SUPERSEDED and third in (superseded.error or "")
    assert world.record(third).status is Status.SUCCEEDED
    # first moved production to green, third deployed to the then pre-production blue and swapped back
    assert world.prod_owner() == BLUE
    assert world.environments()[BLUE].version_label == "1.0.44"
    assert world.calls["elasticbeanstalk.UpdateEnvironment"] == 2
    assert world.calls["elasticbeanstalk.SwapEnvironmentCNAMEs"] == 2


def _finish(world: World, deployment_id: str) -> dict[str, int]:
    """Deliver until the deployment has finished; the AWS calls of the tick that finished it."""
    while True:
        message = world.next_message()
        assert message is not None
        before = dict(world.calls)
        world.deliver(message)
        if world.record(deployment_id).finished:
            return {k: v - before.get(k, 0) for k, v in world.calls.items() if v != before.get(k, 0)}


def test_a_finishing_deployment_hands_over_at_once_to_the_newest_waiting_one(world: World) -> None:
    """Releasing the lease tells the finishing deployment who waits (no extra read): it queues that one's
    tick at once, instead of leaving it to poll."""
    first = _post(world, "1.0.42")
    world.deliver(world.queue.pop_next())  # type: ignore[arg-type]
    waiting = _post(world, "1.0.43")
    world.deliver(world.queue.pop_next())  # type: ignore[arg-type]
    assert world.record(waiting).status is Status.QUEUED

    _finish(world, first)

    handed = [m for m in world.queue.pending if m.deployment_id == waiting and m.due <= world.clock.now]
    assert handed, world.queue.pending
    world.drain()
    assert world.record(waiting).status is Status.SUCCEEDED


def test_with_nobody_waiting_the_finishing_tick_reads_no_lease(world: World) -> None:
    deployment_id = _post(world, "1.0.42")
    last = _finish(world, deployment_id)
    assert world.record(deployment_id).status is Status.SUCCEEDED
    assert last.get("dynamodb.GetItem") == 1, last  # its own record; the release said nobody waits
    assert all(m.deployment_id == deployment_id for m in world.queue.pending)  # nobody was woken


def test_a_crashed_deployment_cannot_wedge_the_application_its_lease_expires(world: World) -> None:
    world.be.set_event_delivery(drop=1.0)  # no Beanstalk event comes to wake it either
    crashed = _post(world, "1.0.42")
    world.deliver(world.queue.pop_next())  # type: ignore[arg-type]
    lost = list(
        world.queue.pending
    )  # its next tick never runs (the Lambda crashed; the message went to the DLQ)
    world.queue.pending.clear()
    assert world.record(crashed).status is Status.RUNNING

    waiting = _post(world, "1.0.43")
    world.deliver(world.queue.pop_next())  # type: ignore[arg-type]
    assert world.record(waiting).status is Status.QUEUED  # the lease is still held
    world.drain()  # it polls until the lease expires, then runs
    assert world.record(waiting).status is Status.SUCCEEDED
    assert world.prod_owner() == GREEN

    world.deliver(lost[0])  # redriven from the DLQ late: it lost the lease and stops, touching nothing
    late = world.record(crashed)
    assert late.status is Status.FAILED and "lease" in (late.error or "")
    assert world.prod_owner() == GREEN
    assert world.calls["elasticbeanstalk.SwapEnvironmentCNAMEs"] == 1


def test_rollback_swaps_production_back_once(world: World) -> None:
    deployed = _post(world, "1.0.42")
    world.drain()
    assert world.prod_owner() == GREEN

    response = world.request("POST", f"/deployments/{deployed}/rollback", b"")
    assert response.status_code == 202, response.body
    assert json.loads(response.body)["status"] == "running"
    during = world.request("POST", f"/deployments/{deployed}/rollback", b"")
    assert during.status_code == 409, "a rollback under way is not asked twice"
    world.drain()
    assert world.prod_owner() == BLUE

    again = world.request("POST", f"/deployments/{deployed}/rollback", b"")
    assert again.status_code == 409
    assert f"deployment {deployed} was rolled back;" in json.loads(again.body)["error"]
    assert world.calls["elasticbeanstalk.SwapEnvironmentCNAMEs"] == 2


def test_rollback_is_refused_with_409_and_the_reason(world: World) -> None:
    older = _post(world, "1.0.42")
    world.drain()
    newer = _post(world, "1.0.43")
    world.drain()
    assert world.record(newer).status is Status.SUCCEEDED

    refused = world.request("POST", f"/deployments/{older}/rollback", b"")
    assert refused.status_code == 409
    assert "only the latest succeeded deployment" in json.loads(refused.body)["error"]

    preproduction = GREEN if world.prod_owner() == BLUE else BLUE
    world.be.set_outcome(preproduction, moto_ext.Outcome.RED)
    failed = _post(world, "1.0.44")
    world.drain()
    assert world.record(failed).status is Status.FAILED
    refused = world.request("POST", f"/deployments/{failed}/rollback", b"")
    assert refused.status_code == 409 and "only a succeeded deployment" in json.loads(refused.body)["error"]
    assert world.request("POST", "/deployments/d-0000000000000000/rollback", b"").status_code == 404
