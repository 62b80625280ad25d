"""The CNAME swap, and the swap back when production fails after it (pure).

SwapEnvironmentCNAMEs is decided when production's CNAME is on the previous environment and both are Ready,
and saved before it is sent; once requested it is never requested again for this deployment (an answer
lost to a 5xx or a timeout is settled by watching where the CNAME goes). Only a refusal that certainly
changed nothing (busy, throttled) lets it be asked again. The swap is done when production's CNAME is on
the new environment and both are Ready.

Before the swap is requested, the analysis' alarms (ANALYSIS_CHECKS) are looked at: one already in ALARM
fails the deployment with production untouched (a release swapped in under a firing alarm could only be
judged failed, and swapped back).

A failure from the swap on (the swap never settling, the verification failing) starts the swap back: the
same request in the other direction, once, then a check that the previous environment serves the previous
version again, directly and through the production name. The deployment ends `rolled_back` with the reason.
A failed bake ends the same way through `start_swap_back`. A rollback by request (core.rollback) is the
same swap back, already requested: it reads `rolled_back` once the previous version answers, and is
succeeded again when the swap cannot happen.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from controller.core import topology
from controller.core.actions import ReleaseLease, SwapCNAMEs
from controller.core.analysis.checks import alarm_names
from controller.core.config import Config
from controller.core.decision import (
    CONTINUE,
    Decision,
    RequeueAfter,
    advance,
    backoff,
    elapsed,
    fail,
    health_problem,
    note,
    require,
    wait,
    wait_or_fail,
)
from controller.core.model import Deployment, Status, StepName, StepStatus, SwapBack
from controller.core.observation import (
    ActionOutcome,
    ActionResult,
    EnvironmentView,
    HttpCheck,
    Need,
    Observed,
)


def swap_needs(d: Deployment, config: Config) -> tuple[Need, ...]:
    if d.swap_requested_at is None and alarm_names(config.analysis_checks):
        return (Need.ENVIRONMENTS, Need.ALARMS)
    return (Need.ENVIRONMENTS,)


def swap(d: Deployment, observed: Observed, now: datetime, config: Config) -> Decision:
    environments = require(observed.environments, Need.ENVIRONMENTS)
    if d.swap_requested_at is None and alarm_names(config.analysis_checks):
        firing = [a for a in require(observed.alarms, Need.ALARMS) if a.state == "ALARM"]
        if firing:
            names = ", ".join(a.name for a in firing)
            return fail(
                d,
                now,
                f"alarm {names} in ALARM before the swap (ANALYSIS_CHECKS): production untouched "
                f"({d.prod_env} still runs {d.previous_label})",
            )
    new, old = topology.find(environments, d.preprod_env), topology.find(environments, d.prod_env)
    if new is None or old is None:
        gone = d.preprod_env if new is None else d.prod_env
        if d.swap_requested_at is not None:
            return fail(d, now, f"environment {gone} is gone after the swap was requested")
        return fail(d, now, f"environment {gone} is gone")
    owner = topology.production_owner(environments, config.prod_cname_prefix, config.region)
    both_ready = new.status == "Ready" and old.status == "Ready"
    if d.swap_requested_at is None:
        return _request_swap(d, new, old, owner, both_ready, now, config)
    waited = elapsed(d.swap_requested_at, now)
    if owner is not None and owner.name == new.name:
        if both_ready:
            return advance(d, now, StepName.SWAP, f"production CNAME on {new.name}")
        if waited > config.deploy_timeout_s:
            reason = (
                f"after the swap {new.name} ({new.status}) and {old.name} ({old.status}) were not both "
                f"Ready within {config.deploy_timeout_s} s"
            )
            return start_swap_back(d, now, reason)
        return wait(d, backoff(waited, config))
    # A pending swap looks like no swap (both Ready, CNAME unchanged): only time tells them apart, and
    # waiting is always safe, so the deployment waits up to DEPLOY_TIMEOUT_S, then fails untouched.
    where = owner.name if owner is not None else "on no single environment"
    reason = f"the CNAME swap did not take effect within {config.deploy_timeout_s} s; production: {where}"
    return wait_or_fail(d, now, waited, config.deploy_timeout_s, reason, config)


def absorb_swap(d: Deployment, result: ActionResult, now: datetime, config: Config) -> Decision:
    """What SwapEnvironmentCNAMEs answered (the swap, or the swap back)."""
    back = d.swap_back
    if result.outcome is ActionOutcome.DONE:
        return wait(d, config.poll_interval_s)
    if result.outcome is ActionOutcome.UNKNOWN:
        detail = f"SwapEnvironmentCNAMEs' answer was lost ({result.message}); watching where the CNAME goes"
        return wait(_note_swap(d, now, detail), config.poll_interval_s)
    if result.outcome is ActionOutcome.NOT_DONE:
        detail = f"SwapEnvironmentCNAMEs refused for now ({result.message}); asking again once both are Ready"
        if back is not None:
            again = dataclasses.replace(
                d, swap_back=dataclasses.replace(back, requested_at=None), updated_at=now
            )
        else:
            again = dataclasses.replace(d, swap_requested_at=None, updated_at=now)
        return wait(_note_swap(again, now, detail), config.poll_interval_s)
    if back is not None:
        return fail(
            d,
            now,
            f"{back.reason}; swapping back was refused: {result.message}; production remains on "
            f"{d.preprod_env} ({d.version_label})",
        )
    return fail(d, now, f"SwapEnvironmentCNAMEs was refused: {result.message}")


def start_swap_back(d: Deployment, now: datetime, reason: str, detail: str | None = None) -> Decision:
    """Production failed after the swap: record why (on the failing step, with `detail` when the step has
    more to show than the reason) and swap back."""
    step = d.current_step
    failing = d
    if step is not None:
        failing = d.with_step(step.name, status=StepStatus.FAILED, finished_at=now, detail=detail or reason)
    back = dataclasses.replace(failing, swap_back=SwapBack(reason=reason, started_at=now), updated_at=now)
    return Decision(back, next=CONTINUE)


def swap_back_needs(d: Deployment, observed: Observed, config: Config) -> tuple[Need, ...]:
    """Environments first; the HTTP checks once production is back on the previous environment."""
    if observed.environments is not None and _back(d, observed.environments, config):
        return (Need.ENVIRONMENTS, Need.DIRECT, Need.PUBLIC)
    return (Need.ENVIRONMENTS,)


def swap_back(d: Deployment, observed: Observed, now: datetime, config: Config) -> Decision:
    back = d.swap_back
    assert back is not None
    environments = require(observed.environments, Need.ENVIRONMENTS)
    if _back(d, environments, config):
        return _verify_previous(d, back, observed, now, config)
    new, old = topology.find(environments, d.preprod_env), topology.find(environments, d.prod_env)
    if new is None or old is None:
        gone = d.preprod_env if new is None else d.prod_env
        return _unswapped(d, now, f"{back.reason}; cannot swap back: environment {gone} is gone")
    owner = topology.production_owner(environments, config.prod_cname_prefix, config.region)
    where = owner.name if owner is not None else "no single environment"
    if back.requested_at is None:
        both_ready = new.status == "Ready" and old.status == "Ready"
        if owner is not None and owner.name == new.name and both_ready:
            requested = dataclasses.replace(
                d, swap_back=dataclasses.replace(back, requested_at=now), updated_at=now
            )
            detail = f"{back.reason}; swapping production back to {old.name}"
            return Decision(
                _note_swap(requested, now, detail),
                (SwapCNAMEs(old.name, new.name),),
                RequeueAfter(config.poll_interval_s),
            )
        reason = (
            f"{back.reason}; could not swap back within {config.deploy_timeout_s} s: {new.name} is "
            f"{new.status}, {old.name} is {old.status}; production is on {where}"
        )
        return _wait_or_unswapped(d, now, elapsed(back.started_at, now), reason, config)
    reason = (
        f"{back.reason}; the swap back did not take effect within {config.deploy_timeout_s} s; "
        f"production is on {where}"
    )
    return _wait_or_unswapped(d, now, elapsed(back.requested_at, now), reason, config)


def _wait_or_unswapped(d: Deployment, now: datetime, waited: float, reason: str, config: Config) -> Decision:
    if waited > config.deploy_timeout_s:
        return _unswapped(d, now, reason)
    return wait(d, backoff(waited, config))


def _unswapped(d: Deployment, now: datetime, reason: str) -> Decision:
    """The swap back cannot be made, or did not take effect: the deployment fails (the controller's own
    swap back) or, for a rollback by request, is succeeded again, production where it was."""
    if d.swap_back is not None and d.swap_back.by_request:
        restored = dataclasses.replace(
            d,
            status=Status.SUCCEEDED,
            swap_back=None,
            updated_at=now,
            error=f"rollback did not complete: {reason}",
        )
        return Decision(restored, (ReleaseLease(d.id, succeeded=True),))
    return fail(d, now, reason)


def _verify_previous(
    d: Deployment, back: SwapBack, observed: Observed, now: datetime, config: Config
) -> Decision:
    """Production's CNAME is back on the previous environment: does it serve the previous version?"""
    direct = require(observed.direct, Need.DIRECT)
    public = require(observed.public, Need.PUBLIC)
    environments = require(observed.environments, Need.ENVIRONMENTS)
    answer = _previous_answer(d, direct, environments)
    problem = health_problem(direct, answer) or health_problem(public, answer)
    since = back.back_at or now
    if problem is None:
        shown = d.previous_label if answer == d.previous_label else f"{d.previous_label}, answering {answer}"
        return _rolled_back(d, now, f"production is back on {d.prod_env} ({shown}), verified")
    if elapsed(since, now) >= config.verify_window_s:
        return _rolled_back(
            d, now, f"production is back on {d.prod_env} but did not answer {answer}: {problem}"
        )
    seen = (
        d
        if back.back_at is not None
        else dataclasses.replace(d, swap_back=dataclasses.replace(back, back_at=now), updated_at=now)
    )
    return wait(seen, config.poll_interval_s)


