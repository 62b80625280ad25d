"""The metric analysis, pure: the checks judged against CloudWatch's answers (verdict), what a deployment
asks (window), and what verify, the bake and the swap decide from it."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from controller_builders import (
    CONFIG,
    LOAD_BALANCERS,
    TAG,
    after_swap,
    answered,
    at,
    before_swap,
    health,
    known_load_balancers,
    observed,
    running_at,
)
from test_controller_reconcile import check_decision

from controller.core import actions as act
from controller.core.analysis import settings
from controller.core.analysis.checks import AlarmCheck, ErrorRate, LatencyRatio, MetricLimit
from controller.core.analysis.metrics import AlarmView, load_balancer_dimension
from controller.core.analysis.verdict import Measured, Outcome, judge
from controller.core.analysis.window import analysis_request
from controller.core.decision import CONTINUE, RequeueAfter
from controller.core.model import Baseline, Status, StepName, StepStatus
from controller.core.observation import Need
from controller.core.reconcile import metric_request, next_need, reconcile

S = StepName
NEW_LB, OLD_LB = LOAD_BALANCERS["shop-green"], LOAD_BALANCERS["shop-blue"]
BASELINE = Baseline(latency_s=0.120, requests=5000)
CHECKOUT = MetricLimit(
    "checkout-errors", "Shop", "CheckoutErrors", (("Env", "${EnvironmentName}"),), "Sum", 5.0
)


# --- the verdict ------------------------------------------------------------------------------------------


VERDICTS: list[tuple[str, Any, Measured, Outcome, str]] = [
    (
        "5xx above 1% -> failed, naming value, limit and requests",
        ErrorRate(),
        Measured(requests=1204, target_5xx=50, elb_5xx=8),
        Outcome.FAILED,
        "5xx-rate 4.8% > 1.0% over 1,204 requests",
    ),
    (
        "5xx within 1% -> passed",
        ErrorRate(),
        Measured(requests=1204, target_5xx=2),
        Outcome.PASSED,
        "5xx-rate 0.2% <= 1.0% over 1,204 requests",
    ),
    (
        "12 requests -> too little traffic, not a failure",
        ErrorRate(),
        Measured(requests=12, target_5xx=12),
        Outcome.NOT_JUDGED,
        "5xx-rate: 12 requests, fewer than 50 to judge",
    ),
    (
        "every request rejected by the load balancer (RequestCount 0) -> failed, not too little traffic",
        ErrorRate(),
        Measured(requests=0, elb_5xx=80),
        Outcome.FAILED,
        "5xx-rate 100.0% > 1.0% over 80 requests",
    ),
    (
        "p99 4x the previous version's -> failed",
        LatencyRatio(),
        Measured(requests=1204, latency_s=0.480, baseline=BASELINE),
        Outcome.FAILED,
        "p99-latency 0.480 s > 0.240 s (2x the previous version's 0.120 s, at least +0.1 s) over 1,204",
    ),
    (
        "p99 10x a 5 ms baseline, within the 100 ms floor -> passed",
        LatencyRatio(),
        Measured(requests=1204, latency_s=0.050, baseline=Baseline(0.005, 5000)),
        Outcome.PASSED,
        "p99-latency 0.050 s <= 0.105 s",
    ),
    (
        "the previous version had 3 requests in its last hour -> no baseline, not judged",
        LatencyRatio(),
        Measured(requests=1204, latency_s=0.480, baseline=Baseline(0.9, 3)),
        Outcome.NOT_JUDGED,
        "p99-latency: no baseline (the previous version served 3 requests in its last hour, fewer than 50)",
    ),
    (
        "no Application Load Balancer -> not judged",
        ErrorRate(),
        Measured(requests=None),
        Outcome.NOT_JUDGED,
        "5xx-rate: no Application Load Balancer to measure",
    ),
    (
        "a user's metric that is missing -> not judged, saying which",
        CHECKOUT,
        Measured(requests=1204, metrics={"checkout-errors": None}),
        Outcome.NOT_JUDGED,
        "checkout-errors: no data for Shop/CheckoutErrors Sum",
    ),
    (
        "a user's metric above its max -> failed",
        CHECKOUT,
        Measured(requests=1204, metrics={"checkout-errors": 7.0}),
        Outcome.FAILED,
        "checkout-errors 7 > 5 (Shop/CheckoutErrors Sum)",
    ),
    (
        "an alarm in ALARM -> failed",
        AlarmCheck("latency-alarm", "shop-p99-high"),
        Measured(requests=0, alarms={"shop-p99-high": AlarmView("shop-p99-high", "ALARM", at(30))}),
        Outcome.FAILED,
        "latency-alarm: alarm shop-p99-high is in ALARM since 2026-11-26 10:00:30Z",
    ),
    (
        "an alarm OK -> passed",
        AlarmCheck("latency-alarm", "shop-p99-high"),
        Measured(requests=0, alarms={"shop-p99-high": AlarmView("shop-p99-high", "OK")}),
        Outcome.PASSED,
        "alarm shop-p99-high is OK",
    ),
    (
        "an alarm that does not exist -> not judged, saying so",
        AlarmCheck("latency-alarm", "shop-p99-hgih"),
        Measured(requests=0),
        Outcome.NOT_JUDGED,
        "no alarm named 'shop-p99-hgih'",
    ),
]


@pytest.mark.parametrize(
    ("check", "measured", "outcome", "text"), [v[1:] for v in VERDICTS], ids=[v[0] for v in VERDICTS]
)
def test_verdict(check: Any, measured: Measured, outcome: Outcome, text: str) -> None:
    (result,) = judge((check,), measured)
    assert result.outcome is outcome
    assert text in result.text, result.text


def test_too_little_traffic_says_how_many_requests_are_missing() -> None:
    (result,) = judge((ErrorRate(min_requests=50),), Measured(requests=12))
    assert result.short_of == 38


@pytest.mark.parametrize(
    ("name", "dimension"),
    [
        (
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/awseb-AWSEB-1A2B3C/50dc6c495c0c9188",
            "app/awseb-AWSEB-1A2B3C/50dc6c495c0c9188",
        ),
        ("awseb-e-q-AWSEBLoa-1EEPZ0K98BIF0", ""),  # a Classic Load Balancer: no ALB metrics
        ("arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/my-nlb/50dc6c495c0c9188", ""),
    ],
)
def test_the_cloudwatch_dimension_is_the_alb_arns_last_part(name: str, dimension: str) -> None:
    assert load_balancer_dimension(name) == dimension


# --- verify ----------------------------------------------------------------------------------------------


def verifying(**changes: Any) -> Any:
    """Verifying since T0, the swap completed at T0 (a whole minute), both load balancers known."""
    return known_load_balancers(running_at(S.VERIFY, swap_requested_at=at(0), **changes))


def serving(d: Any, now: float, **points: dict[float, float]) -> Any:
    """Both HTTP checks pass; CloudWatch answers the analysis' request at `now` with `points`."""
    request = analysis_request(d, at(now), CONFIG)
    return observed(direct=health(), public=health(), metrics=answered(request, **points))


