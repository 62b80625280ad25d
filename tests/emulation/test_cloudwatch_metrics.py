"""CloudWatch's GetMetricData as a deploy controller reads a load balancer's metrics: sums per period, no
datapoint for a period nobody put data in, and percentile statistics (p99) from the raw values put, as
CloudWatch documents them (moto answers no percentile at all).
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Percentiles"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from .harness import Aws

T0 = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
LB = [{"Name": "LoadBalancer", "Value": "app/awseb-AWSEB-1BLUE0000000/0123456789abcdef"}]


def _put(aws: Aws, minute: int, name: str, **value: Any) -> None:
    aws.client("cloudwatch").put_metric_data(
        Namespace="AWS/ApplicationELB",
        MetricData=[
            {"MetricName": name, "Dimensions": LB, "Timestamp": T0 + timedelta(minutes=minute), **value}
        ],
    )


def _query(aws: Aws, name: str, stat: str, period: int = 60, minutes: int = 3, dimensions: Any = None) -> Any:
    answer = aws.client("cloudwatch").get_metric_data(
        MetricDataQueries=[
            {
                "Id": "q",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/ApplicationELB",
                        "MetricName": name,
                        "Dimensions": dimensions or LB,
                    },
                    "Period": period,
                    "Stat": stat,
                },
            }
        ],
        StartTime=T0,
        EndTime=T0 + timedelta(minutes=minutes),
        ScanBy="TimestampAscending",
    )["MetricDataResults"][0]
    return [(t.astimezone(UTC), v) for t, v in zip(answer["Timestamps"], answer["Values"], strict=True)]


def test_p99_is_taken_from_the_values_put_with_their_counts(aws: Aws) -> None:
    _put(aws, 0, "TargetResponseTime", Values=[0.010, 0.500], Counts=[196, 4], Unit="Seconds")

    assert _query(aws, "TargetResponseTime", "p99") == [(T0, 0.5)]
    assert _query(aws, "TargetResponseTime", "p98") == [(T0, 0.010)]
    assert _query(aws, "TargetResponseTime", "p50") == [(T0, 0.010)]


def test_a_percentile_over_a_longer_period_covers_every_value_in_it(aws: Aws) -> None:
    _put(aws, 0, "TargetResponseTime", Values=[0.010], Counts=[100])
    _put(aws, 1, "TargetResponseTime", Values=[0.900], Counts=[2])
    _put(aws, 2, "TargetResponseTime", Value=0.020)

    assert _query(aws, "TargetResponseTime", "p99", period=180) == [(T0, 0.9)]
    assert _query(aws, "TargetResponseTime", "p99") == [
        (T0, 0.010),
        (T0 + timedelta(minutes=1), 0.9),
        (T0 + timedelta(minutes=2), 0.020),
    ]


def test_counts_sum_per_period_and_a_period_without_data_has_no_datapoint(aws: Aws) -> None:
    _put(aws, 0, "RequestCount", Value=1200.0, Unit="Count")
    _put(aws, 0, "RequestCount", Value=4.0, Unit="Count")
    _put(aws, 2, "RequestCount", Value=30.0, Unit="Count")

    assert _query(aws, "RequestCount", "Sum") == [(T0, 1204.0), (T0 + timedelta(minutes=2), 30.0)]
    other = [{"Name": "LoadBalancer", "Value": "app/awseb-AWSEB-1GREEN000000/fedcba9876543210"}]
    assert _query(aws, "RequestCount", "Sum", dimensions=other) == []


def test_a_statistic_set_gives_a_percentile_only_when_its_values_are_known(aws: Aws) -> None:
    spread = {"SampleCount": 10, "Sum": 1.0, "Minimum": 0.01, "Maximum": 0.5}
    _put(aws, 0, "TargetResponseTime", StatisticValues=spread)
    single = {"SampleCount": 3, "Sum": 0.3, "Minimum": 0.1, "Maximum": 0.1}
    _put(aws, 1, "TargetResponseTime", StatisticValues=single)

    assert _query(aws, "TargetResponseTime", "p99") == [(T0 + timedelta(minutes=1), 0.1)]
    assert _query(aws, "TargetResponseTime", "Maximum") == [(T0, 0.5), (T0 + timedelta(minutes=1), 0.1)]
