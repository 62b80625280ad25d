"""An Application Load Balancer's CloudWatch metrics from what the front served, as ELB publishes them.

Per environment and period (the emulation's `metrics_period_s`: ELB's minute, compressed), in namespace
AWS/ApplicationELB with the dimension LoadBalancer = "app/<name>/<id>" (the last part of the ALB's ARN):
- RequestCount: requests a target answered;
- HTTPCode_Target_4XX_Count: those it answered 4xx (a scanner's 404s among them);
- HTTPCode_Target_5XX_Count: those it answered 5xx;
- HTTPCode_ELB_5XX_Count: 5xx the load balancer answered itself (no instance, registering, no answer);
- TargetResponseTime: each target answer's time in seconds, as raw values (so percentiles can be taken).
A period is published once it has ended; a period without requests, or a count that is zero, is not
(ELB's reporting criterion: "there is a nonzero value").
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html

`put(metric_data)` is CloudWatch's PutMetricData for that namespace, given by whoever knows AWS (the stack).
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sandbox.network.front import Served

NAMESPACE = "AWS/ApplicationELB"
MAX_VALUES = 150  # PutMetricData: at most 150 distinct values in one datum
MIN_FLUSH_S = 0.2

Put = Callable[[list[dict[str, Any]]], None]


@dataclass
class _Period:
    requests: int = 0
    target_4xx: int = 0
    target_5xx: int = 0
    elb_5xx: int = 0
    response_ms: Counter[int] = field(default_factory=Counter)


class LoadBalancerMetrics:
    """An observer of the fronts (`metrics(served)`) that publishes each period once it has ended, from a
    thread of its own between `start()` and `stop()` (or when `flush()` is called)."""

    def __init__(
        self,
        put: Put,
        dimension_of: Callable[[str], str | None],
        period_s: Callable[[], float],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._put = put
        self._dimension_of = dimension_of
        self._period_s = period_s
        self._clock = clock
        self._periods: dict[tuple[str, float], _Period] = defaultdict(_Period)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.published = 0  # datums put so far

    def __call__(self, served: Served) -> None:
        period = self._period_s()
        start = math.floor(served.at / period) * period
        with self._lock:
            counts = self._periods[(served.environment, start)]
            if served.target_s is None:
                counts.elb_5xx += served.status >= 500
                return
            counts.requests += 1
            counts.target_4xx += 400 <= served.status < 500
            counts.target_5xx += served.status >= 500
            counts.response_ms[max(0, round(served.target_s * 1000))] += 1

    def flush(self) -> int:
        """Publish every period that has ended; the datums put."""
        period = self._period_s()
        now = self._clock()
        with self._lock:
            ended = {key: counts for key, counts in self._periods.items() if key[1] + period <= now}
            for key in ended:
                del self._periods[key]
        data = [
            datum
            for (env, start), counts in ended.items()
            for datum in self._data(env, start, counts, period)
        ]
        for first in range(0, len(data), 20):  # PutMetricData: up to 1000 datums, 1 MB; kept small
            self._put(data[first : first + 20])
        self.published += len(data)
        return len(data)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="alb-metrics", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(max(MIN_FLUSH_S, self._period_s() / 4)):
            self.flush()

    def _data(self, env: str, start: float, counts: _Period, period: float) -> list[dict[str, Any]]:
        dimension = self._dimension_of(env)
        if not dimension:
            return []  # not load balanced (or gone): nothing to publish
        common = {
            "Dimensions": [{"Name": "LoadBalancer", "Value": dimension}],
            "Timestamp": datetime.fromtimestamp(start, UTC),
            **({"StorageResolution": 1} if period < 60 else {}),
        }
        data = [
            {"MetricName": name, "Value": float(value), "Unit": "Count", **common}
            for name, value in (
                ("RequestCount", counts.requests),
                ("HTTPCode_Target_4XX_Count", counts.target_4xx),
                ("HTTPCode_Target_5XX_Count", counts.target_5xx),
                ("HTTPCode_ELB_5XX_Count", counts.elb_5xx),
            )
            if value
        ]
        times = sorted(counts.response_ms.items())
        for first in range(0, len(times), MAX_VALUES):
            chunk = times[first : first + MAX_VALUES]
            data.append(
                {
                    "MetricName": "TargetResponseTime",
                    "Values": [ms / 1000 for ms, _ in chunk],
                    "Counts": [float(n) for _, n in chunk],
                    "Unit": "Seconds",
                    **common,
                }
            )
        return data
