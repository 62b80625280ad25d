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
production: the controller swaps back.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from controller.core import topology
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
    """The checks; and, once the window has ended with only the production name behind (it answers another
    version), where DescribeEnvironments puts production's CNAME."""
    if observed.direct is not None and observed.public is not None and _name_behind(d, observed, now, config):
        return (Need.DIRECT, Need.PUBLIC, Need.ENVIRONMENTS)
    return (Need.DIRECT, Need.PUBLIC)


def verify(d: Deployment, observed: Observed, now: datetime, config: Config) -> Decision:
    direct = require(observed.direct, Need.DIRECT)
    public = require(observed.public, Need.PUBLIC)
    label = d.version_label
    direct_problem, public_problem = health_problem(direct, label), health_problem(public, label)
    if direct_problem is None and public_problem is None:
        detail = f"{d.preprod_env} ({direct.url}) and production ({public.url}) answer {label}"
        return advance(dataclasses.replace(d, verify_failures=0), now, StepName.VERIFY, detail)
    if _name_behind(d, observed, now, config):
        environments = require(observed.environments, Need.ENVIRONMENTS)
        owner = topology.production_owner(environments, config.prod_cname_prefix, config.region)
        if owner is not None and owner.name == d.preprod_env:
            return _verified_despite_dns(d, direct, public, now, config)
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
    d: Deployment, direct: HttpCheck, public: HttpCheck, now: datetime, config: Config
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
    return advance(warned, now, StepName.VERIFY, detail)
