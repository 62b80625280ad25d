"""Questions to CloudWatch and its answers, as plain data (pure): one GetMetricData request (a time range
and queries, each a metric, a statistic and a period) and what it answered (each query's datapoints), the
state of alarms, and the load balancer a Beanstalk environment reports.

An Application Load Balancer's metrics are in AWS/ApplicationELB with the dimension LoadBalancer =
"app/<name>/<id>", the last part of its ARN; DescribeEnvironmentResources names an environment's ALB by that
ARN. ELB publishes nothing for a period without requests: a missing datapoint is zero requests.
(https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

NAMESPACE = "AWS/ApplicationELB"
REQUEST_COUNT = "RequestCount"
TARGET_4XX = "HTTPCode_Target_4XX_Count"
TARGET_5XX = "HTTPCode_Target_5XX_Count"
ELB_5XX = "HTTPCode_ELB_5XX_Count"
RESPONSE_TIME = "TargetResponseTime"
DIMENSION = "LoadBalancer"
_ALB_ARN = re.compile(r"arn:aws[a-z-]*:elasticloadbalancing:[^:]*:[0-9]*:loadbalancer/(app/[^/]+/[0-9a-f]+)")


@dataclass(frozen=True)
class MetricQuery:
    id: str  # ^[a-z][a-zA-Z0-9_]*$, unique in its request
    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str  # Sum | Average | Minimum | Maximum | SampleCount | pNN
    period_s: int


@dataclass(frozen=True)
class MetricRequest:
    start: datetime
    end: datetime
    queries: tuple[MetricQuery, ...]


Datapoints = tuple[tuple[datetime, float], ...]


@dataclass(frozen=True)
class MetricsView:
    """GetMetricData's answer to `request`: each query's datapoints, oldest first."""

    request: MetricRequest
    series: tuple[tuple[str, Datapoints], ...]

    def points(self, query_id: str) -> Datapoints:
        return next((points for name, points in self.series if name == query_id), ())

    def total(self, query_id: str, since: datetime, until: datetime | None = None) -> float:
        """The sum of the query's datapoints from `since` (until `until`); 0 when there are none."""
        return sum(v for t, v in self.points(query_id) if t >= since and (until is None or t < until))

    def largest(self, query_id: str, since: datetime, until: datetime | None = None) -> float | None:
        """The largest datapoint from `since` (until `until`); None when there is none."""
        found = [v for t, v in self.points(query_id) if t >= since and (until is None or t < until)]
        return max(found) if found else None


@dataclass(frozen=True)
class AlarmView:
    name: str
    state: str  # OK | ALARM | INSUFFICIENT_DATA
    updated_at: datetime | None = None


def alb_query(query_id: str, load_balancer: str, metric_name: str, stat: str, period_s: int) -> MetricQuery:
    return MetricQuery(query_id, NAMESPACE, metric_name, ((DIMENSION, load_balancer),), stat, period_s)


def load_balancer_dimension(name: str) -> str:
    """The CloudWatch LoadBalancer dimension of the load balancer DescribeEnvironmentResources names ("" for
    one that is not an Application Load Balancer: a Classic or Network one has no ALB metrics)."""
    found = _ALB_ARN.fullmatch(name.strip())
    return found.group(1) if found else ""


def align_down(moment: datetime, period_s: int) -> datetime:
    seconds = math.floor(moment.timestamp() / period_s) * period_s
    return datetime.fromtimestamp(seconds, UTC)


def align_up(moment: datetime, period_s: int) -> datetime:
    seconds = math.ceil(moment.timestamp() / period_s) * period_s
    return datetime.fromtimestamp(seconds, UTC)
