"""wait_ready, pure: the update's answer, failure events matched to it, and the health grace."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from controller_builders import (
    BLUE_CNAME,
    CONFIG,
    PROD_CNAME,
    TAG,
    at,
    before_swap,
    changed_at,
    env,
    error_event,
    observed,
    running_at,
)
from test_controller_reconcile import check_decision

from controller.core import actions as act
from controller.core.decision import CONTINUE, RequeueAfter
from controller.core.failure_events import matching_failures
from controller.core.model import Status, StepName, StepStatus
from controller.core.observation import ActionOutcome, ActionResult
from controller.core.reconcile import reconcile

S = StepName
GRACE = CONFIG.health_grace_s
POLL = RequeueAfter(CONFIG.poll_interval_s)
SAFETY = RequeueAfter(CONFIG.safety_poll_s)  # the wait is Beanstalk's: its event wakes the deployment
UPDATE = act.UpdateEnvironment("shop-green", TAG)


def waiting(**changes: Any) -> Any:
    return running_at(S.WAIT_READY, **changes)


def untouched_green(label: str = "1.0.40") -> Any:
    return (
        env("shop-blue", PROD_CNAME),
        dataclasses.replace(env("shop-green", BLUE_CNAME, label=label), date_updated=at(-3600)),
    )


def answered(outcome: ActionOutcome, message: str = "", request_id: str | None = None) -> Any:
    return observed(action_result=ActionResult(UPDATE, outcome, message, request_id))


CASES: list[tuple[str, Any, Any, float, dict[str, Any]]] = [
    (
        "Updating -> waits for its event, with a safety poll",
        waiting(),
        observed(environments=before_swap("Updating", "Grey")),
        20,
        {"status": Status.RUNNING, "step": (S.WAIT_READY, StepStatus.RUNNING), "actions": [], "next": SAFETY},
    ),
    (
        "Updating near DEPLOY_TIMEOUT_S -> the safety poll comes just after it",
        waiting(),
        observed(environments=before_swap("Updating", "Grey")),
        CONFIG.deploy_timeout_s - 100,
        {"status": Status.RUNNING, "next": RequeueAfter(101)},
    ),
    (
        "Ready/Green on the new label -> smoke test",
        waiting(),
        observed(environments=before_swap(), events=()),
        300,
        {"step": (S.SMOKE_TEST, StepStatus.RUNNING), "actions": [], "next": CONTINUE},
    ),
    (
        "still Updating after DEPLOY_TIMEOUT_S -> failed, update aborted",
        waiting(),
        observed(environments=before_swap("Updating", "Grey"), events=()),
        CONFIG.deploy_timeout_s + 1,
        {"status": Status.FAILED, "error": "update aborted", "actions": [act.AbortUpdate, act.ReleaseLease]},
    ),
    (
        "pre-production disappeared -> failed",
        waiting(),
        observed(environments=(env("shop-blue", PROD_CNAME),)),
        60,
        {"status": Status.FAILED, "error": "gone"},
    ),
    # --- a silent rollback, or a request that never reached Beanstalk ---
    (
        "Ready/Green on the old label, changed since the request (silent rollback) -> failed",
        waiting(),
        observed(environments=before_swap(green_label="1.0.40"), events=()),
        300,
        {"status": Status.FAILED, "error": "rolled the update back", "actions": [act.ReleaseLease]},
    ),
    (
        "Ready on the old label, untouched since the request -> requested again",
        waiting(),
        observed(environments=untouched_green(), events=()),
        300,
        {
            "status": Status.RUNNING,
            "step": (S.WAIT_READY, StepStatus.RUNNING),
            "actions": [act.UpdateEnvironment],
        },
    ),
    (
        "untouched after MAX_UPDATE_REQUESTS requests -> failed",
        waiting(update_requests=3),
        observed(environments=untouched_green(), events=()),
        300,
        {
            "status": Status.FAILED,
            "error": "UpdateEnvironment was sent 3 times",
            "actions": [act.ReleaseLease],
        },
    ),
    # --- failure events ---
    (
        "Red on the old label with a failure event -> failed with the event's message",
        waiting(),
        observed(
            environments=before_swap(green_health="Red", green_label="1.0.40"), events=(error_event(200),)
        ),
        300,
        {
            "status": Status.FAILED,
            "error": "Failed to deploy application.",
            "events": ["Failed to deploy application."],
        },
    ),
    (
        "failure event while Updating -> failed, update aborted",
        waiting(),
        observed(environments=before_swap("Updating", "Red"), events=(error_event(100, "ECS task stopped"),)),
        120,
        {
            "status": Status.FAILED,
            "error": "ECS task stopped",
            "actions": [act.AbortUpdate, act.ReleaseLease],
        },
    ),
    (
        "failure events of another environment, another version or before the request are ignored",
        waiting(),
        observed(
            environments=before_swap(),
            events=(error_event(-60), error_event(10, env_name="shop-blue"), error_event(10, label="1.0.40")),
        ),
        300,
        {"status": Status.RUNNING, "step": (S.SMOKE_TEST, StepStatus.RUNNING)},
    ),
    # --- health grace on the new label ---
    (
        "Ready/Red on the new label, first seen -> waits out the grace",
        waiting(),
        observed(environments=before_swap(green_health="Red"), events=()),
        60,
        {
            "status": Status.RUNNING,
            "step": (S.WAIT_READY, StepStatus.RUNNING),
            "actions": [],
            "next": RequeueAfter(GRACE),
        },
    ),
    (
        "Ready/Red on the new label within the grace -> waits",
        waiting(preprod_ready_at=at(60)),
        observed(environments=before_swap(green_health="Red"), events=()),
        60 + GRACE - 1,
        {"status": Status.RUNNING, "actions": [], "next": RequeueAfter(1)},
    ),
    (
        "Red persisting on the new label past the grace -> failed, production untouched",
        waiting(preprod_ready_at=at(60)),
        observed(environments=before_swap(green_health="Red"), events=()),
        60 + GRACE,
        {
            "status": Status.FAILED,
            "step": (S.WAIT_READY, StepStatus.FAILED),
            "error": f"health stayed Red for {GRACE} s",
            "actions": [act.ReleaseLease],
        },
    ),
    (
        "Yellow not accepted, past the grace -> failed",
        waiting(preprod_ready_at=at(0)),
        observed(environments=before_swap(green_health="Yellow"), events=()),
        GRACE + 1,
        {"status": Status.FAILED, "error": "health stayed Yellow", "actions": [act.ReleaseLease]},
    ),
    (
        "Grey on the new label within the grace -> waits",
        waiting(preprod_ready_at=at(0)),
        observed(environments=before_swap(green_health="Grey"), events=()),
        30,
        {"status": Status.RUNNING, "actions": []},
    ),
    # --- what UpdateEnvironment answered ---
    (
        "accepted -> its RequestId is kept",
        waiting(),
        answered(ActionOutcome.DONE, request_id="req-1"),
        0,
        {"status": Status.RUNNING, "next": SAFETY, "request_id": "req-1"},
    ),
    (
        "answer lost (5xx) -> the next tick looks; still requested",
        waiting(),
        answered(ActionOutcome.UNKNOWN, "ServiceUnavailable: x"),
        0,
        {"status": Status.RUNNING, "next": POLL, "requested": True, "request_id": None},
    ),
    (
        "'Must be Ready' -> not requested any more; asked again once Ready",
        waiting(),
        answered(ActionOutcome.NOT_DONE, "InvalidParameterValue: ... Must be Ready."),
        0,
        {"status": Status.RUNNING, "next": POLL, "requested": False},
    ),
    (
        "refused for good -> failed with the AWS error",
        waiting(),
        answered(ActionOutcome.REFUSED, "InvalidParameterValue: No Application Version named 'x' found."),
        0,
        {"status": Status.FAILED, "error": "No Application Version named", "actions": [act.ReleaseLease]},
    ),
    (
        "refused for now earlier, pre-production busy with another update -> waits",
        waiting(deploy_requested_at=None, update_requests=0),
        observed(environments=before_swap("Updating", "Grey", "1.0.39")),
        30,
        {"status": Status.RUNNING, "actions": [], "requested": False},
    ),
    (
        "refused for now earlier, pre-production Ready again -> requested again",
        waiting(deploy_requested_at=None, update_requests=0),
        observed(environments=before_swap(green_label="1.0.39")),
        90,
        {"status": Status.RUNNING, "actions": [act.UpdateEnvironment], "requested": True},
    ),
    (
        "refused for now earlier, pre-production swapped into production meanwhile -> failed, never updated",
        waiting(deploy_requested_at=None, update_requests=0),
        observed(environments=(env("shop-blue", BLUE_CNAME), env("shop-green", PROD_CNAME, label="1.0.39"))),
        90,
        {"status": Status.FAILED, "error": "shop-green owns the production CNAME now", "requested": False},
    ),
    (
        "refused for now earlier, Ready again but swapped 10 s ago -> waits out DNS_TTL_S, not requested",
        waiting(deploy_requested_at=None, update_requests=0),
        observed(environments=changed_at(80, before_swap(green_label="1.0.39"))),
        90,
        {"actions": [], "requested": False, "next": RequeueAfter(CONFIG.dns_ttl_s - 10)},
    ),
    (
        "refused for now earlier, never Ready -> failed",
        waiting(deploy_requested_at=None, update_requests=0),
        observed(environments=before_swap("Updating", "Grey", "1.0.39")),
        CONFIG.deploy_timeout_s + 1,
        {"status": Status.FAILED, "error": "could not be sent"},
    ),
]


@pytest.mark.parametrize(
    ("deployment", "seen", "seconds", "expect"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_wait_ready(deployment: Any, seen: Any, seconds: float, expect: dict[str, Any]) -> None:
    decision = reconcile(deployment, seen, at(seconds), CONFIG)
    check_decision(
        decision, seconds, {k: v for k, v in expect.items() if k not in ("request_id", "requested")}
    )
    d = decision.deployment
    if "request_id" in expect:
        assert d.update_request_id == expect["request_id"]
    if "requested" in expect:
        assert (d.deploy_requested_at is not None) is expect["requested"]
    if any(isinstance(a, act.UpdateEnvironment) for a in decision.actions):
        assert d.deploy_requested_at == at(seconds) and d.update_requests == deployment.update_requests + 1


def test_a_transient_red_on_the_new_label_recovers_and_the_deployment_goes_on() -> None:
    d = waiting()
    for seconds, colour in [(20, "Red"), (35, "Red"), (50, "Yellow"), (65, "Red")]:
        decision = reconcile(
            d, observed(environments=before_swap(green_health=colour), events=()), at(seconds), CONFIG
        )
        d = decision.deployment
        assert d.status is Status.RUNNING and not decision.actions, (seconds, d.error)
    assert d.preprod_ready_at == at(20), "the grace counts from the first time it was seen Ready"
    decision = reconcile(d, observed(environments=before_swap(), events=()), at(80), CONFIG)
    assert decision.deployment.step(S.SMOKE_TEST).status is StepStatus.RUNNING


def test_accepted_health_can_include_yellow() -> None:
    config = dataclasses.replace(CONFIG, accepted_health=frozenset({"Green", "Yellow"}))
    decision = reconcile(
        waiting(), observed(environments=before_swap(green_health="Yellow"), events=()), at(60), config
    )
    assert decision.deployment.step(S.SMOKE_TEST).status is StepStatus.RUNNING
    red = reconcile(
        waiting(preprod_ready_at=at(0)),
        observed(environments=before_swap(green_health="Red"), events=()),
        at(GRACE),
        config,
    )
    assert red.deployment.status is Status.FAILED


# --- which events are this update's --------------------------------------------------------------------


def test_with_the_updates_request_id_an_event_matches_exactly_on_it() -> None:
    d = waiting(update_request_id="req-ours")
    ours = error_event(
        -600, "Ours, whatever else it says", env_name=None, label="9.9.9", request_id="req-ours"
    )
    theirs = error_event(10, "Another request's", request_id="req-other")
    assert matching_failures((ours, theirs), d) == ("Ours, whatever else it says",)


@pytest.mark.parametrize("request_id", [None, "req-ours"])
def test_without_ids_an_event_matches_on_environment_version_and_time(request_id: str | None) -> None:
    """The update's answer was lost (no id known), or the events carry none: label + environment + time."""
    d = waiting(update_request_id=request_id)
    events = (
        error_event(10, "ours"),
        error_event(11, "no label, ours too", label=None),
        error_event(12, "another version", label="1.0.40"),
        error_event(13, "another environment", env_name="shop-blue"),
        error_event(-60, "before the request"),
    )
    assert matching_failures(events, d) == ("ours", "no label, ours too")


def test_no_request_no_failures() -> None:
    assert matching_failures((error_event(10),), waiting(deploy_requested_at=None)) == ()
