"""Failure paths end `failed` with the reason, and production is never touched."""

from __future__ import annotations

import json
from typing import Any

import pytest
from controller_harness import (
    APPLICATION,
    BLUE,
    GREEN,
    OLD_LABEL,
    PROD_CNAME,
    REGION,
    SOLUTION_STACK,
    World,
    aws_client,
)

import moto_ext
from controller.core.observation import HttpCheck

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
    world.be.set_outcome(GREEN, moto_ext.Outcome.RED)
    view = _deploy_and_drain(world)
    assert view["status"] == "failed"
    assert _failed_step(view)["name"] == "wait_ready"
    assert "Instance deployment failed. For details, see 'eb-engine.log'." in view["error"]  # the cause
    assert "Failed to deploy application." in view["failure_events"]
    _production_untouched(world)


def test_a_stuck_update_times_out_and_is_aborted(world: World) -> None:
    world.be.set_outcome(GREEN, moto_ext.Outcome.STUCK)
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
    world.be.set_outcome(GREEN, moto_ext.Outcome.SILENT_ROLLBACK)
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
    assert _failed_step(view)["name"] == "drain", "the first step that looks for the pair"
    assert "no live web-server environment owns the production CNAME" in view["error"]
    assert world.calls["elasticbeanstalk.UpdateEnvironment"] == 0


def test_three_live_environments_fail(world: World) -> None:
    aws_client("elasticbeanstalk", region_name=REGION).create_environment(
        ApplicationName=APPLICATION, EnvironmentName=f"{APPLICATION}-red", SolutionStackName=SOLUTION_STACK
    )
    view = _deploy_and_drain(world)
    assert view["status"] == "failed"
    assert "more than one candidate for pre-production" in view["error"]
    assert f"{APPLICATION}-red" in view["error"] and "PREPROD_CNAME_PREFIX" in view["error"]
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
    drain = next(s for s in waiting["steps"] if s["name"] == "drain")
    assert drain["status"] == "running" and "DNS_TTL_S" in drain["detail"], "it just changed: the TTL first"
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


def test_an_update_request_that_never_reached_beanstalk_is_sent_again(world: World) -> None:
    """UpdateEnvironment answered 503 and changed nothing: the next tick sees pre-production untouched since
    the request and sends it again (once)."""
    attempts = world.refuse("UpdateEnvironment", "ServiceUnavailable", "Service Unavailable", status=503)
    response = world.post_deployment(TAG)
    world.drain()
    view = world.get_deployment(json.loads(response.body)["id"])
    assert view["status"] == "succeeded", view["error"]
    assert len(attempts) == 2
    assert world.prod_owner() == GREEN


# --- health after Ready, failures after the swap, DNS: the emulation's own faults ---------------------------


def test_red_persisting_on_the_new_version_past_the_grace_fails_and_production_is_untouched(
    world: World,
) -> None:
    world.be.set_fault(moto_ext.Fault.STAYS_RED)  # Ready on the new version, health Red until the next update
    view = _deploy_and_drain(world)
    assert view["status"] == "failed"
    assert _failed_step(view)["name"] == "wait_ready"
    assert f"on {TAG} but its health stayed Red for {world.rt.config.health_grace_s} s" in view["error"]
    _production_untouched(world)


def test_a_transient_red_after_ready_is_waited_out(world: World) -> None:
    world.be.set_fault(moto_ext.Fault.TRANSIENT_RED)  # Red for health_recovery_s (60 s) after Ready
    assert world.be.controls.timings.health_recovery_s < world.rt.config.health_grace_s
    view = _deploy_and_drain(world)
    assert view["status"] == "succeeded", view["error"]
    assert world.prod_owner() == GREEN
    health = [
        e.message
        for e in world.be.events
        if e.environment_name == GREEN and "health" in e.message and "Initialization" not in e.message
    ]
    assert health == [
        "Environment health has transitioned from Pending to Severe.",
        "Environment health has transitioned from Severe to Ok.",
    ]


def test_a_failure_after_the_swap_swaps_back_by_itself_and_ends_rolled_back(world: World) -> None:
    world.be.set_fault(moto_ext.Fault.FAILS_AFTER_SWAP)  # the new version fails /health once production
    view = _deploy_and_drain(world)
    assert view["status"] == "rolled_back", view
    assert view["error"].startswith("rolled back by the controller: ")
    assert "HTTP 503" in view["error"] and "verified" in view["error"]
    steps = {s["name"]: s["status"] for s in view["steps"]}
    assert (steps["verify"], steps["swap"]) == ("failed", "rolled_back")
    assert world.prod_owner() == BLUE
    assert world.environments()[BLUE].version_label == OLD_LABEL
    assert world.calls["elasticbeanstalk.SwapEnvironmentCNAMEs"] == 2  # the swap and its swap back
    assert world.rt.store.lease(world.rt.config.eb_application).holder is None