def _rolled_back(d: Deployment, now: datetime, outcome: str) -> Decision:
    assert d.swap_back is not None
    swapped = d.with_step(StepName.SWAP, status=StepStatus.ROLLED_BACK, finished_at=now, detail=outcome)
    by = "request" if d.swap_back.by_request else "the controller"
    done = dataclasses.replace(
        swapped,
        status=Status.ROLLED_BACK,
        updated_at=now,
        error=f"rolled back by {by}: {d.swap_back.reason}; {outcome}",
    )
    return Decision(done, (ReleaseLease(d.id, succeeded=False),))


def _request_swap(
    d: Deployment,
    new: EnvironmentView,
    old: EnvironmentView,
    owner: EnvironmentView | None,
    both_ready: bool,
    now: datetime,
    config: Config,
) -> Decision:
    waited = elapsed(d.step(StepName.SWAP).started_at, now)
    if owner is not None and owner.name == new.name:
        if both_ready:
            return advance(d, now, StepName.SWAP, f"production CNAME already on {new.name}")
    elif owner is None or owner.name != old.name:
        return fail(
            d, now, f"production CNAME is on {owner.name if owner else 'nothing'}, expected {old.name}"
        )
    elif both_ready:
        requested = dataclasses.replace(d, swap_requested_at=now, updated_at=now)
        return Decision(requested, (SwapCNAMEs(new.name, old.name),), RequeueAfter(config.poll_interval_s))
    detail = f"waiting for both to be Ready: {new.name} {new.status}, {old.name} {old.status}"
    reason = f"{new.name} ({new.status}), {old.name} ({old.status}) never both Ready"
    return wait_or_fail(
        note(d, now, StepName.SWAP, detail), now, waited, config.deploy_timeout_s, reason, config
    )