BASE = {"base": {-3600.0: 0.120}, "basereq": {-3600.0: 5000.0}}


def test_verify_waits_for_a_whole_metrics_period_after_the_swap_before_asking_cloudwatch() -> None:
    d = verifying()
    partial = observed(direct=health(), public=health())

    assert next_need(d, partial, at(20), CONFIG) is None
    decision = reconcile(d, partial, at(20), CONFIG)

    assert decision.next == RequeueAfter(40)
    assert "once a whole period has passed (10:01:00)" in (decision.deployment.step(S.VERIFY).detail or "")


def test_the_first_request_asks_the_window_and_the_previous_versions_last_hour_side_by_side() -> None:
    d = verifying()
    partial = observed(direct=health(), public=health())

    assert next_need(d, partial, at(61), CONFIG) is Need.METRICS
    request = metric_request(d, partial, at(61), CONFIG)

    assert request is not None
    assert (request.start, request.end) == (at(-3600), at(60))
    shown = {(q.id, q.metric_name, q.dimensions[0][1], q.stat, q.period_s) for q in request.queries}
    assert shown == {
        ("base", "TargetResponseTime", OLD_LB, "p99", 3600),
        ("basereq", "RequestCount", OLD_LB, "Sum", 3600),
        ("req", "RequestCount", NEW_LB, "Sum", 3600),
        ("target5xx", "HTTPCode_Target_5XX_Count", NEW_LB, "Sum", 3600),
        ("elb5xx", "HTTPCode_ELB_5XX_Count", NEW_LB, "Sum", 3600),
        ("latency", "TargetResponseTime", NEW_LB, "p99", 3600),
    }


