"""Evidence instead of timers, through the emulation: the analysis of production's load balancer metrics
after the swap, the drain of the previous production before it is redeployed, and the analysis' alarms.
Production's users are the World's (`world.users`): each minute its load balancers put what they served
into CloudWatch, as ELB does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from controller_harness import BLUE, GREEN, OLD_LABEL, World, aws_client
from moto import mock_aws

from controller.core.model import Status, StepName, StepStatus

TAG, NEXT = "1.0.42-3f2a1bc", "1.0.43-4a5b6c7"


def _deploy(world: World, tag: str = TAG) -> str:
    response = world.post_deployment(tag)
    assert response.status_code == 202, response.body
    deployment_id = str(json.loads(response.body)["id"])
    world.drain()
    return deployment_id


def test_an_analysis_rolls_back_a_release_that_answers_5_percent_500_while_health_stays_green(
    world: World,
) -> None:
    world.users.per_minute = 600
    world.users.errors[TAG] = 0.05

    deployment_id = _deploy(world)

    record = world.record(deployment_id)
    assert record.status is Status.ROLLED_BACK
    assert record.error is not None and record.error.startswith(
        "rolled back by the controller: analysis failed: 5xx-rate 5.0% > 1.0% over 600 requests"
    ), record.error
    verify = record.step(StepName.VERIFY)
    assert verify.status is StepStatus.FAILED
    assert "p99-latency 0.050 s <= 0.150 s" in (verify.detail or ""), "every check's measurement"
    assert world.prod_owner() == BLUE
    assert world.environments()[GREEN].health == "Green", "Beanstalk's health alone would have kept it"


def test_a_good_release_with_traffic_is_verified_by_its_measurements(world: World) -> None:
    world.users.per_minute = 600

    deployment_id = _deploy(world)

    record = world.record(deployment_id)
    assert record.status is Status.SUCCEEDED
    verify = record.step(StepName.VERIFY).detail or ""
    assert "analysis of 60 s since the swap: 5xx-rate 0.0% <= 1.0% over 600 requests" in verify
    assert record.baseline is not None and record.baseline.latency_s == pytest.approx(0.05)
    assert world.calls["cloudwatch.GetMetricData"] >= 2, "the drain's and the analysis'"


def test_too_little_traffic_is_written_in_the_record_and_the_deployment_goes_on(world: World) -> None:
    world.users.per_minute = 5

    deployment_id = _deploy(world)

    record = world.record(deployment_id)
    assert record.status is Status.SUCCEEDED
    assert "too little traffic to judge within VERIFY_WINDOW_S=300 s" in (
        record.step(StepName.VERIFY).detail or ""
    )


def _deploy_until_finished(world: World, tag: str = TAG) -> str:
    """Deliver ticks only until the deployment has finished (later safety polls stay queued)."""
    deployment_id = str(json.loads(world.post_deployment(tag).body)["id"])
    for _ in world.run():
        if world.record(deployment_id).finished:
            break
    return deployment_id


def test_the_previous_production_is_redeployed_only_once_its_stale_users_have_left(world: World) -> None:
    """After the first deployment's swap, some users keep reaching blue for 5 minutes; the next deployment,
    right after, drains blue (showing the curve) and updates it only DRAIN_WINDOW_S after the last of them."""
    world.users.per_minute, world.users.stale_per_minute, world.users.stale_minutes = 600, 40, 5
    first = _deploy_until_finished(world)
    assert world.record(first).status is Status.SUCCEEDED and world.prod_owner() == GREEN
    stale_until = world.stale_until()
    assert stale_until is not None

    second = _deploy_until_finished(world, NEXT)

    record = world.record(second)
    assert record.status is Status.SUCCEEDED, record.error
    drain = record.step(StepName.DRAIN)
    assert drain.detail is not None and f"requests/min on {BLUE} since " in drain.detail
    assert " 40 40 " in drain.detail, drain.detail
    assert drain.detail.endswith("drained (at most 0/min for DRAIN_WINDOW_S=120 s)")
    last_stale_minute = stale_until.replace(second=0)
    assert record.deploy_requested_at is not None
    assert record.deploy_requested_at >= last_stale_minute + timedelta(seconds=60 + 120), "a clean window"
    assert world.environments()[BLUE].version_label == NEXT


def test_a_previous_production_that_never_drains_fails_the_deployment_untouched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DRAIN_TIMEOUT_S", "600")
    with mock_aws():
        world = World()
        world.users.per_minute, world.users.stale_per_minute, world.users.stale_minutes = 600, 40, 10_000
        _deploy(world)
        updates = world.calls["elasticbeanstalk.UpdateEnvironment"]

        second = _deploy(world, NEXT)

        record = world.record(second)
        assert record.status is Status.FAILED
        assert record.step(StepName.DRAIN).status is StepStatus.FAILED
        assert f"{BLUE} still received up to 40 requests/min after DRAIN_TIMEOUT_S=600 s" in (
            record.error or ""
        )
        assert world.calls["elasticbeanstalk.UpdateEnvironment"] == updates, "the old production untouched"
        assert world.environments()[BLUE].version_label == OLD_LABEL and world.prod_owner() == GREEN


@pytest.fixture
def alarmed(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    checks = [{"name": "latency-alarm", "alarm": "shop-p99-high"}]
    monkeypatch.setenv("ANALYSIS_CHECKS", json.dumps(checks))
    with mock_aws():
        world = World()
        aws_client("cloudwatch").put_metric_alarm(
            AlarmName="shop-p99-high",
            Namespace="Shop",
            MetricName="Latency",
            Statistic="Average",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1.0,
            ComparisonOperator="GreaterThanThreshold",
        )
        yield world


def test_an_alarm_already_in_alarm_fails_the_deployment_before_the_swap(alarmed: World) -> None:
    aws_client("cloudwatch").set_alarm_state(
        AlarmName="shop-p99-high", StateValue="ALARM", StateReason="threshold crossed"
    )

    deployment_id = _deploy(alarmed)

    record = alarmed.record(deployment_id)
    assert record.status is Status.FAILED
    assert record.step(StepName.SWAP).status is StepStatus.FAILED
    assert "alarm shop-p99-high in ALARM before the swap" in (record.error or "")
    assert alarmed.calls["elasticbeanstalk.SwapEnvironmentCNAMEs"] == 0
    assert alarmed.prod_owner() == BLUE


def test_an_alarm_that_stays_ok_lets_the_deployment_succeed(alarmed: World) -> None:
    aws_client("cloudwatch").set_alarm_state(AlarmName="shop-p99-high", StateValue="OK", StateReason="fine")

    deployment_id = _deploy(alarmed)

    record = alarmed.record(deployment_id)
    assert record.status is Status.SUCCEEDED
    assert "latency-alarm: alarm shop-p99-high is OK" in (record.step(StepName.VERIFY).detail or "")


def test_a_user_metric_that_is_missing_is_written_and_does_not_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    checks = [
        {"name": "checkout-errors", "metric": {"namespace": "Shop", "name": "CheckoutErrors"}, "max": 5}
    ]
    monkeypatch.setenv("ANALYSIS_CHECKS", json.dumps(checks))
    with mock_aws():
        world = World()
        world.users.per_minute = 600

        deployment_id = _deploy(world)

        record = world.record(deployment_id)
        assert record.status is Status.SUCCEEDED
        assert "checkout-errors: no data for Shop/CheckoutErrors Average" in (
            record.step(StepName.VERIFY).detail or ""
        )
