"""ANALYSIS_CHECKS: the checks a deployment's analysis runs, from JSON (pure). A bad value is refused with a
message saying which check and which key; `config.load` names the variable.

A JSON list; each item a check by `name`:
- a default's name changes it: `{"name": "5xx-rate", "max_percent": 2, "min_requests": 200}`,
  `{"name": "p99-latency", "percentile": "p95", "max_ratio": 3, "floor_s": 0.05}`, or turns it off:
  `{"name": "p99-latency", "enabled": false}`;
- a metric: `{"name": "checkout-errors", "metric": {"namespace": "Shop", "name": "CheckoutErrors",
  "dimensions": {"Environment": "${EnvironmentName}"}, "stat": "Sum"}, "max": 5, "min_requests": 100}`
  (`max` and/or `min`; `min_requests` defaults to 0);
- an alarm: `{"name": "latency-alarm", "alarm": "shop-p99-high"}`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from typing import Any

from controller.core.analysis.checks import (
    DEFAULT_CHECKS,
    AlarmCheck,
    Check,
    ErrorRate,
    LatencyRatio,
    MetricLimit,
)

MAX_CHECKS = 20
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_PERCENTILE = re.compile(r"p(?:100|[0-9]{1,2}(?:\.[0-9]{1,2})?)")
_STATS = frozenset({"Sum", "Average", "Minimum", "Maximum", "SampleCount"})
_METRIC_TEXT = re.compile(r"[^\x00-\x1f]{1,255}")
_ALARM_NAME = re.compile(r"[^\x00-\x1f]{1,255}")
_DEFAULT_KEYS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "5xx-rate": {"max_percent": (int, float), "min_requests": int},
    "p99-latency": {
        "percentile": str,
        "max_ratio": (int, float),
        "floor_s": (int, float),
        "min_requests": int,
    },
}


class CheckError(ValueError):
    """ANALYSIS_CHECKS does not describe checks; the message says where."""


def parse(raw: str | None) -> tuple[Check, ...]:
    """The checks: the defaults, changed, turned off or added to by `raw` (None or empty: the defaults)."""
    if raw is None or not raw.strip():
        return DEFAULT_CHECKS
    try:
        items = json.loads(raw)
    except ValueError as error:
        raise CheckError(f"not JSON ({error})") from None
    if not isinstance(items, list):
        raise CheckError('expected a JSON list of checks, e.g. [{"name": "5xx-rate", "max_percent": 2}]')
    if len(items) > MAX_CHECKS:
        raise CheckError(f"{len(items)} checks; at most {MAX_CHECKS}")
    checks: dict[str, Check | None] = {c.name: c for c in DEFAULT_CHECKS}
    seen: set[str] = set()
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise CheckError(f'check {index}: expected an object with a "name", got {json.dumps(item)}')
        name = item.get("name")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise CheckError(
                f"check {index}: \"name\" must be letters, digits, '.', '_' or '-' (up to 64), got "
                f"{json.dumps(name)}"
            )
        if name in seen:
            raise CheckError(f"check {index}: the name {name!r} is used twice")
        seen.add(name)
        checks[name] = _check(index, name, item, checks.get(name))
    return tuple(c for c in checks.values() if c is not None)


def _check(index: int, name: str, item: dict[str, Any], default: Check | None) -> Check | None:
    where = f"check {index} ({name})"
    if item.get("enabled", True) is False:
        _only(where, item, {"name", "enabled"})
        if default is None:
            raise CheckError(f'{where}: "enabled": false turns off a default check (5xx-rate, p99-latency)')
        return None
    if isinstance(default, ErrorRate | LatencyRatio):
        return _changed_default(where, item, default)
    if "metric" in item:
        return _metric(where, item)
    if "alarm" in item:
        _only(where, item, {"name", "alarm", "enabled"})
        alarm = item["alarm"]
        if not isinstance(alarm, str) or not _ALARM_NAME.fullmatch(alarm):
            raise CheckError(f'{where}: "alarm" must be a CloudWatch alarm name, got {json.dumps(alarm)}')
        return AlarmCheck(name, alarm)
    raise CheckError(
        f'{where}: a new check needs "metric" or "alarm" (only 5xx-rate and p99-latency exist already)'
    )


def _changed_default(where: str, item: dict[str, Any], default: ErrorRate | LatencyRatio) -> Check:
    allowed = _DEFAULT_KEYS[default.name]
    _only(where, item, {"name", "enabled", *allowed})
    changes: dict[str, Any] = {}
    for key, kind in allowed.items():
        if key not in item:
            continue
        value = item[key]
        if isinstance(value, bool) or not isinstance(value, kind):
            raise CheckError(f'{where}: "{key}" must be a {_kind_name(kind)}, got {json.dumps(value)}')
        changes[key] = value
    if "percentile" in changes and not _PERCENTILE.fullmatch(changes["percentile"]):
        raise CheckError(f'{where}: "percentile" must look like p99 or p99.9, got {changes["percentile"]!r}')
    for key in ("max_percent", "max_ratio", "floor_s"):
        if key in changes and (not math.isfinite(changes[key]) or changes[key] < 0):
            raise CheckError(f'{where}: "{key}" must be a number >= 0, got {changes[key]}')
    if changes.get("min_requests", 0) < 0:
        raise CheckError(f'{where}: "min_requests" must be >= 0, got {changes["min_requests"]}')
    return dataclasses.replace(default, **changes)


def _metric(where: str, item: dict[str, Any]) -> MetricLimit:
    _only(where, item, {"name", "enabled", "metric", "max", "min", "min_requests"})
    metric = item["metric"]
    if not isinstance(metric, dict):
        raise CheckError(f'{where}: "metric" must be an object with namespace, name, dimensions and stat')
    _only(f"{where} metric", metric, {"namespace", "name", "dimensions", "stat"})
    namespace, metric_name = metric.get("namespace"), metric.get("name")
    for key, value in (("namespace", namespace), ("name", metric_name)):
        if not isinstance(value, str) or not _METRIC_TEXT.fullmatch(value):
            raise CheckError(f'{where}: metric "{key}" must be a CloudWatch {key}, got {json.dumps(value)}')
    dimensions = metric.get("dimensions", {})
    if not isinstance(dimensions, dict) or len(dimensions) > 30:
        raise CheckError(f'{where}: metric "dimensions" must be an object of up to 30 name: value pairs')
    for key, value in dimensions.items():
        if not _METRIC_TEXT.fullmatch(key) or not isinstance(value, str) or not _METRIC_TEXT.fullmatch(value):
            raise CheckError(f"{where}: dimension {key!r} must have a text value, got {json.dumps(value)}")
    stat = metric.get("stat", "Average")
    if not isinstance(stat, str) or not (stat in _STATS or _PERCENTILE.fullmatch(stat)):
        known = ", ".join(sorted(_STATS))
        raise CheckError(
            f'{where}: metric "stat" must be one of {known} or a percentile like p99, got {stat!r}'
        )
    limits = {key: item.get(key) for key in ("max", "min")}
    if limits["max"] is None and limits["min"] is None:
        raise CheckError(f'{where}: give "max" and/or "min", the limits the metric must stay within')
    for key, value in limits.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise CheckError(f'{where}: "{key}" must be a number, got {json.dumps(value)}')
    min_requests = item.get("min_requests", 0)
    if isinstance(min_requests, bool) or not isinstance(min_requests, int) or min_requests < 0:
        raise CheckError(
            f'{where}: "min_requests" must be a whole number >= 0, got {json.dumps(min_requests)}'
        )
    return MetricLimit(
        name=str(item["name"]),
        namespace=str(namespace),
        metric_name=str(metric_name),
        dimensions=tuple(sorted(dimensions.items())),
        stat=stat,
        maximum=None if limits["max"] is None else float(limits["max"]),
        minimum=None if limits["min"] is None else float(limits["min"]),
        min_requests=min_requests,
    )


def _only(where: str, item: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(item) - allowed)
    if unknown:
        known = ", ".join(sorted(allowed))
        raise CheckError(f"{where}: unknown key {unknown[0]!r} (known here: {known})")


def _kind_name(kind: type | tuple[type, ...]) -> str:
    return "whole number" if kind is int else "number" if isinstance(kind, tuple) else "text"