def test_later_requests_ask_one_datapoint_over_the_window_since_the_swap() -> None:
    d = verifying(baseline=BASELINE)
    request = analysis_request(d, at(150), CONFIG)

    assert request is not None
    assert (request.start, request.end) == (at(0), at(120))
    assert {q.period_s for q in request.queries} == {120}
    assert {q.id for q in request.queries} == {"req", "target5xx", "elb5xx", "latency"}


VERIFY_CASES: list[tuple[str, Any, Any, float, dict[str, Any]]] = [
    (
        "5% of requests answered 500 -> swap back, the error names check, value and limit",
        verifying(),
        serving(verifying(), 120, req={0.0: 1204}, target5xx={0.0: 58}, latency={0.0: 0.1}, **BASE),
        121,
        {
            "status": Status.RUNNING,
            "step": (S.VERIFY, StepStatus.FAILED),
            "next": CONTINUE,
            "swap_back": "analysis failed: 5xx-rate 4.8% > 1.0% over 1,204 requests",
            "detail": "analysis of 120 s since the swap: 5xx-rate 4.8% > 1.0% over 1,204 requests; "
            "p99-latency 0.100 s <= 0.240 s",
        },
    ),
    (
        "enough traffic, every check passes -> verified, the measurements in the detail",
        verifying(),
        serving(verifying(), 60, req={0.0: 1204}, target5xx={0.0: 1}, latency={0.0: 0.13}, **BASE),
        61,
        {
            "step": (S.VERIFY, StepStatus.SUCCEEDED),
            "next": CONTINUE,
            "detail": "5xx-rate 0.1% <= 1.0% over 1,204 requests; p99-latency 0.130 s <= 0.240 s",
        },
    ),
    (
        "20 requests in the first minute -> measures again when 50 are expected",
        verifying(),
        serving(verifying(), 60, req={0.0: 20}, latency={0.0: 0.1}, **BASE),
        61,
        {"step": (S.VERIFY, StepStatus.RUNNING), "next": RequeueAfter(60), "detail": "measuring again"},
    ),
    (
        "20 requests in two minutes -> 50 need 3 more minutes: measures again then",
        verifying(baseline=BASELINE),
        serving(verifying(baseline=BASELINE), 120, req={0.0: 20}, latency={0.0: 0.1}),
        121,
        {"step": (S.VERIFY, StepStatus.RUNNING), "next": RequeueAfter(300 - 121)},
    ),
    (
        "no request in the first minute, 5000 in the previous version's last hour -> measures again",
        verifying(),
        serving(verifying(), 60, **BASE),
        61,
        {"step": (S.VERIFY, StepStatus.RUNNING), "next": RequeueAfter(60)},
    ),
    (
        "no request in the first minute, 30 in the previous version's last hour -> measures again (users may "
        "still be following the swap)",
        verifying(),
        serving(verifying(), 60, base={-3600.0: 0.1}, basereq={-3600.0: 30.0}),
        61,
        {"step": (S.VERIFY, StepStatus.RUNNING), "next": RequeueAfter(60)},
    ),
    (
        "no request in the first minute, none in the previous version's last hour -> too little traffic now",
        verifying(),
        serving(verifying(), 60),
        61,
        {"step": (S.VERIFY, StepStatus.SUCCEEDED), "detail": "too little traffic to judge"},
    ),
    (
        "no request in two minutes -> too little traffic to judge, written, not a failure",
        verifying(baseline=BASELINE),
        serving(verifying(baseline=BASELINE), 120),
        121,
        {
            "step": (S.VERIFY, StepStatus.SUCCEEDED),
            "detail": "5xx-rate: 0 requests, fewer than 50 to judge; p99-latency: 0 requests, fewer than 50 "
            "to judge; too little traffic to judge within VERIFY_WINDOW_S=300 s",
        },
    ),
    (
        "little traffic that cannot reach 50 before the window ends -> too little traffic, written",
        verifying(baseline=BASELINE),
        serving(verifying(baseline=BASELINE), 240, req={0.0: 10}),
        241,
        {"step": (S.VERIFY, StepStatus.SUCCEEDED), "detail": "too little traffic to judge"},
    ),
]