def test_dns_still_giving_the_previous_environment_after_the_swap_is_waited_out(world: World) -> None:
    """dns-lag: a resolver keeps the production name's answer for 100 s; users keep it warm by calling
    production on every tick, so after the swap it still leads to the previous environment for a while."""
    world.be.set_fault(moto_ext.Fault.DNS_LAG)
    world.be.set_timings(dns_ttl_s=100)
    lagging: list[Any] = []

    def users_call_production(world: World, _message: Any) -> None:
        answered = world.http_get(f"http://{PROD_CNAME}/").version
        if world.prod_owner() == GREEN and answered == OLD_LABEL:
            lagging.append(world.clock.now)

    response = world.post_deployment(TAG)
    assert response.status_code == 202, response.body
    for _ in world.run(on_message=users_call_production):
        pass
    view = world.get_deployment(json.loads(response.body)["id"])
    assert view["status"] == "succeeded", view["error"]
    assert world.calls["elasticbeanstalk.SwapEnvironmentCNAMEs"] == 1
    assert lagging, "DNS never lagged behind the swap"
    verify = next(s for s in view["steps"] if s["name"] == "verify")
    assert verify["finished_at"] >= lagging[-1].strftime("%Y-%m-%dT%H:%M:%SZ"), (
        "verified only once DNS caught up"
    )


def test_a_production_name_cached_past_the_verify_window_is_a_warning_not_a_swap_back(world: World) -> None:
    """dns-lag longer than VERIFY_WINDOW_S: the new environment answers the new version directly and owns
    production's CNAME, but resolvers keep leading the name to the previous environment. That is no
    failure: the deployment succeeds, and its record warns about DNS (issue 18, item 10)."""
    window = world.rt.config.verify_window_s
    world.be.set_fault(moto_ext.Fault.DNS_LAG)
    world.be.set_timings(dns_ttl_s=window + 100)

    def users_call_production(world: World, _message: Any) -> None:
        world.http_get(f"http://{PROD_CNAME}/")  # resolvers hold the old target when the swap settles

    response = world.post_deployment(TAG)
    for _ in world.run(on_message=users_call_production):
        pass

    view = world.get_deployment(json.loads(response.body)["id"])
    assert view["status"] == "succeeded", view["error"]
    assert len(view["warnings"]) == 1, view["warnings"]
    assert "DNS" in view["warnings"][0] and OLD_LABEL in view["warnings"][0]
    verify = next(s for s in view["steps"] if s["name"] == "verify")
    assert verify["status"] == "succeeded" and "(DNS)" in verify["detail"]
    assert world.prod_owner() == GREEN
    assert world.calls["elasticbeanstalk.SwapEnvironmentCNAMEs"] == 1


def test_an_update_refused_because_its_bundle_is_gone_fails_alone_and_the_next_deployment_succeeds(
    world: World,
) -> None:
    """A version whose source bundle was deleted from S3: Beanstalk refuses UpdateEnvironment before it
    changes anything (the emulation's deploy hook is set, as in the sandbox, where it used to leave
    pre-production Updating for good). That deployment fails with the refusal; the next one goes through
    (issue 23, item 9)."""
    from controller_harness import ENV, IMAGE

    world.be.set_deploy_hook(GREEN, lambda request: moto_ext.DeployResult(moto_ext.Outcome.GREEN))
    key = f"{APPLICATION}/1.0.50.zip"
    aws_client("s3").put_object(Bucket=ENV["ARTIFACT_BUCKET"], Key=key, Body=b"soon gone")
    aws_client("elasticbeanstalk").create_application_version(
        ApplicationName=APPLICATION,
        VersionLabel="1.0.50",
        Description=f"{IMAGE}:1.0.50",
        SourceBundle={"S3Bucket": ENV["ARTIFACT_BUCKET"], "S3Key": key},
    )
    aws_client("s3").delete_object(Bucket=ENV["ARTIFACT_BUCKET"], Key=key)

    refused = world.post_deployment("1.0.50")
    world.drain()
    view = world.get_deployment(json.loads(refused.body)["id"])
    assert view["status"] == "failed", view
    assert "UpdateEnvironment was refused" in view["error"] and "Unable to download" in view["error"]
    assert world.environments()[GREEN].status == "Ready"
    _production_untouched(world)

    world.clock.advance(3600)
    following = world.post_deployment("1.0.51")
    world.drain()
    assert world.get_deployment(json.loads(following.body)["id"])["status"] == "succeeded"
    assert world.prod_owner() == GREEN and world.environments()[GREEN].version_label == "1.0.51"
