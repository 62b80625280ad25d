"""The metric analysis of the new production, during verify and the bake (pure).

Once production serves the new version, the checks (config.analysis_checks) judge its load balancer's
metrics since the swap, its users' own metrics and alarms (analysis.window, analysis.verdict). A failed check
swaps production back; a check with too little traffic is written in the record, never a failure.

Verify measures as soon as one whole metrics period has passed since the swap, then again when the traffic
seen so far says the minimum request count will have been reached, until every check has judged: the
deployment goes on at once when they pass. When the traffic cannot reach the minimum within VERIFY_WINDOW_S
(judged once users have had DNS_TTL_S to follow the swap and a whole period more, two at least, so a period
whose metrics are late never decides alone; at once when the previous version had no request in its last
hour), verify ends there, with "too little traffic to judge" in its detail. The bake measures once per metrics
period (or per POLL_INTERVAL_S, whichever is longer) and once more when it ends.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from controller.core.analysis.checks import alarm_names, measures_traffic
from controller.core.analysis.verdict import CheckResult, Measured, Outcome, failures, judge, summary
from controller.core.analysis.window import (
    analysis_request,
    analysis_start,
    first_window_end,
    measured,
)
from controller.core.config import Config
from controller.core.model import Deployment
from controller.core.observation import Need, Observed
from controller.core.steps.load_balancers import missing, remember


@dataclass(frozen=True)
class Judged:
    deployment: Deployment  # with the load balancers and the baseline it learnt, and analysis_at
    results: tuple[CheckResult, ...]
    measured: Measured
    seconds: int  # the window's length
    end: datetime | None = None  # the window's end (None: nothing measured)

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        return failures(self.results)

    @property
    def short_of(self) -> int:
        """Requests still needed before every check that waits for traffic can judge."""
        return max((r.short_of for r in self.results if r.outcome is Outcome.NOT_JUDGED), default=0)

    @property
    def text(self) -> str:
        return f"analysis of {self.seconds} s since the swap: {summary(self.results)}"


def enabled(config: Config) -> bool:
    return bool(config.analysis_checks)


def needs(d: Deployment, observed: Observed, now: datetime, config: Config) -> tuple[Need, ...]:
    """The load balancers the record does not know, the window's metrics once there is a whole period,
    and the alarms' states."""
    found: list[Need] = []
    if measures_traffic(config.analysis_checks) and missing(d, (d.preprod_env, d.prod_env)):
        found.append(Need.LOAD_BALANCERS)
    if analysis_request(remember(d, observed), now, config) is not None:
        found.append(Need.METRICS)
    if alarm_names(config.analysis_checks):
        found.append(Need.ALARMS)
    return tuple(found)


def wanted_load_balancers(d: Deployment) -> tuple[str, ...]:
    return missing(d, (d.preprod_env, d.prod_env))


def measurable(d: Deployment, now: datetime, config: Config) -> bool:
    """Whether a whole metrics period has passed since the swap (alarm-only checks need none)."""
    if not measures_traffic(config.analysis_checks):
        return True
    end = first_window_end(d, config)
    return end is not None and now >= end


def judge_now(d: Deployment, observed: Observed, now: datetime, config: Config) -> Judged:
    learnt = remember(d, observed)
    found = measured(learnt, observed.metrics, observed.alarms, config)
    if learnt.baseline is None and observed.metrics is not None:
        learnt = dataclasses.replace(learnt, baseline=found.baseline)
    learnt = dataclasses.replace(learnt, analysis_at=now, updated_at=now)
    start = analysis_start(d, config)
    seconds, end = 0, None
    if observed.metrics is not None and start is not None:
        end = observed.metrics.request.end
        seconds = int((end - start).total_seconds())
    return Judged(learnt, judge(config.analysis_checks, found), found, seconds, end)


def next_look(judged: Judged, now: datetime, window_end: datetime, config: Config) -> int | None:
    """Seconds until the traffic seen so far will have reached every check's minimum (its datapoints
    published); None when it cannot within the window. The window's own traffic decides only once users
    have had time to follow the swap (DNS_TTL_S) and a whole period more has been seen (two at least, so a
    period whose metrics are late never decides alone); before that, a window without a request gives up at
    once only when the previous version served no request at all in its last hour (there are no users)."""
    period = config.metrics_period_s
    if now >= window_end or judged.end is None:
        return None
    served, left = judged.measured.served, (window_end - judged.end).total_seconds()
    if judged.seconds < _patience_s(config):
        baseline = judged.measured.baseline
        if served == 0 and baseline is not None and baseline.requests == 0:
            return None
        return max(1, min(math.ceil((window_end - now).total_seconds()), period))
    if served == 0:
        return None
    needed = judged.short_of * judged.seconds / served
    if needed > left:
        return None
    return max(period, math.ceil((judged.end + timedelta(seconds=needed) - now).total_seconds()))


def _patience_s(config: Config) -> int:
    """How much of the window is seen before its own traffic says the minimum cannot be reached."""
    period = config.metrics_period_s
    return max(2 * period, config.dns_ttl_s + period)


def due_in_bake(d: Deployment, now: datetime, waited: float, config: Config) -> bool:
    """The bake measures once per metrics period (or POLL_INTERVAL_S, if longer) and when it ends."""
    if waited >= config.bake_s:
        return True
    if d.analysis_at is None:
        return True
    every = max(config.metrics_period_s, config.poll_interval_s)
    return now - d.analysis_at >= timedelta(seconds=every)