@pytest.mark.parametrize(
    ("deployment", "seen", "seconds", "expect"),
    [c[1:] for c in VERIFY_CASES],
    ids=[c[0] for c in VERIFY_CASES],
)
def test_verify_with_the_analysis(deployment: Any, seen: Any, seconds: float, expect: dict[str, Any]) -> None:
    decision = reconcile(deployment, seen, at(seconds), CONFIG)
    check_decision(decision, seconds, expect)
    if "detail" in expect:
        detail = decision.deployment.step(S.VERIFY).detail or ""
        assert expect["detail"] in detail, detail


def test_a_production_name_behind_when_the_window_ends_still_faces_the_analysis() -> None:
    """DNS alone holding the production name on the previous version is no failure, but what the users who
    did reach the new environment met is still judged: 5xx above the limit swaps back, the warning kept."""
    d = verifying(baseline=BASELINE, analysis_at=at(240))
    window = CONFIG.verify_window_s
    checked = {"direct": health(), "public": health(200, "1.0.40")}
    request = analysis_request(d, at(window), CONFIG)
    assert request is not None

    assert next_need(d, observed(**checked), at(window), CONFIG) is Need.ENVIRONMENTS
    assert next_need(d, observed(**checked, environments=after_swap()), at(window), CONFIG) is Need.METRICS
    assert next_need(d, observed(**checked, environments=before_swap()), at(window), CONFIG) is None
    metrics = answered(request, req={0.0: 2000}, target5xx={0.0: 90}, latency={0.0: 0.1})
    seen = observed(**checked, environments=after_swap(), metrics=metrics)
    decision = reconcile(d, seen, at(window), CONFIG)

    assert decision.deployment.swap_back is not None
    assert "analysis failed: 5xx-rate 4.5% > 1.0% over 2,000 requests" in decision.deployment.swap_back.reason
    assert len(decision.deployment.warnings) == 1 and "DNS" in decision.deployment.warnings[0]


def test_the_first_answer_keeps_the_previous_versions_latency_in_the_record() -> None:
    d = verifying()
    decision = reconcile(d, serving(d, 60, req={0.0: 20}, **BASE), at(61), CONFIG)

    assert decision.deployment.baseline == BASELINE
    assert decision.deployment.analysis_at == at(61)


def test_a_missing_user_metric_is_written_and_does_not_hold_verify() -> None:
    config = dataclasses.replace(CONFIG, analysis_checks=(ErrorRate(), CHECKOUT))
    d = verifying()
    request = analysis_request(d, at(60), config)
    assert request is not None
    assert ("metric0", "CheckoutErrors", (("Env", "shop-green"),)) in {
        (q.id, q.metric_name, q.dimensions) for q in request.queries
    }
    seen = observed(direct=health(), public=health(), metrics=answered(request, req={0.0: 900}))

    decision = reconcile(d, seen, at(61), config)

    assert decision.deployment.step(S.VERIFY).status is StepStatus.SUCCEEDED
    assert "checkout-errors: no data for Shop/CheckoutErrors Sum" in (
        decision.deployment.step(S.VERIFY).detail or ""
    )


def test_an_alarm_that_fires_after_the_swap_swaps_back() -> None:
    config = dataclasses.replace(CONFIG, analysis_checks=(AlarmCheck("latency-alarm", "shop-p99-high"),))
    d = verifying()
    partial = observed(direct=health(), public=health())
    assert next_need(d, partial, at(1), config) is Need.ALARMS, "alarms alone need no metrics period"
    firing = (AlarmView("shop-p99-high", "ALARM", at(50)),)

    decision = reconcile(d, dataclasses.replace(partial, alarms=firing), at(61), config)

    assert decision.deployment.swap_back is not None
    assert "latency-alarm: alarm shop-p99-high is in ALARM" in decision.deployment.swap_back.reason


# --- the swap: an alarm already in ALARM -----------------------------------------------------------------


