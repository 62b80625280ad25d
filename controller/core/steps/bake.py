"""The bake (pure): for BAKE_S after verify, production is watched before the deployment succeeds.

Each check looks at Beanstalk's health of the new production environment (it must stay in ACCEPTED_HEALTH)
and its `/health` through its own EndpointURL (200 and the new version). BAKE_FAILURES checks in a row that
find production degraded start the swap back (steps.swap), and the deployment ends `rolled_back` with the
reason. Checks are POLL_INTERVAL_S apart, and a health change Beanstalk announces on EventBridge wakes the
deployment for one at once. The metric analysis (steps.analysis) measures again once per metrics period and
when the bake ends: a failed check swaps back at once (it judges the whole time since the swap). The
previous environment is left as it is (still on the previous version, the one a swap back returns to) until
the bake ends; only then is the deployment `succeeded`.
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
    skip,
    wait,
)
from controller.core.model import Deployment, StepName
from controller.core.observation import EnvironmentView, HttpCheck, Need, Observed
from controller.core.steps import analysis
from controller.core.steps.swap import start_swap_back

BAKE_FAILURES = 3


def needs(d: Deployment, observed: Observed, now: datetime, config: Config) -> tuple[Need, ...]:
    if config.bake_s == 0:
        return ()
    watch = (Need.ENVIRONMENTS, Need.DIRECT)
    if _analysis_due(d, now, config):
        return watch + analysis.needs(d, observed, now, config)
    return watch


def bake(d: Deployment, observed: Observed, now: datetime, config: Config) -> Decision:
    if config.bake_s == 0:
        return skip(d, now, StepName.BAKE, "no bake (BAKE_S=0)")
    environments = require(observed.environments, Need.ENVIRONMENTS)
    direct = require(observed.direct, Need.DIRECT)
    production = topology.find(environments, d.preprod_env)
    owner = topology.production_owner(environments, config.prod_cname_prefix, config.region)
    if production is None or owner is None or owner.name != production.name:
        where = owner.name if owner is not None else "no single environment"
        return fail(
            d,
            now,
            f"during the bake the production CNAME moved off {d.preprod_env} (now on {where}); "
            "nothing was swapped back",
        )
    problem = _degradation(production, direct, d, config)
    if problem is not None:
        failures = d.bake_failures + 1
        counted = dataclasses.replace(d, bake_failures=failures, updated_at=now)
        if failures >= BAKE_FAILURES:
            reason = f"production degraded during the bake: {problem} ({failures} checks in a row)"
            return start_swap_back(counted, now, reason)
        detail = f"{problem} ({failures} of {BAKE_FAILURES} checks in a row swap back)"
        return wait(note(counted, now, StepName.BAKE, detail), config.poll_interval_s)
    healthy = d if d.bake_failures == 0 else dataclasses.replace(d, bake_failures=0, updated_at=now)
    waited = elapsed(d.step(StepName.BAKE).started_at, now)
    measured = ""
    if _analysis_due(d, now, config):
        judged = analysis.judge_now(healthy, observed, now, config)
        healthy, measured = judged.deployment, f"; {judged.text}"
        if judged.failed:
            reason = "analysis failed during the bake: " + "; ".join(r.text for r in judged.failed)
            return start_swap_back(healthy, now, reason, detail=judged.text)
    if waited >= config.bake_s:
        detail = (
            f"production {production.name} healthy on {d.version_label} for BAKE_S={config.bake_s} s "
            f"({direct.url}, health {production.health}){measured}"
        )
        return advance(healthy, now, StepName.BAKE, detail)
    detail = (
        f"watching production {production.name} (health, {direct.url}) for BAKE_S={config.bake_s} s; "
        f"{d.prod_env} stays on {d.previous_label} until then"
    )
    shown = d.step(StepName.BAKE).detail or ""
    detail = detail + measured if measured or not shown.startswith(detail) else shown
    remaining = int(config.bake_s - waited) + 1
    return wait(note(healthy, now, StepName.BAKE, detail), max(1, min(config.poll_interval_s, remaining)))


def _degradation(production: EnvironmentView, direct: HttpCheck, d: Deployment, config: Config) -> str | None:
    if production.health not in config.accepted_health:
        accepted = ",".join(sorted(config.accepted_health, key=len))
        return f"{production.name} health is {production.health} (accepted: {accepted})"
    return health_problem(direct, d.version_label)


def _analysis_due(d: Deployment, now: datetime, config: Config) -> bool:
    if not analysis.enabled(config) or not analysis.measurable(d, now, config):
        return False
    return analysis.due_in_bake(d, now, elapsed(d.step(StepName.BAKE).started_at, now), config)
