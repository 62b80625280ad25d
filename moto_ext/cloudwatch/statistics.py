"""Percentile statistics and one-pass metric queries for moto's CloudWatch backend (see the package's
docstring). `install()` replaces two methods of moto's classes, once; everything else stays moto's."""

from __future__ import annotations

import math
import re
import threading
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from moto.cloudwatch.exceptions import ValidationError
from moto.cloudwatch.models import (
    CloudWatchBackend,
    Dimension,
    MetricAggregatedDatum,
    MetricDatum,
    MetricDatumBase,
    Statistics,
)

PERCENTILE = re.compile(r"p(100|[0-9]{1,2}(?:\.[0-9]{1,2})?)")
_lock = threading.Lock()
_originals: dict[str, Any] = {}


def install() -> None:
    """Extend moto's CloudWatch (idempotent)."""
    with _lock:
        if _originals:
            return
        _originals["statistic"] = Statistics.get_statistics_for_type
        _originals["get_metric_data"] = CloudWatchBackend.get_metric_data
        Statistics.get_statistics_for_type = _statistic  # type: ignore[method-assign]
        CloudWatchBackend.get_metric_data = _get_metric_data  # type: ignore[method-assign]


def percentile(samples: list[tuple[float, float]], rank_percent: float) -> float | None:
    """The nearest-rank percentile of weighted samples (value, count): the smallest value such that at
    least `rank_percent` % of the samples are at most it. None without samples."""
    total = sum(count for _, count in samples)
    if total <= 0:
        return None
    wanted = max(1.0, math.ceil(rank_percent / 100.0 * total - 1e-9))
    seen = 0.0
    for value, count in sorted(samples):
        seen += count
        if seen >= wanted:
            return value
    return max(value for value, _ in samples)


def _statistic(self: Statistics, stat: str) -> Any:
    match = PERCENTILE.fullmatch(stat)
    if match is None:
        return _originals["statistic"](self, stat)
    samples: list[tuple[float, float]] = []
    for datum in self.metric_data:
        if isinstance(datum, MetricDatum):
            samples.append((datum.value, 1.0))
        elif isinstance(datum, MetricAggregatedDatum):
            if datum.sample_count != 1 and datum.min != datum.max:
                return None  # a statistic set without its values: CloudWatch has no percentile of it
            samples.append((datum.min, datum.sample_count))
    return percentile(samples, float(match.group(1)))


def _get_metric_data(
    self: CloudWatchBackend,
    queries: list[dict[str, Any]],
    start_time: datetime,
    end_time: datetime,
    scan_by: str = "TimestampAscending",
) -> list[dict[str, Any]]:
    """Metric queries in one pass; metric math and Metrics Insights go to moto's own implementation."""
    if any("MetricStat" not in q for q in queries):
        return _originals["get_metric_data"](self, queries, start_time, end_time, scan_by)  # type: ignore[no-any-return]
    start, end = start_time.replace(microsecond=0), end_time.replace(microsecond=0)
    if start > end:
        raise ValidationError("The parameter EndTime must be greater than StartTime.")
    if start == end:
        raise ValidationError("The parameter StartTime must not equal parameter EndTime.")
    in_range = [md for md in self.get_all_metrics() if start <= md.timestamp < end]
    results = []
    for query in queries:
        stat = query["MetricStat"]
        period = timedelta(seconds=int(stat["Period"]))
        buckets: dict[int, list[MetricDatumBase]] = defaultdict(list)
        for datum in _matching(in_range, stat):
            buckets[(datum.timestamp - start) // period].append(datum)
        timestamps, values = [], []
        for index in sorted(buckets):
            moment = start + index * period
            statistics = Statistics([stat["Stat"]], moment)
            statistics.metric_data = buckets[index]
            value = statistics.get_statistics_for_type(stat["Stat"])
            if value is not None:
                timestamps.append(moment)
                values.append(value)
        if scan_by == "TimestampDescending":
            timestamps.reverse()
            values.reverse()
        if query.get("ReturnData", True):
            label = query.get("Label") or f"{stat['Metric']['MetricName']} {stat['Stat']}"
            results.append(
                {
                    "id": query["Id"],
                    "label": label,
                    "values": values,
                    "timestamps": timestamps,
                    "status_code": "Complete",
                }
            )
    return results


def _matching(data: list[MetricDatumBase], stat: dict[str, Any]) -> list[MetricDatumBase]:
    """The datums of the query's metric: its namespace and name, exactly its dimensions (as moto compares
    them), its unit when the query names one."""
    metric = stat["Metric"]
    wanted = sorted(Dimension(d["Name"], d["Value"]) for d in metric.get("Dimensions", []))
    unit = stat.get("Unit")
    return [
        md
        for md in data
        if md.namespace == metric["Namespace"]
        and md.name == metric["MetricName"]
        and (not wanted or sorted(md.dimensions) == wanted)
        and (not unit or md.unit == unit)
    ]
