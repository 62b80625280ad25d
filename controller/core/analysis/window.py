"""What a deployment asks CloudWatch, and what the answer measured (pure).

The analysis window of the new production starts at the first whole metrics period (METRICS_PERIOD_S)
after the swap completed, and ends at the last whole period before now: a period still under way, or the
swap's own, never counts (before the swap, the smoke test and the checks met the new environment).
Each query asks one datapoint covering the whole window. The first also asks the previous version's
latency over its last hour as production (the hour before the window, on the previous environment's load
balancer): the same request, the same period, so the hour's datapoint and the window's sit side by side.

The drain asks pre-production's RequestCount and HTTPCode_Target_4XX_Count per period, from DRAIN_WINDOW_S
before the drain started until the last whole period: their difference is the curve the drain judges and
shows, its users' requests (the internet's scanners reach every load balancer, and its target answers their
probes 404: they are nobody following production).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from controller.core.analysis.checks import ENVIRONMENT_NAME, LOAD_BALANCER, LatencyRatio, MetricLimit
from controller.core.analysis.metrics import (
    ELB_5XX,
    REQUEST_COUNT,
    RESPONSE_TIME,
    TARGET_4XX,
    TARGET_5XX,
    AlarmView,
    MetricQuery,
    MetricRequest,
    MetricsView,
    alb_query,
    align_down,
    align_up,
)
from controller.core.analysis.verdict import Measured
from controller.core.config import Config
from controller.core.model import Baseline, Deployment, StepName

BASELINE_S = 3600  # the previous version's latency is taken over its last hour as production
DEFAULT_PERCENTILE = "p99"


def analysis_start(d: Deployment, config: Config) -> datetime | None:
    """The first whole period after the swap completed (None before it did)."""
    swapped = d.step(StepName.SWAP).finished_at
    return None if swapped is None else align_up(swapped, config.metrics_period_s)


def first_window_end(d: Deployment, config: Config) -> datetime | None:
    """When the analysis can first measure: one whole period after its start."""
    start = analysis_start(d, config)
    return None if start is None else start + timedelta(seconds=config.metrics_period_s)


def analysis_request(d: Deployment, now: datetime, config: Config) -> MetricRequest | None:
    """The analysis' GetMetricData request now; None when there is nothing to ask (no whole period since
    the swap yet, or no check that measures metrics)."""
    start, end = analysis_start(d, config), align_down(now, config.metrics_period_s)
    if start is None or (end - start).total_seconds() < config.metrics_period_s:
        return None
    span = int((end - start).total_seconds())
    period = math.ceil(span / config.metrics_period_s) * config.metrics_period_s
    first = start
    queries: list[MetricQuery] = []
    new_lb = d.load_balancer(d.preprod_env) or ""
    checks = config.analysis_checks
    if d.baseline is None:
        period = max(period, BASELINE_S)
        first = start - timedelta(seconds=period)
        old_lb = d.load_balancer(d.prod_env) or ""
        if old_lb and any(isinstance(c, LatencyRatio) for c in checks):
            queries.append(alb_query("base", old_lb, RESPONSE_TIME, percentile(config), period))
            queries.append(alb_query("basereq", old_lb, REQUEST_COUNT, "Sum", period))
    if new_lb and any(not isinstance(c, MetricLimit) for c in checks):
        queries += [
            alb_query("req", new_lb, REQUEST_COUNT, "Sum", period),
            alb_query("target5xx", new_lb, TARGET_5XX, "Sum", period),
            alb_query("elb5xx", new_lb, ELB_5XX, "Sum", period),
            alb_query("latency", new_lb, RESPONSE_TIME, percentile(config), period),
        ]
    for index, check in enumerate(c for c in checks if isinstance(c, MetricLimit)):
        dimensions = tuple((name, _filled(value, d, new_lb)) for name, value in check.dimensions)
        queries.append(
            MetricQuery(f"metric{index}", check.namespace, check.metric_name, dimensions, check.stat, period)
        )
    if not queries:
        return None
    return MetricRequest(first, end, tuple(queries))


def measured(
    d: Deployment, view: MetricsView | None, alarms: tuple[AlarmView, ...] | None, config: Config
) -> Measured:
    """What the window measured (with the baseline: the record's, or this answer's first datapoint)."""
    start = analysis_start(d, config)
    new_lb = d.load_balancer(d.preprod_env) or ""
    found_alarms: dict[str, AlarmView | None] = {a.name: a for a in alarms or ()}
    if view is None or start is None:
        return Measured(requests=None if not new_lb else 0, baseline=d.baseline, alarms=found_alarms)
    metrics = {
        check.name: _value(view, f"metric{index}", check.stat, start)
        for index, check in enumerate(c for c in config.analysis_checks if isinstance(c, MetricLimit))
    }
    return Measured(
        requests=int(view.total("req", start)) if new_lb else None,
        target_5xx=int(view.total("target5xx", start)),
        elb_5xx=int(view.total("elb5xx", start)),
        latency_s=view.largest("latency", start),
        baseline=d.baseline if d.baseline is not None else baseline(view, start),
        metrics=metrics,
        alarms=found_alarms,
    )


def baseline(view: MetricsView, start: datetime) -> Baseline | None:
    """The previous version's latency and requests in the datapoint before the window; None when the
    request did not ask them (no latency check, or no previous load balancer to ask)."""
    if not any(q.id == "basereq" for q in view.request.queries):
        return None
    first = view.request.start
    return Baseline(view.largest("base", first, start), int(view.total("basereq", first, start)))


def percentile(config: Config) -> str:
    latency = next((c for c in config.analysis_checks if isinstance(c, LatencyRatio)), None)
    return DEFAULT_PERCENTILE if latency is None else latency.percentile


def drain_request(d: Deployment, load_balancer: str, now: datetime, config: Config) -> MetricRequest | None:
    """Pre-production's requests and its target's 4xx answers per period, from DRAIN_WINDOW_S before the
    drain started until the last whole period (None: no whole period yet)."""
    period = config.metrics_period_s
    started = d.step(StepName.DRAIN).started_at or now
    first = align_down(started - timedelta(seconds=config.drain_window_s), period)
    end = align_down(now, period)
    if end <= first:
        return None
    requests = alb_query("requests", load_balancer, REQUEST_COUNT, "Sum", period)
    rejected = alb_query("target4xx", load_balancer, TARGET_4XX, "Sum", period)
    return MetricRequest(first, end, (requests, rejected))


def requests_per_period(view: MetricsView) -> tuple[tuple[datetime, float], ...]:
    """Every period of the drain's request, oldest first, with its users' requests: RequestCount less the
    target's 4xx answers (0 when ELB published nothing for it: no requests)."""
    request = view.request
    period = request.queries[0].period_s
    rejected = dict(view.points("target4xx"))
    counts = {t: max(0.0, n - rejected.get(t, 0.0)) for t, n in view.points("requests")}
    moments = []
    moment = request.start
    while moment < request.end:
        moments.append(moment)
        moment += timedelta(seconds=period)
    return tuple((m, counts.get(m, 0.0)) for m in moments)


def _value(view: MetricsView, query_id: str, stat: str, start: datetime) -> float | None:
    points = [v for t, v in view.points(query_id) if t >= start]
    if not points:
        return None
    if stat in ("Sum", "SampleCount"):
        return sum(points)
    if stat == "Minimum":
        return min(points)
    return max(points)


def _filled(value: str, d: Deployment, load_balancer: str) -> str:
    if value == LOAD_BALANCER:
        return load_balancer
    if value == ENVIRONMENT_NAME:
        return d.preprod_env or ""
    return value
