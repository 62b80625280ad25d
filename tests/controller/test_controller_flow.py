"""End to end through chalice.test.Client: signed POST, queued ticks (duplicated, reordered) -> succeeded."""

from __future__ import annotations

import json
import random

import pytest
from controller_harness import BLUE, GREEN, OLD_LABEL, World

TAG = "1.0.42-3f2a1bc"


def test_a_signed_notification_deploys_blue_green_with_exactly_one_swap(world: World) -> None:
    response = world.post_deployment(TAG, commit="3f2a1bc", build_url="https://circleci.com/gh/acme/1")
    assert response.status_code == 202, response.body
    body = json.loads(response.body)
    assert response.headers["Location"] == f"/deployments/{body['id']}"
    assert body["status"] == "queued" and body["version_label"] == TAG
    assert world.prod_owner() == BLUE

    ticks = world.drain()

    view = world.get_deployment(body["id"])
    assert view["status"] == "succeeded", view
    assert [(s["name"], s["status"]) for s in view["steps"]] == [
        ("create_version", "succeeded"),
        ("drain", "succeeded"),
        ("deploy_preprod", "succeeded"),
        ("wait_ready", "succeeded"),
        ("smoke_test", "succeeded"),
        ("promote", "skipped"),
        ("swap", "succeeded"),
        ("verify", "succeeded"),
        ("bake", "skipped"),
    ]
    assert (view["preprod_env"], view["prod_env"]) == (GREEN, BLUE)
    assert world.prod_owner() == GREEN
    assert world.environments()[GREEN].version_label == TAG
    assert world.environments()[BLUE].version_label == OLD_LABEL
    assert world.calls["elasticbeanstalk.SwapEnvironmentCNAMEs"] == 1
    assert world.calls["elasticbeanstalk.UpdateEnvironment"] == 1
    assert ticks >= 3


def test_duplicated_and_reordered_ticks_still_swap_exactly_once(world: World) -> None:
    deployment_id = json.loads(world.post_deployment(TAG).body)["id"]
    rng = random.Random(7)
    delivered = 0
    while world.queue.pending and delivered < 400:
        # Deliver every pending message (due or not, in random order), each of them twice.
        batch = list(world.queue.pending)
        world.queue.pending.clear()
        rng.shuffle(batch)
        world.clock.advance(30)  # Beanstalk settles in 5 s; the analysis measures a minute after the swap
        for message in batch:
            for _ in range(2):
                world.deliver(message)
                delivered += 1
    assert world.record(deployment_id).status.value == "succeeded"
    assert world.prod_owner() == GREEN
    assert world.calls["elasticbeanstalk.SwapEnvironmentCNAMEs"] == 1
    assert world.calls["elasticbeanstalk.UpdateEnvironment"] == 1


def test_late_ticks_after_success_change_nothing(world: World) -> None:
    deployment_id = json.loads(world.post_deployment(TAG).body)["id"]
    world.drain()
    calls_before = dict(world.calls)
    for _ in range(3):
        world.clock.advance(60)
        world.deliver(deployment_id)
    assert world.prod_owner() == GREEN
    assert world.calls["elasticbeanstalk.SwapEnvironmentCNAMEs"] == 1
    changed = {k: v - calls_before.get(k, 0) for k, v in world.calls.items() if v != calls_before.get(k, 0)}
    assert set(changed) <= {"dynamodb.GetItem"}, changed


def test_a_tick_for_an_unknown_deployment_or_a_malformed_message_is_dropped(world: World) -> None:
    world.deliver("d-doesnotexist")
    event = world.client.events.generate_sqs_event(message_bodies=["not json"], queue_name="q")
    world.client.lambda_.invoke("reconcile_tick", event)
    assert world.queue.pending == []
    assert world.aws_calls("elasticbeanstalk") == 0


