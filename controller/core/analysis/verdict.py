"""The checks judged against what was measured (pure): each passes, fails, or is not judged (too little
traffic, no data, no baseline), with a sentence saying so ("5xx-rate 4.8% > 1.0% over 1,204 requests").

The error rate's denominator is RequestCount, or the 5xx count when that is larger: ELB counts a request it
rejects before choosing a target (a 502/503 with no healthy target) in HTTPCode_ELB_5XX_Count only, and a
production answering nothing but those is not "too little traffic".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from controller.core.analysis.checks import AlarmCheck, Check, ErrorRate, LatencyRatio, MetricLimit
from controller.core.analysis.metrics import AlarmView
from controller.core.model import Baseline


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_JUDGED = "not judged"


@dataclass(frozen=True)
class CheckResult:
    name: str
    outcome: Outcome
    text: str
    short_of: int = 0  # requests still missing before it can judge (0: traffic is not what it waits for)


@dataclass(frozen=True)
class Measured:
    """The new production's window since the swap, as CloudWatch answered."""

    requests: int | None  # None: no Application Load Balancer to measure
    target_5xx: int = 0
    elb_5xx: int = 0
    latency_s: float | None = None  # at the latency check's percentile; None: no datapoint
    baseline: Baseline | None = None
    metrics: dict[str, float | None] = field(default_factory=dict)  # check name -> value (None: no data)
    alarms: dict[str, AlarmView | None] = field(default_factory=dict)  # alarm name -> state (None: none)

    @property
    def served(self) -> int:
        """Requests the window had, for the minimum counts (the 5xx count when ELB rejected more)."""
        return max(self.requests or 0, self.target_5xx + self.elb_5xx)


def judge(checks: tuple[Check, ...], measured: Measured) -> tuple[CheckResult, ...]:
    return tuple(_judge(check, measured) for check in checks)


def failures(results: tuple[CheckResult, ...]) -> tuple[CheckResult, ...]:
    return tuple(r for r in results if r.outcome is Outcome.FAILED)


def summary(results: tuple[CheckResult, ...]) -> str:
    return "; ".join(r.text for r in results)


def _judge(check: Check, m: Measured) -> CheckResult:
    if isinstance(check, AlarmCheck):
        return _alarm(check, m.alarms.get(check.alarm_name))
    if m.requests is None and not isinstance(check, MetricLimit):
        return CheckResult(
            check.name, Outcome.NOT_JUDGED, f"{check.name}: no Application Load Balancer to measure"
        )
    if m.served < check.min_requests:
        short = check.min_requests - m.served
        text = f"{check.name}: {_requests(m.served)}, fewer than {check.min_requests} to judge"
        return CheckResult(check.name, Outcome.NOT_JUDGED, text, short_of=short)
    if isinstance(check, ErrorRate):
        return _error_rate(check, m)
    if isinstance(check, LatencyRatio):
        return _latency(check, m)
    return _metric(check, m.metrics.get(check.name))


def _error_rate(check: ErrorRate, m: Measured) -> CheckResult:
    served = m.served
    errors = m.target_5xx + m.elb_5xx
    if served == 0:
        return CheckResult(check.name, Outcome.NOT_JUDGED, f"{check.name}: no requests")
    percent = 100.0 * errors / served
    failed = percent > check.max_percent
    sign = ">" if failed else "<="
    text = f"{check.name} {percent:.1f}% {sign} {check.max_percent:.1f}% over {_count(served)} requests"
    return CheckResult(check.name, Outcome.FAILED if failed else Outcome.PASSED, text)


def _latency(check: LatencyRatio, m: Measured) -> CheckResult:
    base = m.baseline
    if base is None or base.latency_s is None or base.requests < check.min_requests:
        served = 0 if base is None else base.requests
        text = (
            f"{check.name}: no baseline (the previous version served {_requests(served)} in its last hour, "
            f"fewer than {check.min_requests})"
        )
        return CheckResult(check.name, Outcome.NOT_JUDGED, text)
    if m.latency_s is None:
        return CheckResult(check.name, Outcome.NOT_JUDGED, f"{check.name}: no TargetResponseTime data")
    limit = max(check.max_ratio * base.latency_s, base.latency_s + check.floor_s)
    failed = m.latency_s > limit
    sign = ">" if failed else "<="
    text = (
        f"{check.name} {m.latency_s:.3f} s {sign} {limit:.3f} s ({check.max_ratio:g}x the previous version's "
        f"{base.latency_s:.3f} s, at least +{check.floor_s:g} s) over {_count(m.served)} requests"
    )
    return CheckResult(check.name, Outcome.FAILED if failed else Outcome.PASSED, text)


def _metric(check: MetricLimit, value: float | None) -> CheckResult:
    what = f"{check.namespace}/{check.metric_name} {check.stat}"
    if value is None:
        return CheckResult(check.name, Outcome.NOT_JUDGED, f"{check.name}: no data for {what}")
    if check.maximum is not None and value > check.maximum:
        text = f"{check.name} {value:g} > {check.maximum:g} ({what})"
        return CheckResult(check.name, Outcome.FAILED, text)
    if check.minimum is not None and value < check.minimum:
        text = f"{check.name} {value:g} < {check.minimum:g} ({what})"
        return CheckResult(check.name, Outcome.FAILED, text)
    bounds = [
        f">= {check.minimum:g}" if check.minimum is not None else "",
        f"<= {check.maximum:g}" if check.maximum is not None else "",
    ]
    text = f"{check.name} {value:g} {' and '.join(b for b in bounds if b)} ({what})"
    return CheckResult(check.name, Outcome.PASSED, text)


def _alarm(check: AlarmCheck, alarm: AlarmView | None) -> CheckResult:
    if alarm is None:
        return CheckResult(
            check.name, Outcome.NOT_JUDGED, f"{check.name}: no alarm named {check.alarm_name!r}"
        )
    if alarm.state == "ALARM":
        since = "" if alarm.updated_at is None else f" since {alarm.updated_at:%Y-%m-%d %H:%M:%S}Z"
        return CheckResult(check.name, Outcome.FAILED, f"{check.name}: alarm {alarm.name} is in ALARM{since}")
    if alarm.state == "OK":
        return CheckResult(check.name, Outcome.PASSED, f"{check.name}: alarm {alarm.name} is OK")
    return CheckResult(check.name, Outcome.NOT_JUDGED, f"{check.name}: alarm {alarm.name} is {alarm.state}")


def _count(n: int) -> str:
    return f"{n:,}"


def _requests(n: int) -> str:
    return f"{n:,} request" if n == 1 else f"{n:,} requests"
