"""Redeploy: a new deployment for an image and tag whose latest deployment has finished, whatever its
outcome; while one for them is queued, running or held, that one (POST stays idempotent for retries)."""

from __future__ import annotations

import json
from typing import Any

from controller_harness import GREEN, IMAGE, World

import moto_ext
from controller.core.model import Status, deployment_id

TAG = "1.0.42-3f2a1bc"


def _post(world: World, **extra: Any) -> tuple[int, dict[str, Any]]:
    response = world.post_deployment(TAG, **extra)
    return response.status_code, json.loads(response.body)


def test_a_redeploy_after_a_failure_is_a_new_deployment_that_can_succeed(world: World) -> None:
    world.be.set_outcome(GREEN, moto_ext.Outcome.RED)  # a bad moment for Beanstalk
    status, first = _post(world)
    world.drain()
    assert status == 202 and world.record(first["id"]).status is Status.FAILED

    world.be.set_outcome(GREEN, moto_ext.Outcome.GREEN)
    status, again = _post(world, redeploy=True)
    assert status == 202, again
    assert again["id"] != first["id"] and again["attempt"] == 2
    world.drain()

    assert world.record(again["id"]).status is Status.SUCCEEDED
    assert world.record(first["id"]).status is Status.FAILED  # history is kept
    assert world.prod_owner() == GREEN
    assert world.calls["elasticbeanstalk.CreateApplicationVersion"] == 1  # the version is reused
    # a plain notification of the same image and tag now answers with the latest attempt
    status, latest = _post(world)
    assert status == 200 and latest["id"] == again["id"] and latest["status"] == "succeeded"


def test_a_redeploy_while_one_runs_returns_that_one(world: World) -> None:
    _, first = _post(world)
    world.deliver(world.queue.pop_next())  # type: ignore[arg-type]
    assert world.record(first["id"]).status is Status.RUNNING

    status, same = _post(world, redeploy=True)

    assert status == 200 and same["id"] == first["id"] and same["status"] == "running"
    world.drain()
    assert world.record(first["id"]).status is Status.SUCCEEDED


def test_a_retried_redeploy_finds_the_deployment_the_first_one_made(world: World) -> None:
    _post(world)
    world.drain()

    status, made = _post(world, redeploy=True)
    retry_status, retried = _post(world, redeploy=True)

    assert (status, retry_status) == (202, 200)
    assert retried["id"] == made["id"] == deployment_id(IMAGE, TAG, 2)
    world.drain()
    assert world.record(made["id"]).status is Status.SUCCEEDED
    assert world.calls["elasticbeanstalk.SwapEnvironmentCNAMEs"] == 2  # two deployments, two swaps


def test_a_redeploy_of_a_tag_never_deployed_is_its_first_deployment(world: World) -> None:
    status, first = _post(world, redeploy=True)
    assert status == 202 and first["attempt"] == 1
    assert first["id"] == deployment_id(IMAGE, TAG)


def test_without_redeploy_a_finished_deployment_is_returned_not_repeated(world: World) -> None:
    world.be.set_outcome(GREEN, moto_ext.Outcome.RED)
    _, first = _post(world)
    world.drain()
    status, again = _post(world)
    assert status == 200 and again["id"] == first["id"] and again["status"] == "failed"
    assert world.queue.pending == []