def test_each_step_transition_is_one_json_log_line_with_the_deployment_id(
    world: World, controller_log: pytest.LogCaptureFixture
) -> None:
    deployment_id = json.loads(world.post_deployment(TAG).body)["id"]
    world.drain()
    lines = [
        json.loads(r.getMessage()) for r in controller_log.records if r.name == "deliverypipeline.controller"
    ]
    steps = [(line["step"], line["status"]) for line in lines if line["event"] == "step"]
    expected = []
    steps_before_bake = (
        "create_version",
        "drain",
        "deploy_preprod",
        "wait_ready",
        "smoke_test",
        "promote",
        "swap",
        "verify",
    )
    for name in steps_before_bake:
        expected += [(name, "running"), (name, "skipped" if name == "promote" else "succeeded")]
    expected += [("bake", "running"), ("bake", "skipped")]
    assert steps == expected
    assert all(
        line["deployment_id"] == deployment_id for line in lines if line["event"] in ("step", "deployment")
    )
    assert [line["status"] for line in lines if line["event"] == "deployment"] == [
        "queued",
        "running",
        "succeeded",
    ]


@pytest.mark.parametrize("outcome", ["GREEN", "RED", "STUCK"])
def test_every_tick_describes_environments_and_events_at_most_once(world: World, outcome: str) -> None:
    import moto_ext

    world.be.set_outcome(GREEN, moto_ext.Outcome[outcome])
    world.be.settle_after_s = 2000  # several safety polls before it settles (or times out)
    world.post_deployment(TAG)
    ticks = 0
    for _ in range(300):
        message = world.queue.pop_next()
        if message is None:
            break
        world.clock.now = max(world.clock.now, message.due)
        before = dict(world.calls)
        world.deliver(message)
        ticks += 1
        for operation in ("DescribeEnvironments", "DescribeEvents"):
            name = f"elasticbeanstalk.{operation}"
            assert world.calls[name] - before.get(name, 0) <= 1, (operation, ticks)
    assert ticks > 3


def test_a_stray_tick_for_a_running_deployment_does_not_start_a_second_polling_loop(world: World) -> None:
    """A kick or a repeated message from another tick chain reads the record and stops: the chain that
    took the lease is the only one that polls (so duplicates do not multiply the AWS calls)."""
    deployment_id = json.loads(world.post_deployment(TAG).body)["id"]
    world.deliver(world.queue.pop_next())  # type: ignore[arg-type]
    assert world.record(deployment_id).status.value == "running"
    pending, before = list(world.queue.pending), dict(world.calls)
    world.deliver(deployment_id)  # a message of a new chain
    assert world.queue.pending == pending
    changed = {k: v - before.get(k, 0) for k, v in world.calls.items() if v != before.get(k, 0)}
    assert changed == {"dynamodb.GetItem": 1}
    world.drain()
    assert world.record(deployment_id).status.value == "succeeded"


def test_an_existing_version_of_the_same_image_is_reused_not_recreated(world: World) -> None:
    """The version's bundle says which image it runs (its description is free text)."""
    from controller_harness import ENV, aws_client

    from controller.shell import bundle

    key = f"{ENV['EB_APPLICATION']}/{TAG}.zip"
    aws_client("s3").put_object(
        Bucket=ENV["ARTIFACT_BUCKET"],
        Key=key,
        Body=bundle.source_bundle("docker.io/acme/deliverypipeline", TAG),
    )
    aws_client("elasticbeanstalk").create_application_version(
        ApplicationName=ENV["EB_APPLICATION"],
        VersionLabel=TAG,
        Description="built by hand",
        SourceBundle={"S3Bucket": ENV["ARTIFACT_BUCKET"], "S3Key": key},
    )
    deployment_id = json.loads(world.post_deployment(TAG).body)["id"]
    world.drain()
    assert world.record(deployment_id).status.value == "succeeded"
    assert world.calls["elasticbeanstalk.CreateApplicationVersion"] == 0
    assert world.calls["s3.PutObject"] == 0
