"""The drain, pure: pre-production (the previous production) is redeployed only once CloudWatch shows its
load balancer no longer receives production's users - and never within DNS_TTL_S of a swap."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from controller_builders import (
    CONFIG,
    LOAD_BALANCERS,
    answered,
    at,
    before_swap,
    changed_at,
    env,
    known_load_balancers,
    load_balancers_seen,
    observed,
    running_at,
)
from test_controller_reconcile import check_decision

from controller.core import actions as act
from controller.core.analysis.window import drain_request
from controller.core.decision import CONTINUE, RequeueAfter
from controller.core.model import Status, StepName, StepStatus
from controller.core.observation import Need
from controller.core.reconcile import metric_request, next_need, reconcile, wanted_load_balancers

S = StepName
GREEN_LB = LOAD_BALANCERS["shop-green"]
WINDOW = CONFIG.drain_window_s  # 120 s: two whole minutes


def draining(started: float = 0, **changes: Any) -> Any:
    """A deployment in its drain, started `started` seconds after T0, both load balancers known."""
    return known_load_balancers(running_at(S.DRAIN, started=at(started), **changes))


def seen(d: Any, now: float, environments: Any = None, **requests_per_minute: float) -> Any:
    """Observed at `now`: the environments and pre-production's requests, by minute after T0
    (`m_120=30`: 30 requests in the minute starting 120 s after T0)."""
    points = {float(k.removeprefix("m_").replace("minus", "-")): v for k, v in requests_per_minute.items()}
    environments = environments or before_swap(green_label="1.0.40")
    request = drain_request(d, GREEN_LB, at(now), CONFIG)
    return observed(environments=environments, metrics=answered(request, requests=points))


CASES: list[tuple[str, Any, Any, float, dict[str, Any]]] = [
    (
        "nobody used pre-production for a long time -> drained at once",
        draining(),
        seen(draining(), 1),
        1,
        {"step": (S.DEPLOY_PREPROD, StepStatus.RUNNING), "next": CONTINUE, "detail": "drained"},
    ),
    (
        "pre-production still serves production's users -> waits until the window could be clean",
        draining(),
        seen(draining(), 60, m_minus60=1200, m_0=900),
        61,
        {
            "step": (S.DRAIN, StepStatus.RUNNING),
            "actions": [],
            "next": RequeueAfter(60 + WINDOW - 61),
            "detail": "1200 900",
        },
    ),
    (
        "the last users left more than DRAIN_WINDOW_S ago -> drained",
        draining(),
        seen(draining(), 300, m_minus60=1200, m_0=40, m_60=3),
        301,
        {"step": (S.DEPLOY_PREPROD, StepStatus.RUNNING), "detail": "1200 40 3 0 0 0"},
    ),
    (
        "a few requests a minute, within DRAIN_MAX_REQUESTS -> drained",
        draining(),
        seen(draining(), 180, m_60=4, m_120=5),
        181,
        {"step": (S.DEPLOY_PREPROD, StepStatus.RUNNING), "config": {"drain_max_requests": 5}},
    ),
    (
        "still used after DRAIN_TIMEOUT_S -> failed, production untouched",
        draining(),
        seen(draining(), CONFIG.drain_timeout_s + 60, **{f"m_{CONFIG.drain_timeout_s}": 7}),
        CONFIG.drain_timeout_s + 61,
        {
            "status": Status.FAILED,
            "step": (S.DRAIN, StepStatus.FAILED),
            "actions": [act.ReleaseLease],
            "error": "still received up to 7 requests/min after DRAIN_TIMEOUT_S=1800 s",
        },
    ),
    (
        "pre-production swapped 10 s ago -> DNS_TTL_S first, no metrics asked",
        draining(),
        observed(environments=changed_at(-10, before_swap(green_label="1.0.40"))),
        0,
        {"step": (S.DRAIN, StepStatus.RUNNING), "next": RequeueAfter(CONFIG.dns_ttl_s - 10)},
    ),
    (
        "pre-production has no Application Load Balancer -> passes after DNS_TTL_S, saying so",
        known_load_balancers(running_at(S.DRAIN), shop_green=""),
        observed(environments=before_swap(green_label="1.0.40")),
        1,
        {"step": (S.DEPLOY_PREPROD, StepStatus.RUNNING), "detail": "cannot be measured"},
    ),
    (
        "no production environment -> failed naming what was found",
        draining(),
        observed(environments=(env("shop-green", "shop-green.us-east-1.elasticbeanstalk.com"),)),
        1,
        {"status": Status.FAILED, "error": "no live web-server environment owns the production CNAME"},
    ),
]


@pytest.mark.parametrize(
    ("deployment", "seen_", "seconds", "expect"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_drain(deployment: Any, seen_: Any, seconds: float, expect: dict[str, Any]) -> None:
    config = dataclasses.replace(CONFIG, **expect.get("config", {}))
    decision = reconcile(deployment, seen_, at(seconds), config)
    check_decision(decision, seconds, expect)
    if "detail" in expect:
        detail = decision.deployment.step(S.DRAIN).detail or ""
        assert expect["detail"] in detail, detail


def test_the_drain_curve_shows_requests_per_minute_since_the_window_before_it_started() -> None:
    d = draining(started=120)
    decision = reconcile(d, seen(d, 180, m_0=600, m_60=300, m_120=30), at(181), CONFIG)

    detail = decision.deployment.step(S.DRAIN).detail
    assert detail is not None and detail.startswith(
        "requests/min on shop-green since 10:00:00, every 60 s: 600 300 30; waiting until at most 0/min"
    ), detail


def test_a_metrics_period_of_10_s_counts_requests_per_minute() -> None:
    config = dataclasses.replace(CONFIG, metrics_period_s=10, drain_window_s=30)
    d = draining(started=60)
    request = drain_request(d, GREEN_LB, at(60), config)
    view = answered(request, requests={40.0: 2})  # 2 requests in 10 s: 12 a minute
    decision = reconcile(d, observed(environments=before_swap(), metrics=view), at(60), config)

    assert decision.deployment.step(S.DRAIN).status is StepStatus.RUNNING
    assert "every 10 s: 0 12 0;" in (decision.deployment.step(S.DRAIN).detail or "")
    assert decision.next == RequeueAfter(40 + 10 + 30 - 60)


def test_the_drain_looks_at_the_environments_then_the_load_balancers_then_the_metrics() -> None:
    d = running_at(S.DRAIN)
    environments = before_swap(green_label="1.0.40")
    now = at(1)

    assert next_need(d, observed(), now, CONFIG) is Need.ENVIRONMENTS
    partial = observed(environments=environments)
    assert next_need(d, partial, now, CONFIG) is Need.LOAD_BALANCERS
    assert wanted_load_balancers(d, partial, CONFIG) == ("shop-green", "shop-blue")
    partial = dataclasses.replace(partial, load_balancers=load_balancers_seen())
    assert next_need(d, partial, now, CONFIG) is Need.METRICS
    request = metric_request(d, partial, now, CONFIG)
    assert request is not None
    assert [(q.metric_name, q.dimensions, q.stat, q.period_s) for q in request.queries] == [
        ("RequestCount", (("LoadBalancer", GREEN_LB),), "Sum", 60),
        ("HTTPCode_Target_4XX_Count", (("LoadBalancer", GREEN_LB),), "Sum", 60),
    ]
    assert (request.start, request.end) == (at(-WINDOW), at(0))
    decided = reconcile(d, dataclasses.replace(partial, metrics=answered(request)), now, CONFIG)
    assert dict(decided.deployment.load_balancers) == LOAD_BALANCERS, "remembered: asked once per deployment"


def test_within_dns_ttl_the_drain_asks_nothing_of_cloudwatch() -> None:
    d = running_at(S.DRAIN)
    partial = observed(environments=changed_at(-10, before_swap(green_label="1.0.40")))

    assert next_need(d, partial, at(0), CONFIG) is None


def test_a_record_that_knows_the_load_balancers_does_not_ask_again() -> None:
    d = draining()
    partial = observed(environments=before_swap(green_label="1.0.40"))

    assert wanted_load_balancers(d, partial, CONFIG) == ()
    assert next_need(d, dataclasses.replace(partial, load_balancers=()), at(1), CONFIG) is Need.METRICS


def _scanned(d: Any, now: float, users: dict[float, float], scanners: dict[float, float]) -> Any:
    """Observed at `now`: pre-production's requests, its users' and the scanners' (its target's 404s)."""
    request = drain_request(d, GREEN_LB, at(now), CONFIG)
    moments = set(users) | set(scanners)
    requests = {m: users.get(m, 0.0) + scanners.get(m, 0.0) for m in moments}
    return observed(
        environments=before_swap(green_label="1.0.40"),
        metrics=answered(request, requests=requests, target4xx=scanners),
    )


def test_the_internets_scanners_never_hold_the_drain_the_4xx_its_target_answered_are_not_users() -> None:
    d = draining(started=120)
    scanners = {0.0: 240.0, 60.0: 240.0, 120.0: 240.0}

    decision = reconcile(d, _scanned(d, 180, {0.0: 600.0}, scanners), at(181), CONFIG)

    check_decision(decision, 181, {"step": (S.DEPLOY_PREPROD, StepStatus.RUNNING)})
    assert "requests/min on shop-green since" in (detail := decision.deployment.step(S.DRAIN).detail or "")
    assert "600 0 0" in detail, detail


def test_users_among_the_scanners_still_hold_the_drain() -> None:
    d = draining(started=120)
    scanners = {0.0: 240.0, 60.0: 240.0, 120.0: 240.0}

    decision = reconcile(d, _scanned(d, 180, {60.0: 30.0}, scanners), at(181), CONFIG)

    check_decision(decision, 181, {"step": (S.DRAIN, StepStatus.RUNNING)})
    assert "0 30 0" in (decision.deployment.step(S.DRAIN).detail or "")
