"""The promote step, promote and abort requests, and the bake, pure: what each decides from what it sees."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from controller_builders import CONFIG, PROD_CNAME, after_swap, at, env, health, observed, running_at
from test_controller_reconcile import check_decision

from controller.core import actions as act
from controller.core.decision import CONTINUE, MAX_DELAY_S, RequeueAfter
from controller.core.model import Promotion, Status, StepName, StepStatus
from controller.core.observation import Need
from controller.core.reconcile import next_need, reconcile, woken_by
from controller.core.steps.promotion import abort_requested, promotion_requested

S = StepName
BAKING = dataclasses.replace(CONFIG, bake_s=300)
HOUR = CONFIG.promotion_timeout_s


def held(**changes: Any) -> Any:
    return running_at(S.PROMOTE, promotion=Promotion.MANUAL, **changes)


def baking(**changes: Any) -> Any:
    return running_at(S.BAKE, swap_requested_at=at(0), **changes)


def red_production() -> Any:
    return (
        env("shop-blue", "shop-blue.us-east-1.elasticbeanstalk.com"),
        env("shop-green", PROD_CNAME, health="Red"),
    )


CASES: list[tuple[str, Any, Any, float, Any, dict[str, Any]]] = [
    (
        "automatic promotion -> skipped, on to the swap",
        running_at(S.PROMOTE),
        observed(),
        1,
        CONFIG,
        {"step": (S.PROMOTE, StepStatus.SKIPPED), "next": CONTINUE},
    ),
    (
        "manual, not promoted -> awaiting_promotion, looks again at most every 900 s",
        held(),
        observed(),
        1,
        CONFIG,
        {
            "status": Status.AWAITING_PROMOTION,
            "step": (S.PROMOTE, StepStatus.RUNNING),
            "next": RequeueAfter(MAX_DELAY_S),
        },
    ),
    (
        "manual, close to the timeout -> looks again just after it",
        held(status=Status.AWAITING_PROMOTION),
        observed(),
        HOUR - 100,
        CONFIG,
        {"status": Status.AWAITING_PROMOTION, "next": RequeueAfter(101)},
    ),
    (
        "manual, promoted -> running, on to the swap",
        held(status=Status.RUNNING, promoted_at=at(50)),
        observed(),
        60,
        CONFIG,
        {"status": Status.RUNNING, "step": (S.PROMOTE, StepStatus.SUCCEEDED), "next": CONTINUE},
    ),
    (
        "manual, not promoted within PROMOTION_TIMEOUT_S -> failed, lease released",
        held(status=Status.AWAITING_PROMOTION),
        observed(),
        HOUR,
        CONFIG,
        {"status": Status.FAILED, "error": "not promoted within", "actions": [act.ReleaseLease]},
    ),
    (
        "abort requested while held -> failed, nothing touched",
        held(status=Status.AWAITING_PROMOTION, abort_requested_at=at(10)),
        observed(),
        11,
        CONFIG,
        {"status": Status.FAILED, "error": "aborted by request", "actions": [act.ReleaseLease]},
    ),
    (
        "abort requested during our update -> the update is aborted too",
        running_at(S.WAIT_READY, abort_requested_at=at(10)),
        observed(environments=(env("shop-blue", PROD_CNAME), env("shop-green", "g", "Updating", "Grey"))),
        11,
        CONFIG,
        {"status": Status.FAILED, "actions": [act.AbortUpdate, act.ReleaseLease]},
    ),
    (
        "BAKE_S=0 -> skipped (succeeded next)",
        baking(),
        observed(),
        1,
        CONFIG,
        {"step": (S.BAKE, StepStatus.SKIPPED), "next": CONTINUE},
    ),
    (
        "baking, production healthy -> watches again after POLL_INTERVAL_S",
        baking(),
        observed(environments=after_swap(), direct=health()),
        10,
        BAKING,
        {
            "status": Status.RUNNING,
            "step": (S.BAKE, StepStatus.RUNNING),
            "next": RequeueAfter(CONFIG.poll_interval_s),
        },
    ),
    (
        "baked for BAKE_S, healthy -> bake succeeded (the deployment next)",
        baking(),
        observed(environments=after_swap(), direct=health()),
        300,
        BAKING,
        {"step": (S.BAKE, StepStatus.SUCCEEDED), "next": CONTINUE},
    ),
    (
        "Beanstalk health Red, 2nd check in a row -> not yet",
        baking(bake_failures=1),
        observed(environments=red_production(), direct=health()),
        30,
        BAKING,
        {"status": Status.RUNNING, "next": RequeueAfter(CONFIG.poll_interval_s)},
    ),
    (
        "/health failing, 3rd check in a row -> swap back",
        baking(bake_failures=2),
        observed(environments=after_swap(), direct=health(503, None)),
        30,
        BAKING,
        {"status": Status.RUNNING, "step": (S.BAKE, StepStatus.FAILED), "next": CONTINUE},
    ),
    (
        "production CNAME moved off the new environment -> failed, nothing swapped back",
        baking(),
        observed(
            environments=(env("shop-blue", PROD_CNAME), env("shop-green", "g", label="x")), direct=health()
        ),
        30,
        BAKING,
        {"status": Status.FAILED, "error": "moved off shop-green", "actions": [act.ReleaseLease]},
    ),
]


@pytest.mark.parametrize(
    ("deployment", "seen", "seconds", "config", "expect"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_hold_abort_and_bake(deployment: Any, seen: Any, seconds: float, config: Any, expect: Any) -> None:
    decision = reconcile(deployment, seen, at(seconds), config)
    check_decision(decision, seconds, expect)


def test_a_third_bad_bake_check_starts_the_swap_back_with_the_reason() -> None:
    d = reconcile(
        baking(bake_failures=2), observed(environments=red_production(), direct=health()), at(30), BAKING
    )
    back = d.deployment.swap_back
    assert back is not None and "production degraded during the bake" in back.reason
    assert "shop-green health is Red" in back.reason


def test_the_bake_looks_at_production_and_the_new_environment_directly() -> None:
    assert next_need(baking(), observed(), at(1), BAKING) is Need.ENVIRONMENTS
    assert next_need(baking(), observed(environments=after_swap()), at(1), BAKING) is Need.DIRECT
    assert next_need(baking(), observed(), at(1), CONFIG) is None


def test_promote_and_abort_requests() -> None:
    awaiting = held(status=Status.AWAITING_PROMOTION)
    promoted = promotion_requested(awaiting, at(5))
    assert not isinstance(promoted, str)
    assert (promoted.status, promoted.promoted_at) == (Status.RUNNING, at(5))
    assert isinstance(promotion_requested(held(), at(5)), str)  # running, not held
    assert isinstance(
        promotion_requested(dataclasses.replace(awaiting, abort_requested_at=at(1)), at(5)), str
    )

    aborted = abort_requested(awaiting, at(5))
    assert not isinstance(aborted, str) and aborted.abort_requested_at == at(5)
    assert abort_requested(aborted, at(6)) == aborted  # asked twice: nothing more to record
    swapping = running_at(S.SWAP, swap_requested_at=at(1))
    assert "roll it back" in str(abort_requested(swapping, at(5)))
    assert "nothing to abort" in str(
        abort_requested(dataclasses.replace(awaiting, status=Status.FAILED), at(5))
    )


@pytest.mark.parametrize(
    ("deployment", "environment", "wakes"),
    [
        (running_at(S.DEPLOY_PREPROD), "anything", True),
        (running_at(S.WAIT_READY), "shop-green", True),
        (running_at(S.WAIT_READY), "shop-blue", False),
        (running_at(S.SMOKE_TEST), "shop-green", False),
        (running_at(S.SWAP), "shop-green", False),
        (baking(), "shop-green", True),
        (held(status=Status.AWAITING_PROMOTION), "shop-green", False),
        (running_at(S.WAIT_READY, abort_requested_at=at(1)), "shop-green", False),
    ],
    ids=["deploy_preprod", "wait_ready", "wait_ready other env", "smoke", "swap", "bake", "held", "aborting"],
)
def test_which_news_can_move_a_deployment(deployment: Any, environment: str, wakes: bool) -> None:
    assert woken_by(deployment, environment) is wakes
