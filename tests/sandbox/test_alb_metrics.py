"""The sandbox's load balancers publish what they served to CloudWatch as ELB does: per period, in
AWS/ApplicationELB with the LoadBalancer dimension, a controller reads them back with GetMetricData."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

import moto_ext
from sandbox.network.alb_metrics import LoadBalancerMetrics
from sandbox.network.front import Served

T0 = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC).timestamp()
BLUE = "app/awseb-AWSEB-1BLUE0000000/0123456789abcdef"


@pytest.fixture
def cloudwatch(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    moto_ext.install()
    with mock_aws():
        yield boto3.client("cloudwatch", region_name="us-east-1")


def _published(cloudwatch: Any, now: list[float]) -> LoadBalancerMetrics:
    def put(data: list[dict[str, Any]]) -> None:
        cloudwatch.put_metric_data(Namespace="AWS/ApplicationELB", MetricData=data)

    return LoadBalancerMetrics(put, {"blue": BLUE, "worker": None}.get, lambda: 60.0, clock=lambda: now[0])


def _get(cloudwatch: Any, name: str, stat: str) -> list[tuple[datetime, float]]:
    query = {
        "Id": "q",
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/ApplicationELB",
                "MetricName": name,
                "Dimensions": [{"Name": "LoadBalancer", "Value": BLUE}],
            },
            "Period": 60,
            "Stat": stat,
        },
    }
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=[query],
        StartTime=datetime.fromtimestamp(T0, UTC),
        EndTime=datetime.fromtimestamp(T0 + 180, UTC),
        ScanBy="TimestampAscending",
    )["MetricDataResults"][0]
    return [(t.astimezone(UTC), v) for t, v in zip(answer["Timestamps"], answer["Values"], strict=True)]


def test_a_period_is_published_once_it_has_ended_and_read_back_as_elb_metrics(cloudwatch: Any) -> None:
    now = [T0 + 10]
    metrics = _published(cloudwatch, now)
    for n in range(196):
        metrics(Served("blue", "app.example.com", 200, 0.010, T0 + n * 0.2))
    for n in range(4):
        metrics(Served("blue", "app.example.com", 500, 0.500, T0 + 40 + n))
    metrics(Served("blue", "app.example.com", 503, None, T0 + 50))  # the load balancer's own 503
    metrics(Served("blue", "app.example.com", 200, 0.02, T0 + 70))  # the next period

    assert metrics.flush() == 0, "the period has not ended"
    now[0] = T0 + 61
    metrics.flush()

    minute = datetime.fromtimestamp(T0, UTC)
    assert _get(cloudwatch, "RequestCount", "Sum") == [(minute, 200.0)]
    assert _get(cloudwatch, "HTTPCode_Target_5XX_Count", "Sum") == [(minute, 4.0)]
    assert _get(cloudwatch, "HTTPCode_ELB_5XX_Count", "Sum") == [(minute, 1.0)]
    assert _get(cloudwatch, "TargetResponseTime", "p99") == [(minute, 0.5)]
    assert _get(cloudwatch, "TargetResponseTime", "p50") == [(minute, 0.01)]
    now[0] = T0 + 121
    metrics.flush()
    assert _get(cloudwatch, "RequestCount", "Sum")[-1] == (minute + timedelta(minutes=1), 1.0)


def test_nothing_is_published_for_an_environment_without_a_load_balancer_or_a_quiet_period(
    cloudwatch: Any,
) -> None:
    now = [T0 + 200]
    metrics = _published(cloudwatch, now)
    metrics(Served("worker", "worker.example.com", 200, 0.01, T0))

    assert metrics.flush() == 0
    assert _get(cloudwatch, "RequestCount", "Sum") == []


def test_the_targets_4xx_answers_are_counted_apart_as_elb_does(cloudwatch: Any) -> None:
    """HTTPCode_Target_4XX_Count: the 4xx the targets answered (a scanner's 404s), also counted in
    RequestCount."""
    now = [T0 + 10]
    metrics = _published(cloudwatch, now)
    for n in range(6):
        metrics(Served("blue", "app.example.com", 404, 0.002, T0 + n))
    metrics(Served("blue", "app.example.com", 200, 0.010, T0 + 30))
    now[0] = T0 + 61
    metrics.flush()

    minute = datetime.fromtimestamp(T0, UTC)
    assert _get(cloudwatch, "HTTPCode_Target_4XX_Count", "Sum") == [(minute, 6.0)]
    assert _get(cloudwatch, "RequestCount", "Sum") == [(minute, 7.0)]
