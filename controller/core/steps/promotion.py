"""Promotion and abort (pure): the `promote` step, and what `POST .../promote` and `POST .../abort` ask.

A deployment posted with `"promotion": "manual"` stops after a passed smoke test in `awaiting_promotion`:
pre-production serves the new version on its own URL for people to look at, production is untouched and
the deployment keeps the application's lease. `POST .../promote` records the promotion and the deployment
goes on to the swap; `POST .../abort` records the abort and the next tick ends it `failed` (an update still
under way on pre-production is aborted too); with neither within PROMOTION_TIMEOUT_S it expires, `failed`.

An abort is accepted while the deployment is queued, running before the swap was requested, or awaiting
promotion: production is untouched then. Once the swap was requested, rollback is the way back.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from controller.core import topology
from controller.core.actions import AbortUpdate
from controller.core.config import Config
from controller.core.decision import MAX_DELAY_S, Decision, advance, elapsed, fail, note, skip, wait
from controller.core.model import Deployment, Promotion, Status, StepName, StepStatus, status_phrase
from controller.core.observation import Need, Observed
from controller.core.records import iso


def promote(d: Deployment, observed: Observed, now: datetime, config: Config) -> Decision:
    if d.promotion is Promotion.AUTO:
        return skip(d, now, StepName.PROMOTE, "automatic promotion")
    if d.promoted_at is not None:
        going_on = dataclasses.replace(d, status=Status.RUNNING)
        return advance(going_on, now, StepName.PROMOTE, f"promoted by request at {iso(d.promoted_at)}")
    waited = elapsed(d.step(StepName.PROMOTE).started_at, now)
    if waited >= config.promotion_timeout_s:
        return fail(
            d,
            now,
            f"not promoted within PROMOTION_TIMEOUT_S={config.promotion_timeout_s} s; production untouched "
            f"({d.prod_env} still runs {d.previous_label})",
        )
    held = dataclasses.replace(d, status=Status.AWAITING_PROMOTION)
    detail = (
        f"{d.preprod_env} serves {d.version_label} on http://{d.preprod_cname}/ ; waiting for "
        f"POST /deployments/{d.id}/promote (or /abort) for up to {config.promotion_timeout_s} s"
    )
    expiry = int(config.promotion_timeout_s - waited) + 1
    return wait(note(held, now, StepName.PROMOTE, detail), min(MAX_DELAY_S, expiry))


def promotion_requested(d: Deployment, now: datetime) -> Deployment | str:
    """The deployment with its promotion recorded, or why it cannot be promoted."""
    if d.status is not Status.AWAITING_PROMOTION:
        phrase = status_phrase(d.status)
        return f"deployment {d.id} {phrase}; only a deployment awaiting promotion can be promoted"
    if d.abort_requested_at is not None:
        return f"deployment {d.id} is being aborted (requested at {iso(d.abort_requested_at)})"
    return dataclasses.replace(d, status=Status.RUNNING, promoted_at=now, updated_at=now)


def abort_requested(d: Deployment, now: datetime) -> Deployment | str:
    """The deployment with its abort recorded (unchanged when one already is), or why it cannot be
    aborted."""
    if d.finished:
        return f"deployment {d.id} {status_phrase(d.status)}; there is nothing to abort"
    if d.abort_requested_at is not None:
        return d
    swap = d.step(StepName.SWAP).status
    if d.swap_requested_at is not None or d.swap_back is not None or swap not in _BEFORE_SWAP:
        return (
            f"deployment {d.id} has requested the CNAME swap; production may already be on "
            f"{d.preprod_env} ({d.version_label}): roll it back once it has succeeded"
        )
    return dataclasses.replace(d, abort_requested_at=now, updated_at=now)


_BEFORE_SWAP = frozenset({StepStatus.PENDING, StepStatus.RUNNING})


def abort_needs(d: Deployment) -> tuple[Need, ...]:
    """Pre-production's state, when the deployment's own update may still be under way on it."""
    if d.deploy_requested_at is not None and d.step(StepName.WAIT_READY).status is StepStatus.RUNNING:
        return (Need.ENVIRONMENTS,)
    return ()


def aborted(d: Deployment, observed: Observed, now: datetime, config: Config) -> Decision:
    """An abort was requested: the deployment ends failed, and an update of ours still running on
    pre-production is aborted (Beanstalk puts the previous version back)."""
    where = f" ({d.prod_env} still runs {d.previous_label})" if d.prod_env else ""
    failed = fail(d, now, f"aborted by request; production untouched{where}")
    env = None if observed.environments is None else topology.find(observed.environments, d.preprod_env)
    if env is None or not env.busy:
        return failed
    return dataclasses.replace(failed, actions=(AbortUpdate(env.name), *failed.actions))