def _previous_answer(
    d: Deployment, direct: HttpCheck, environments: tuple[EnvironmentView, ...]
) -> str | None:
    """The version the previous environment's web app answers: its label, as for every version this
    controller makes (label = tag). A version it did not make (the provisioning's first: CloudFormation
    chose its label) answers its image's tag instead: what the previous environment answers directly, while
    Beanstalk says it runs the previous label and it is not the version that failed."""
    old = topology.find(environments, d.prod_env)
    other = direct.status == 200 and direct.version not in (None, d.previous_label, d.version_label)
    if other and old is not None and old.version_label == d.previous_label:
        return direct.version
    return d.previous_label


def _back(d: Deployment, environments: tuple[EnvironmentView, ...], config: Config) -> bool:
    """Production's CNAME is on the previous environment again, and that one is Ready."""
    old = topology.find(environments, d.prod_env)
    owner = topology.production_owner(environments, config.prod_cname_prefix, config.region)
    return old is not None and owner is not None and owner.name == old.name and old.status == "Ready"


def _note_swap(d: Deployment, now: datetime, detail: str) -> Deployment:
    """The detail of the step the swap (or swap back) belongs to."""
    return (
        note(d, now, StepName.SWAP, detail) if d.swap_back is None else dataclasses.replace(d, updated_at=now)
    )
