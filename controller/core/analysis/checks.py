"""The checks of the metric analysis (pure data): each has a name, a query (what it measures over the new
production's window since the swap), a condition (its limit) and a minimum request count (fewer requests in
the window is "too little traffic to judge": written in the record, never a failure).

- `ErrorRate`, the default `5xx-rate`: (HTTPCode_Target_5XX_Count + HTTPCode_ELB_5XX_Count) / RequestCount of
  the new production's Application Load Balancer at most `max_percent` (1%), with at least 50 requests.
- `LatencyRatio`, the default `p99-latency`: its TargetResponseTime at `percentile` (p99) at most `max_ratio`
  (2x) the previous version's over its last hour as production. An increase under `floor_s` never fails:
  a few milliseconds of noise on a fast service is no regression.
- `MetricLimit`: any CloudWatch metric (a user's application metric, another ALB metric), one statistic over
  the window, at most `maximum` and/or at least `minimum`. Dimension values `${LoadBalancer}` and
  `${EnvironmentName}` stand for the new production's load balancer and environment.
- `AlarmCheck`: a CloudWatch alarm; in state ALARM it fails the check (before the swap, production is not
  touched while it fires).

The ALB metrics are those of https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
(namespace AWS/ApplicationELB, dimension LoadBalancer = "app/<name>/<id>", the last part of the ARN).
"""

from __future__ import annotations

from dataclasses import dataclass

LOAD_BALANCER = "${LoadBalancer}"
ENVIRONMENT_NAME = "${EnvironmentName}"


@dataclass(frozen=True)
class ErrorRate:
    name: str = "5xx-rate"
    max_percent: float = 1.0
    min_requests: int = 50


@dataclass(frozen=True)
class LatencyRatio:
    name: str = "p99-latency"
    percentile: str = "p99"
    max_ratio: float = 2.0
    floor_s: float = 0.1
    min_requests: int = 50


@dataclass(frozen=True)
class MetricLimit:
    name: str
    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str
    maximum: float | None = None
    minimum: float | None = None
    min_requests: int = 0


@dataclass(frozen=True)
class AlarmCheck:
    name: str
    alarm_name: str
    min_requests: int = 0


Check = ErrorRate | LatencyRatio | MetricLimit | AlarmCheck

DEFAULT_CHECKS: tuple[Check, ...] = (ErrorRate(), LatencyRatio())


def alarm_names(checks: tuple[Check, ...]) -> tuple[str, ...]:
    return tuple(c.alarm_name for c in checks if isinstance(c, AlarmCheck))


def measures_traffic(checks: tuple[Check, ...]) -> bool:
    """Whether any check needs the new production's load balancer metrics."""
    return any(not isinstance(c, AlarmCheck) for c in checks)