def test_an_alarm_already_in_alarm_fails_the_deployment_before_the_swap() -> None:
    config = dataclasses.replace(CONFIG, analysis_checks=(AlarmCheck("latency-alarm", "shop-p99-high"),))
    d = running_at(S.SWAP)
    partial = observed(environments=before_swap())
    assert next_need(d, partial, at(1), config) is Need.ALARMS
    firing = (AlarmView("shop-p99-high", "ALARM", at(-600)),)

    decision = reconcile(d, dataclasses.replace(partial, alarms=firing), at(1), config)

    check_decision(
        decision,
        1,
        {
            "status": Status.FAILED,
            "step": (S.SWAP, StepStatus.FAILED),
            "actions": [act.ReleaseLease],
            "error": "alarm shop-p99-high in ALARM before the swap (ANALYSIS_CHECKS): production untouched",
        },
    )


def test_with_the_alarm_ok_the_swap_is_requested() -> None:
    config = dataclasses.replace(CONFIG, analysis_checks=(AlarmCheck("latency-alarm", "shop-p99-high"),))
    seen = observed(environments=before_swap(), alarms=(AlarmView("shop-p99-high", "OK"),))

    decision = reconcile(running_at(S.SWAP), seen, at(1), config)

    assert [type(a) for a in decision.actions] == [act.SwapCNAMEs]


# --- the bake --------------------------------------------------------------------------------------------


BAKE = dataclasses.replace(CONFIG, bake_s=600)


def baking(**changes: Any) -> Any:
    d = known_load_balancers(running_at(S.BAKE, swap_requested_at=at(0), baseline=BASELINE, **changes))
    return d.with_step(S.VERIFY, status=StepStatus.SUCCEEDED, finished_at=at(60))


def test_the_bake_measures_once_per_metrics_period_and_swaps_back_on_a_failed_check() -> None:
    d = baking(analysis_at=at(60))
    watch = observed(environments=after_swap(), direct=health())
    assert next_need(d, watch, at(90), BAKE) is None, "measured 30 s ago: health only"
    assert next_need(d, watch, at(121), BAKE) is Need.METRICS
    request = analysis_request(d, at(121), BAKE)
    seen = dataclasses.replace(watch, metrics=answered(request, req={0.0: 3000}, elb5xx={0.0: 90}))

    decision = reconcile(d, seen, at(121), BAKE)

    assert decision.deployment.step(S.BAKE).status is StepStatus.FAILED
    assert decision.deployment.swap_back is not None
    assert decision.deployment.swap_back.reason == (
        "analysis failed during the bake: 5xx-rate 3.0% > 1.0% over 3,000 requests"
    )


def test_a_healthy_bake_ends_with_a_last_analysis_in_its_detail() -> None:
    d = baking(analysis_at=at(590))
    request = analysis_request(d, at(601), BAKE)
    seen = observed(
        environments=after_swap(),
        direct=health(),
        metrics=answered(request, req={0.0: 12000}, latency={0.0: 0.1}),
    )

    decision = reconcile(d, seen, at(601), BAKE)

    assert decision.deployment.step(S.BAKE).status is StepStatus.SUCCEEDED
    assert "analysis of 600 s since the swap: 5xx-rate 0.0% <= 1.0% over 12,000 requests" in (
        decision.deployment.step(S.BAKE).detail or ""
    )
    assert TAG in (decision.deployment.step(S.BAKE).detail or "")


# --- ANALYSIS_CHECKS ---------------------------------------------------------------------------------------


def test_analysis_checks_change_turn_off_and_add_checks() -> None:
    raw = """[
        {"name": "5xx-rate", "max_percent": 2.5, "min_requests": 200},
        {"name": "p99-latency", "enabled": false},
        {"name": "checkout-errors", "metric": {"namespace": "Shop", "name": "CheckoutErrors",
         "dimensions": {"Env": "${EnvironmentName}"}, "stat": "Sum"}, "max": 5},
        {"name": "latency-alarm", "alarm": "shop-p99-high"}
    ]"""

    assert settings.parse(raw) == (
        ErrorRate(max_percent=2.5, min_requests=200),
        CHECKOUT,
        AlarmCheck("latency-alarm", "shop-p99-high"),
    )


def test_no_analysis_checks_means_the_two_defaults() -> None:
    assert settings.parse(None) == settings.parse("") == (ErrorRate(), LatencyRatio())
