"""The drain (pure): pre-production, the previous production, is redeployed only once production's users
have stopped reaching it.

After a swap, resolvers keep sending some users to the environment that lost the production name until the
record they cached expires, and some ignore the TTL for far longer (users have seen the old version served
for days). Redeploying that environment while they still come would show them the new version before its
smoke test, and its instances restarting. So the drain waits until pre-production's load balancer has had
at most DRAIN_MAX_REQUESTS requests per minute in every metrics period of the last DRAIN_WINDOW_S, as
CloudWatch's RequestCount less HTTPCode_Target_4XX_Count shows (a period ELB published nothing for had no
requests; the internet's scanners probe every load balancer and get 404s: they are not production's users),
and no less than DNS_TTL_S after pre-production's last change (a swap). An environment nobody used for a
long time passes at once; one without an Application Load Balancer cannot be measured and passes after
DNS_TTL_S, saying so.

It waits by re-checks on the queue, each a single GetMetricData call, scheduled for when the window could
first be clean (the last busy period's end plus DRAIN_WINDOW_S). Past DRAIN_TIMEOUT_S the deployment fails
with production untouched. The detail shows the drain curve: the requests per minute observed from
DRAIN_WINDOW_S before the drain started.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from controller.core import topology
from controller.core.analysis.window import drain_request, requests_per_period
from controller.core.config import Config
from controller.core.decision import MAX_DELAY_S, Decision, advance, elapsed, fail, note, require, wait
from controller.core.model import Deployment, StepName
from controller.core.observation import EnvironmentView, Need, Observed
from controller.core.steps.load_balancers import remember

CURVE_POINTS = 12  # at most this many figures in the detail: longer curves are averaged in groups


def needs(d: Deployment, observed: Observed, now: datetime, config: Config) -> tuple[Need, ...]:
    """Environments; then, once the minimum wait is over, the load balancers and their metrics."""
    pre = _preproduction(observed, config)
    if pre is None or dns_wait(pre, now, config) > 0:
        return (Need.ENVIRONMENTS,)
    known = remember(d, observed).load_balancer(pre.name)
    if not known or drain_request(d, known, now, config) is None:
        return (Need.ENVIRONMENTS, Need.LOAD_BALANCERS)
    return (Need.ENVIRONMENTS, Need.LOAD_BALANCERS, Need.METRICS)


def wanted_load_balancers(observed: Observed, config: Config) -> tuple[str, ...]:
    """Both environments of the pair: pre-production's traffic now, production's latency after the swap."""
    if observed.environments is None:
        return ()
    pair = topology.resolve(
        observed.environments, config.prod_cname_prefix, config.region, config.preprod_cname_prefix
    )
    return () if isinstance(pair, str) else (pair.preproduction.name, pair.production.name)


def drain(d: Deployment, observed: Observed, now: datetime, config: Config) -> Decision:
    environments = require(observed.environments, Need.ENVIRONMENTS)
    pair = topology.resolve(
        environments, config.prod_cname_prefix, config.region, config.preprod_cname_prefix
    )
    if isinstance(pair, str):
        return fail(d, now, pair)
    pre = pair.preproduction
    cached = dns_wait(pre, now, config)
    if cached > 0:
        ago = int(elapsed(pre.date_updated, now))
        detail = (
            f"{pre.name} changed {ago} s ago: DNS may still send production's users to it "
            f"(DNS_TTL_S={config.dns_ttl_s}); measuring its traffic in {cached} s"
        )
        return wait(note(d, now, StepName.DRAIN, detail), cached)
    d = remember(d, observed)
    load_balancer = d.load_balancer(pre.name)
    if not load_balancer:
        detail = (
            f"{pre.name} has no Application Load Balancer: its traffic cannot be measured; "
            f"it last changed more than DNS_TTL_S={config.dns_ttl_s} s ago"
        )
        return advance(d, now, StepName.DRAIN, detail)
    request = drain_request(d, load_balancer, now, config)
    if request is None:
        return wait(d, config.metrics_period_s)
    view = require(observed.metrics, Need.METRICS)
    period = config.metrics_period_s
    per_minute = tuple((t, count * 60 / period) for t, count in requests_per_period(view))
    judged = per_minute[-math.ceil(config.drain_window_s / period) :]
    busy = [t for t, rate in judged if rate > config.drain_max_requests]
    curve = _curve(pre, per_minute, period)
    limit = f"at most {config.drain_max_requests}/min for DRAIN_WINDOW_S={config.drain_window_s} s"
    if not busy:
        return advance(d, now, StepName.DRAIN, f"{curve}; drained ({limit})")
    waited = elapsed(d.step(StepName.DRAIN).started_at, now)
    if waited >= config.drain_timeout_s:
        rate = max(rate for _, rate in judged)
        return fail(
            d,
            now,
            f"{pre.name} still received up to {rate:g} requests/min after DRAIN_TIMEOUT_S="
            f"{config.drain_timeout_s} s (drained means {limit}); production untouched, {pre.name} not "
            f"redeployed ({curve})",
        )
    clean_at = busy[-1] + timedelta(seconds=period + config.drain_window_s)
    remaining = config.drain_timeout_s - waited
    delay = min(
        MAX_DELAY_S, max(period, math.ceil((clean_at - now).total_seconds())), math.ceil(remaining) + 1
    )
    return wait(note(d, now, StepName.DRAIN, f"{curve}; waiting until {limit}"), delay)


def dns_wait(env: EnvironmentView, now: datetime, config: Config) -> int:
    """Seconds until DNS_TTL_S has passed since the environment's last change (0: it has)."""
    if env.date_updated is None:
        return 0
    left = config.dns_ttl_s - elapsed(env.date_updated, now)
    return max(0, min(config.dns_ttl_s, math.ceil(left)))


def _preproduction(observed: Observed, config: Config) -> EnvironmentView | None:
    if observed.environments is None:
        return None
    pair = topology.resolve(
        observed.environments, config.prod_cname_prefix, config.region, config.preprod_cname_prefix
    )
    return None if isinstance(pair, str) else pair.preproduction


def _curve(pre: EnvironmentView, per_minute: tuple[tuple[datetime, float], ...], period: int) -> str:
    """'requests/min on shop-green since 10:00:00, every 60 s: 1180 640 12 0 0' (grouped when long)."""
    if not per_minute:
        return f"no whole metrics period of {pre.name} yet"
    group = math.ceil(len(per_minute) / CURVE_POINTS)
    figures = []
    for start in range(0, len(per_minute), group):
        rates = [rate for _, rate in per_minute[start : start + group]]
        figures.append(f"{sum(rates) / len(rates):g}")
    since = per_minute[0][0]
    return f"requests/min on {pre.name} since {since:%H:%M:%S}, every {group * period} s: {' '.join(figures)}"
