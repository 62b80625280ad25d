"""Failure paths end `failed` with the reason, and production is never touched."""

from __future__ import annotations

import json

import pytest
from controller_harness import APPLICATION, BLUE, GREEN, OLD_LABEL, REGION, SOLUTION_STACK, World, aws_client

from controller.observation import HttpCheck
from sandbox import beanstalk

TAG = "1.0.42-3f2a1bc"


def _deploy_and_drain(world: World) -> dict:
    response = world.post_deployment(TAG)
    assert response.status_code == 202, response.body
    world.drain()
    return world.get_deployment(json.loads(response.body)["id"])


def _production_untouched(world: World) -> None:
    assert world.prod_owner() == BLUE
    assert world.environments()[BLUE].version_label == OLD_LABEL
    assert world.calls["elasticbeanstalk.SwapEnvironmentCNAMEs"] == 0


def _failed_step(view: dict) -> dict:
    return next(s for s in view["steps"] if s["status"] == "failed")


def test_red_after_deploy_fails_with_beanstalks_failure_events(world: World) -> None:
    world.be.set_outcome(GREEN, beanstalk.Outcome.RED)
    view = _deploy_and_drain(world)
    assert view["status"] == "failed"
    assert _failed_step(view)["name"] == "wait_ready"
    assert "Failed to deploy application." in view["error"]
    assert "Failed to deploy application." in view["failure_events"]
    _production_untouched(world)


def test_a_stuck_update_times_out_and_is_aborted(world: World) -> None:
    world.be.set_outcome(GREEN, beanstalk.Outcome.STUCK)
    view = _deploy_and_drain(world)
    assert view["status"] == "failed"
    assert _failed_step(view)["name"] == "wait_ready"
    assert "update aborted" in view["error"]
    assert world.calls["elasticbeanstalk.AbortEnvironmentUpdate"] == 1
    green = world.environments()[GREEN]
    assert (green.status, green.version_label) == ("Ready", OLD_LABEL)
    _production_untouched(world)


def test_a_failing_smoke_test_stops_before_the_swap(world: World) -> None:
    world.broken_health[GREEN] = HttpCheck(url="", status=500)
    view = _deploy_and_drain(world)
    assert view["status"] == "failed"
    assert _failed_step(view)["name"] == "smoke_test"
    assert "HTTP 500" in view["error"]
    _production_untouched(world)


def test_a_silent_rollback_is_a_failure(world: World) -> None:
    world.be.set_outcome(GREEN, beanstalk.Outcome.SILENT_ROLLBACK)
    view = _deploy_and_drain(world)
    assert view["status"] == "failed"
    assert "rolled the update back" in view["error"]
    _production_untouched(world)


def test_no_environment_with_the_production_cname_fails(world: World) -> None:
    eb = aws_client("elasticbeanstalk", region_name=REGION)
    eb.terminate_environment(EnvironmentName=BLUE)
    world.be.advance()
    view = _deploy_and_drain(world)
    assert view["status"] == "failed"
    assert _failed_step(view)["name"] == "deploy_preprod"
    assert "no live environment has the production CNAME" in view["error"]
    assert world.calls["elasticbeanstalk.UpdateEnvironment"] == 0


def test_three_live_environments_fail(world: World) -> None:
    aws_client("elasticbeanstalk", region_name=REGION).create_environment(
        ApplicationName=APPLICATION, EnvironmentName=f"{APPLICATION}-red", SolutionStackName=SOLUTION_STACK
    )
    view = _deploy_and_drain(world)
    assert view["status"] == "failed"
    assert "exactly one pre-production" in view["error"]
    assert world.calls["elasticbeanstalk.UpdateEnvironment"] == 0
    _production_untouched(world)


def test_preproduction_busy_at_first_makes_the_deployment_wait_then_proceed(world: World) -> None:
    eb = aws_client("elasticbeanstalk", region_name=REGION)
    world.be.settle_after_s = 120
    eb.update_environment(EnvironmentName=GREEN, VersionLabel=OLD_LABEL)  # someone else's update
    assert world.environments()[GREEN].status == "Updating"
    response = world.post_deployment(TAG)
    world.deliver(json.loads(response.body)["id"])
    waiting = world.get_deployment(json.loads(response.body)["id"])
    assert waiting["status"] == "running"
    assert next(s for s in waiting["steps"] if s["name"] == "deploy_preprod")["status"] == "running"
    assert world.calls["elasticbeanstalk.UpdateEnvironment"] == 0
    world.be.settle_after_s = 5
    world.drain()
    assert world.get_deployment(waiting["id"])["status"] == "succeeded"
    assert world.prod_owner() == GREEN


def test_a_version_label_taken_by_another_image_fails_without_overwriting_it(world: World) -> None:
    response = world.post_deployment(OLD_LABEL, image="docker.io/someone/else")
    world.drain()
    view = world.get_deployment(json.loads(response.body)["id"])
    assert view["status"] == "failed"
    assert "already exists for another image" in view["error"]
    assert world.calls["s3.PutObject"] == 0
    _production_untouched(world)


@pytest.mark.parametrize("rate", [0.3])
def test_throttled_describe_calls_are_retried_adaptively(world: World, rate: float) -> None:
    world.be.set_throttling(rate, seed=3)
    view = _deploy_and_drain(world)
    assert view["status"] == "succeeded"
    assert world.calls["elasticbeanstalk.SwapEnvironmentCNAMEs"] == 1


def test_an_update_request_lost_after_its_decision_was_saved_is_sent_again(world: World) -> None:
    """UpdateEnvironment throttled beyond the retries: the tick fails after saving its decision, SQS
    redelivers the message, and the next tick sees Beanstalk never touched pre-production: it asks again."""
    from botocore.exceptions import ClientError

    eb = world.rt.eb
    real = eb.update_environment
    attempts = []

    def throttled_once(**kwargs: object) -> object:
        attempts.append(kwargs)
        if len(attempts) == 1:
            raise ClientError(
                {"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "UpdateEnvironment"
            )
        return real(**kwargs)

    eb.update_environment = throttled_once
    response = world.post_deployment(TAG)
    message = world.queue.pop_next()
    with pytest.raises(ClientError):
        world.deliver(message)  # the Lambda fails; the message becomes visible again
    world.clock.advance(360)  # the queue's visibility timeout
    world.deliver(message)
    world.drain()
    view = world.get_deployment(json.loads(response.body)["id"])
    assert view["status"] == "succeeded", view["error"]
    assert len(attempts) == 2
    assert world.prod_owner() == GREEN
