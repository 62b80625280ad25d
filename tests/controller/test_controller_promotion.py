"""Manual promotion and abort, through the routes and the emulation: a held deployment waits in
`awaiting_promotion` with pre-production serving the new version; promote goes on to the swap, abort ends
it failed with production untouched, and an unpromoted one expires after PROMOTION_TIMEOUT_S."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from controller_harness import BLUE, GREEN, OLD_LABEL, World

from controller.core.model import Status, StepName, StepStatus

TAG = "1.0.42-3f2a1bc"


def _hold(world: World, tag: str = TAG) -> str:
    response = world.post_deployment(tag, promotion="manual")
    assert response.status_code == 202, response.body
    assert json.loads(response.body)["promotion"] == "manual"
    return str(json.loads(response.body)["id"])


def _held(world: World, tag: str = TAG) -> str:
    """A held deployment, drained until it awaits promotion."""
    deployment_id = _hold(world, tag)
    for _ in world.run():
        if world.record(deployment_id).status is Status.AWAITING_PROMOTION:
            break
    assert world.record(deployment_id).status is Status.AWAITING_PROMOTION
    return deployment_id


def _ask(world: World, deployment_id: str, what: str) -> Any:
    return world.request("POST", f"/deployments/{deployment_id}/{what}", b"{}")


def test_a_held_deployment_waits_with_pre_production_on_the_new_version(world: World) -> None:
    deployment_id = _held(world)

    view = world.get_deployment(deployment_id)
    steps = {s["name"]: s for s in view["steps"]}
    assert view["status"] == "awaiting_promotion" and view["promotion"] == "manual"
    assert steps["smoke_test"]["status"] == "succeeded"
    assert steps["promote"]["status"] == "running"
    assert f"/deployments/{deployment_id}/promote" in steps["promote"]["detail"]
    assert steps["swap"]["status"] == "pending"
    assert world.environments()[GREEN].version_label == TAG  # for people to look at
    assert world.prod_owner() == BLUE and world.environments()[BLUE].version_label == OLD_LABEL
    assert world.calls["elasticbeanstalk.SwapEnvironmentCNAMEs"] == 0


def test_promote_goes_on_to_the_swap_driven_by_one_tick_chain(world: World) -> None:
    deployment_id = _held(world)

    response = _ask(world, deployment_id, "promote")
    assert response.status_code == 202, response.body
    assert json.loads(response.body)["status"] == "running"
    for _ in world.run():
        if not world.record(deployment_id).finished:
            assert len(world.driving_ticks(deployment_id)) <= 1

    done = world.record(deployment_id)
    assert done.status is Status.SUCCEEDED
    assert done.step(StepName.PROMOTE).status is StepStatus.SUCCEEDED
    assert "promoted by request" in (done.step(StepName.PROMOTE).detail or "")
    assert world.prod_owner() == GREEN
    assert world.calls["elasticbeanstalk.SwapEnvironmentCNAMEs"] == 1


def test_promote_is_refused_unless_the_deployment_awaits_promotion(world: World) -> None:
    automatic = json.loads(world.post_deployment(TAG).body)["id"]
    assert _ask(world, automatic, "promote").status_code == 409  # queued
    world.drain()
    refused = _ask(world, automatic, "promote")
    assert refused.status_code == 409
    reason = "has succeeded; only a deployment awaiting promotion can be promoted"
    assert reason in json.loads(refused.body)["error"]
    assert _ask(world, "d-0000000000000000", "promote").status_code == 404


def test_abort_of_a_held_deployment_fails_it_and_leaves_production_alone(world: World) -> None:
    deployment_id = _held(world)

    response = _ask(world, deployment_id, "abort")
    assert response.status_code == 202, response.body
    world.drain()

    aborted = world.record(deployment_id)
    assert aborted.status is Status.FAILED and "aborted by request" in (aborted.error or "")
    assert aborted.step(StepName.PROMOTE).status is StepStatus.FAILED
    assert world.prod_owner() == BLUE and world.environments()[BLUE].version_label == OLD_LABEL
    assert world.calls["elasticbeanstalk.SwapEnvironmentCNAMEs"] == 0
    assert _ask(world, deployment_id, "promote").status_code == 409
    # the lease is free again: the next notification runs
    following = json.loads(world.post_deployment("1.0.43").body)["id"]
    world.drain()
    assert world.record(following).status is Status.SUCCEEDED


def test_abort_during_the_update_aborts_it_on_pre_production(world: World) -> None:
    world.be.set_timings(update_s=300)
    deployment_id = json.loads(world.post_deployment(TAG).body)["id"]
    world.deliver(world.queue.pop_next())  # type: ignore[arg-type]
    assert world.environments()[GREEN].status == "Updating"

    assert _ask(world, deployment_id, "abort").status_code == 202
    world.drain()

    aborted = world.record(deployment_id)
    assert aborted.status is Status.FAILED and "aborted by request" in (aborted.error or "")
    assert world.calls["elasticbeanstalk.AbortEnvironmentUpdate"] == 1
    assert world.environments()[GREEN].version_label == OLD_LABEL  # Beanstalk put it back
    assert world.prod_owner() == BLUE


def test_abort_of_a_queued_deployment_fails_it_before_it_starts(world: World) -> None:
    deployment_id = json.loads(world.post_deployment(TAG).body)["id"]
    assert _ask(world, deployment_id, "abort").status_code == 202
    world.drain()
    assert world.record(deployment_id).status is Status.FAILED
    assert world.calls["elasticbeanstalk.UpdateEnvironment"] == 0
    assert world.calls["elasticbeanstalk.CreateApplicationVersion"] == 0


def test_abort_is_refused_once_the_swap_was_requested_or_the_deployment_ended(world: World) -> None:
    deployment_id = json.loads(world.post_deployment(TAG).body)["id"]
    for _ in world.run():
        if world.record(deployment_id).swap_requested_at is not None:
            break
    refused = _ask(world, deployment_id, "abort")
    assert refused.status_code == 409 and "roll it back" in json.loads(refused.body)["error"]
    world.drain()
    assert world.record(deployment_id).status is Status.SUCCEEDED
    assert _ask(world, deployment_id, "abort").status_code == 409


def test_an_unpromoted_deployment_expires_after_the_promotion_timeout(world: World) -> None:
    deployment_id = _held(world)
    held_at = world.clock.now

    world.drain()

    expired = world.record(deployment_id)
    assert expired.status is Status.FAILED
    assert "not promoted within PROMOTION_TIMEOUT_S=3600 s" in (expired.error or "")
    assert world.clock.now - held_at >= timedelta(seconds=3600)
    assert world.clock.now - held_at <= timedelta(seconds=3600 + 5)
    assert world.prod_owner() == BLUE and world.calls["elasticbeanstalk.SwapEnvironmentCNAMEs"] == 0


def test_a_newer_notification_waits_for_the_held_one(world: World) -> None:
    held = _held(world)
    newer = json.loads(world.post_deployment("1.0.43").body)["id"]
    world.deliver(world.queue.pop_next())  # type: ignore[arg-type]
    assert world.record(newer).status is Status.QUEUED

    assert _ask(world, held, "promote").status_code == 202
    world.drain()

    assert world.record(held).status is Status.SUCCEEDED
    assert world.record(newer).status is Status.SUCCEEDED
    assert world.environments()[BLUE].version_label == "1.0.43" and world.prod_owner() == BLUE


@pytest.mark.parametrize("what", ["promote", "abort"])
def test_unsigned_promote_and_abort_are_refused(world: World, what: str) -> None:
    deployment_id = _held(world)
    response = world.request("POST", f"/deployments/{deployment_id}/{what}", b"{}", key="wrong")
    assert response.status_code == 401
    assert world.record(deployment_id).status is Status.AWAITING_PROMOTION
