"""The HTTP checks: the smoke test before the swap and the verification after it (pure).

Smoke test: `GET http://<pre-production CNAME>/health` answers 200 with the new version SMOKE_PASSES times in
a row within SMOKE_WINDOW_S. The checks of a round follow each other in one tick (each on a new connection,
so a load balancer spreads them over its instances); a round with a failure (a 502 while instances
register) is tried again after `smoke_interval_s`, not fatal.

Verify: the new environment itself (its EndpointURL, no DNS involved) and the production name (through DNS,
which may still lead to the previous environment for a while after the swap) both answer the new version
within VERIFY_WINDOW_S. The production name answering the previous version is DNS lag and is waited out.
When the window ends that way (the new environment answering the new version directly, and
DescribeEnvironments showing production's CNAME on it), resolvers still hold the old target: that is no
evidence of a failure, so the deployment succeeds with a warning in its record. The new environment failing
VERIFY_DIRECT_FAILURES checks in a row, or the window ending with anything else wrong, is a failure in
production: the controller swaps back. Once production serves the new version (or the window ends that
way), the metric analysis (steps.analysis) judges what production's users met; a failed check swaps back
too.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime, timedelta

from controller.core import topology
from controller.core.analysis.window import first_window_end
from controller.core.config import Config
from controller.core.decision import (
    Decision,
    advance,
    elapsed,
    fail,
    health_problem,
    note,
    require,
    wait,
    warn,
)
from controller.core.model import Deployment, StepName
from controller.core.observation import HttpCheck, Need, Observed
from controller.core.steps import analysis
from controller.core.steps.swap import start_swap_back

SMOKE_PASSES = 3
VERIFY_DIRECT_FAILURES = 3


def smoke_url(d: Deployment) -> str:
    return f"http://{d.preprod_cname}/health"


def direct_url(d: Deployment) -> str:
    """The environment that should serve production now, bypassing DNS: the new one, or the previous one
    once the controller swaps back."""
    endpoint = d.prod_endpoint if d.swap_back is not None else d.preprod_endpoint
    return f"http://{endpoint}/health"


def public_url(d: Deployment) -> str:
    return f"http://{d.prod_cname}/health"


def smoke_test(d: Deployment, observed: Observed, now: datetime, config: Config) -> Decision:
    checks = require(observed.smoke, Need.SMOKE)
    problems = [p for p in (health_problem(check, d.version_label) for check in checks) if p is not None]
    if not problems and len(checks) >= SMOKE_PASSES:
        detail = f"GET {checks[-1].url}: 200, version {d.version_label}, {len(checks)} consecutive passes"
        return advance(d, now, StepName.SMOKE_TEST, detail)
    problem = problems[0] if problems else f"only {len(checks)} of {SMOKE_PASSES} checks made"
    if elapsed(d.step(StepName.SMOKE_TEST).started_at, now) >= config.smoke_window_s:
        return fail(
            d,
            now,
            f"smoke test failed: {problem} (no {SMOKE_PASSES} consecutive passes within "
            f"SMOKE_WINDOW_S={config.smoke_window_s} s)",
        )
    detail = f"{problem}; trying again (needs {SMOKE_PASSES} consecutive passes)"
    return wait(note(d, now, StepName.SMOKE_TEST, detail), config.smoke_interval_s)


def verify_needs(d: Deployment, observed: Observed, now: datetime, config: Config) -> tuple[Need, ...]:
    """The HTTP checks; once the window has ended with only the production name behind (it answers another
    version), where DescribeEnvironments puts production's CNAME; once production serves the new version,
    what the analysis needs."""
    http = (Need.DIRECT, Need.PUBLIC)
    if observed.direct is None or observed.public is None:
        return http
    if _name_behind(d, observed, now, config):
        behind = (*http, Need.ENVIRONMENTS)
        if not _owns_production(d, observed, config):
            return behind
        return behind + _analysis_needs(d, observed, now, config)
    label = d.version_label
    if health_problem(observed.direct, label) or health_problem(observed.public, label):
        return http
    return http + _analysis_needs(d, observed, now, config)


def verify(d: Deployment, observed: Observed, now: datetime, config: Config) -> Decision:
    direct = require(observed.direct, Need.DIRECT)
    public = require(observed.public, Need.PUBLIC)
    label = d.version_label
    direct_problem, public_problem = health_problem(direct, label), health_problem(public, label)
    if direct_problem is None and public_problem is None:
        serving = f"{d.preprod_env} ({direct.url}) and production ({public.url}) answer {label}"
        answered = dataclasses.replace(d, verify_failures=0)
        if not analysis.enabled(config):
            return advance(answered, now, StepName.VERIFY, serving)
        return _analyse(answered, observed, now, config, serving)
    if _name_behind(d, observed, now, config):
        require(observed.environments, Need.ENVIRONMENTS)
        if _owns_production(d, observed, config):
            return _verified_despite_dns(d, direct, public, observed, now, config)
    failures = d.verify_failures + 1 if direct_problem is not None else 0
    counted = dataclasses.replace(d, verify_failures=failures, updated_at=now)
    if direct_problem is not None and failures >= VERIFY_DIRECT_FAILURES:
        reason = f"{d.preprod_env} failed {failures} checks in a row after the swap: {direct_problem}"
        return start_swap_back(counted, now, reason)
    waited = elapsed(d.step(StepName.VERIFY).started_at, now)
    if waited >= config.verify_window_s:
        problem = direct_problem or f"the production name still answers {public_problem}"
        reason = (
            f"production did not serve {label} within VERIFY_WINDOW_S={config.verify_window_s} s: {problem}"
        )
        return start_swap_back(counted, now, reason)
    if direct_problem is not None:
        detail = f"{direct_problem} ({failures} of {VERIFY_DIRECT_FAILURES} failures in a row swap back)"
    else:
        detail = f"{d.preprod_env} answers {label}; waiting for the production name (DNS): {public_problem}"
    remaining = config.verify_window_s - waited
    return wait(note(counted, now, StepName.VERIFY, detail), max(1, min(config.poll_interval_s, remaining)))


def _analyse(d: Deployment, observed: Observed, now: datetime, config: Config, serving: str) -> Decision:
    """Production serves the new version: what did its users meet?"""
    window_end = (d.step(StepName.VERIFY).started_at or now) + timedelta(seconds=config.verify_window_s)
    if not analysis.measurable(d, now, config):
        first = first_window_end(d, config)
        if first is None or first > window_end:
            window = f"VERIFY_WINDOW_S={config.verify_window_s} s"
            detail = f"{serving}; analysis: no whole metrics period within {window}"
            return advance(d, now, StepName.VERIFY, detail)
        detail = (
            f"{serving}; measuring production's metrics once a whole period has passed ({first:%H:%M:%S})"
        )
        return wait(note(d, now, StepName.VERIFY, detail), max(1, math.ceil((first - now).total_seconds())))
    judged = analysis.judge_now(d, observed, now, config)
    detail = f"{serving}; {judged.text}"
    if judged.failed:
        reason = "analysis failed: " + "; ".join(r.text for r in judged.failed)
        return start_swap_back(judged.deployment, now, reason, detail=detail)
    if judged.short_of == 0:
        return advance(judged.deployment, now, StepName.VERIFY, detail)
    look = analysis.next_look(judged, now, window_end, config)
    if look is None:
        detail += f"; too little traffic to judge within VERIFY_WINDOW_S={config.verify_window_s} s"
        return advance(judged.deployment, now, StepName.VERIFY, detail)
    return wait(note(judged.deployment, now, StepName.VERIFY, f"{detail}; measuring again in {look} s"), look)


def _name_behind(d: Deployment, observed: Observed, now: datetime, config: Config) -> bool:
    """The window has ended; the new environment answers the new version directly, and the production
    name answers, but another version: resolvers still lead it to the previous environment."""
    direct, public = observed.direct, observed.public
    return (
        direct is not None
        and public is not None
        and elapsed(d.step(StepName.VERIFY).started_at, now) >= config.verify_window_s
        and health_problem(direct, d.version_label) is None
        and public.status == 200
        and public.version not in (None, d.version_label)
    )


def _verified_despite_dns(
    d: Deployment, direct: HttpCheck, public: HttpCheck, observed: Observed, now: datetime, config: Config
) -> Decision:
    warning = (
        f"verify: when VERIFY_WINDOW_S={config.verify_window_s} s ended, the production name "
        f"({public.url}) still answered {public.version} from the previous environment, while "
        f"{d.preprod_env} answered {d.version_label} directly ({direct.url}) and DescribeEnvironments showed "
        f"production's CNAME on it: DNS resolvers still cache the old target and follow within their TTL"
    )
    detail = (
        f"{d.preprod_env} ({direct.url}) answers {d.version_label} and owns production's CNAME; "
        f"the production name still led to {public.version} (DNS)"
    )
    warned = warn(dataclasses.replace(d, verify_failures=0), now, warning)
    if not analysis.enabled(config):
        return advance(warned, now, StepName.VERIFY, detail)
    return _analyse(warned, observed, now, config, detail)


def _owns_production(d: Deployment, observed: Observed, config: Config) -> bool:
    """DescribeEnvironments puts production's CNAME on the new environment."""
    if observed.environments is None:
        return False
    owner = topology.production_owner(observed.environments, config.prod_cname_prefix, config.region)
    return owner is not None and owner.name == d.preprod_env


def _analysis_needs(d: Deployment, observed: Observed, now: datetime, config: Config) -> tuple[Need, ...]:
    if not analysis.enabled(config) or not analysis.measurable(d, now, config):
        return ()
    return analysis.needs(d, observed, now, config)
