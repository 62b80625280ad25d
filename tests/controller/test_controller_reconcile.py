"""The pure reconcile step, table-driven: every status and step against the observations it can meet.

The steps with their own tables: the drain (test_controller_drain.py), wait_ready
(test_controller_wait_ready.py), the smoke test, verify and the swap back (test_controller_checks.py), the
analysis (test_controller_analysis.py), rollback (test_controller_rollback.py).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from controller_builders import (
    BLUE_CNAME,
    CONFIG,
    IMAGE,
    PROD_CNAME,
    TAG,
    after_swap,
    at,
    before_swap,
    changed_at,
    env,
    health,
    lease,
    observed,
    queued,
    running_at,
)

from controller.core import actions as act
from controller.core.decision import CONTINUE, DONE, RequeueAfter
from controller.core.model import Status, StepName, StepStatus
from controller.core.observation import ActionOutcome, ActionResult, Need, VersionView
from controller.core.reconcile import next_need, reconcile

S = StepName
POLL = RequeueAfter(CONFIG.poll_interval_s)
SWAP = act.SwapCNAMEs("shop-green", "shop-blue")


def result(action: Any, outcome: ActionOutcome, message: str = "", request_id: str | None = None) -> Any:
    return observed(action_result=ActionResult(action, outcome, message, request_id))


# name, deployment, observation, seconds after T0, expected {status, step: (name, status), actions, next,
# error (substring), events, swap_requested}
CASES: list[tuple[str, Any, Any, float, dict[str, Any]]] = [
    # --- queued ---
    (
        "queued, lease free -> runs",
        queued(),
        observed(lease=lease(newest=queued().id)),
        1,
        {
            "status": Status.RUNNING,
            "step": (S.CREATE_VERSION, StepStatus.RUNNING),
            "actions": [act.AcquireLease],
            "next": CONTINUE,
        },
    ),
    (
        "queued, no lease item yet -> runs",
        queued(),
        observed(lease=lease()),
        1,
        {"status": Status.RUNNING, "actions": [act.AcquireLease]},
    ),
    (
        "queued, another runs -> waits",
        queued(),
        observed(lease=lease("d-other", at(600), queued().id)),
        1,
        {"status": Status.QUEUED, "actions": [], "next": POLL},
    ),
    (
        "queued, other's lease expired -> runs",
        queued(),
        observed(lease=lease("d-other", at(0), queued().id)),
        1,
        {"status": Status.RUNNING, "actions": [act.AcquireLease]},
    ),
    (
        "queued, a newer one arrived -> superseded",
        queued(),
        observed(lease=lease("d-other", at(600), "d-newer")),
        1,
        {"status": Status.SUPERSEDED, "actions": [], "next": DONE, "error": "d-newer"},
    ),
    # --- create_version ---
    (
        "version absent -> create it",
        running_at(S.CREATE_VERSION),
        observed(version=VersionView(False)),
        1,
        {
            "status": Status.RUNNING,
            "step": (S.CREATE_VERSION, StepStatus.RUNNING),
            "actions": [act.CreateVersion],
            "next": CONTINUE,
        },
    ),
    (
        "version exists for this image -> reuse",
        running_at(S.CREATE_VERSION),
        observed(version=VersionView(True, f"{IMAGE}:{TAG}")),
        1,
        {"step": (S.DRAIN, StepStatus.RUNNING), "actions": [], "next": CONTINUE},
    ),
    (
        "version exists for another image -> failed",
        running_at(S.CREATE_VERSION),
        observed(version=VersionView(True, f"docker.io/evil/app:{TAG}")),
        1,
        {
            "status": Status.FAILED,
            "step": (S.CREATE_VERSION, StepStatus.FAILED),
            "actions": [act.ReleaseLease],
            "error": "another image",
        },
    ),
    (
        "version created -> deploy",
        running_at(S.CREATE_VERSION),
        result(act.CreateVersion(TAG, IMAGE, TAG), ActionOutcome.DONE),
        1,
        {"step": (S.DRAIN, StepStatus.RUNNING), "next": CONTINUE},
    ),
    (
        "CreateApplicationVersion's answer lost -> look again",
        running_at(S.CREATE_VERSION),
        result(act.CreateVersion(TAG, IMAGE, TAG), ActionOutcome.UNKNOWN, "ServiceUnavailable: x"),
        1,
        {"status": Status.RUNNING, "step": (S.CREATE_VERSION, StepStatus.RUNNING), "next": POLL},
    ),
    (
        "version made meanwhile by another attempt -> look again",
        running_at(S.CREATE_VERSION),
        result(
            act.CreateVersion(TAG, IMAGE, TAG),
            ActionOutcome.REFUSED,
            f"InvalidParameterValue: Application Version {TAG} already exists.",
        ),
        1,
        {"status": Status.RUNNING, "step": (S.CREATE_VERSION, StepStatus.RUNNING), "next": POLL},
    ),
    (
        "version quota reached -> failed with the AWS error",
        running_at(S.CREATE_VERSION),
        result(
            act.CreateVersion(TAG, IMAGE, TAG),
            ActionOutcome.REFUSED,
            "TooManyApplicationVersionsException: You cannot have more than 1000 Application Versions.",
        ),
        1,
        {"status": Status.FAILED, "error": "TooManyApplicationVersions", "actions": [act.ReleaseLease]},
    ),
    # --- deploy_preprod ---
    (
        "pre-production Ready -> update it",
        running_at(S.DEPLOY_PREPROD),
        observed(environments=before_swap(green_label="1.0.40"), history=()),
        1,
        {
            "step": (S.WAIT_READY, StepStatus.RUNNING),
            "actions": [act.UpdateEnvironment],
            "next": POLL,
        },
    ),
    (
        "pre-production changed a moment ago (the drain judged its traffic) -> update it at once",
        running_at(S.DEPLOY_PREPROD),
        observed(environments=changed_at(-10, before_swap(green_label="1.0.40")), history=()),
        0,
        {"step": (S.WAIT_READY, StepStatus.RUNNING), "actions": [act.UpdateEnvironment]},
    ),
    (
        "pre-production not Ready at first -> waits",
        running_at(S.DEPLOY_PREPROD),
        observed(environments=before_swap("Updating", "Grey", "1.0.40")),
        30,
        {"status": Status.RUNNING, "step": (S.DEPLOY_PREPROD, StepStatus.RUNNING), "actions": []},
    ),
    (
        "pre-production never Ready -> failed",
        running_at(S.DEPLOY_PREPROD),
        observed(environments=before_swap("Updating", "Grey", "1.0.40")),
        CONFIG.deploy_timeout_s + 1,
        {"status": Status.FAILED, "error": "did not become Ready", "actions": [act.ReleaseLease]},
    ),
    (
        "no environment has the production CNAME -> failed, naming what was found",
        running_at(S.DEPLOY_PREPROD),
        observed(
            environments=(env("a", "a.us-east-1.elasticbeanstalk.com"), env("b", "b.elasticbeanstalk.com"))
        ),
        1,
        {
            "status": Status.FAILED,
            "error": "a (a.us-east-1.elasticbeanstalk.com), b (b.elasticbeanstalk.com)",
        },
    ),
    (
        "an auto-generated name that starts with the prefix is not production",
        running_at(S.DEPLOY_PREPROD),
        observed(
            environments=(
                env("shop-blue", "shop.eba-abcdefgh.us-east-1.elasticbeanstalk.com"),
                env("shop-green", BLUE_CNAME),
            )
        ),
        1,
        {"status": Status.FAILED, "error": "owns the production CNAME shop.us-east-1.elasticbeanstalk.com"},
    ),
    (
        "the legacy production name (no region) is production",
        running_at(S.DEPLOY_PREPROD),
        observed(
            environments=(env("shop-blue", "shop.elasticbeanstalk.com"), env("shop-green", BLUE_CNAME)),
            history=(),
        ),
        1,
        {"actions": [act.UpdateEnvironment]},
    ),
    (
        "three live web environments -> failed, naming the candidates",
        running_at(S.DEPLOY_PREPROD),
        observed(environments=(*before_swap(), env("shop-red", "r.us-east-1.elasticbeanstalk.com"))),
        1,
        {
            "status": Status.FAILED,
            "error": "more than one candidate for pre-production besides shop-blue: shop-green, shop-red",
            "actions": [act.ReleaseLease],
        },
    ),
    (
        "a worker environment (no CNAME) is never pre-production",
        running_at(S.DEPLOY_PREPROD),
        observed(
            environments=(*before_swap(green_label="x"), env("shop-jobs", "", tier="Worker")), history=()
        ),
        1,
        {"actions": [act.UpdateEnvironment]},
    ),
    (
        "a terminated third environment does not count",
        running_at(S.DEPLOY_PREPROD),
        observed(
            environments=(*before_swap(green_label="x"), env("old", "o.elasticbeanstalk.com", "Terminated")),
            history=(),
        ),
        1,
        {"actions": [act.UpdateEnvironment]},
    ),
    (
        "production alone -> failed, no pre-production",
        running_at(S.DEPLOY_PREPROD),
        observed(environments=(env("shop-blue", PROD_CNAME),)),
        1,
        {"status": Status.FAILED, "error": "no pre-production environment"},
    ),
    # --- promote (automatic) ---
    (
        "automatic promotion -> promote skipped, swap",
        running_at(S.PROMOTE),
        observed(),
        1,
        {"step": (S.PROMOTE, StepStatus.SKIPPED), "next": CONTINUE},
    ),
    # --- swap ---
    (
        "both Ready -> swap requested and recorded",
        running_at(S.SWAP),
        observed(environments=before_swap()),
        1,
        {
            "step": (S.SWAP, StepStatus.RUNNING),
            "actions": [act.SwapCNAMEs],
            "swap_requested": True,
            "next": POLL,
        },
    ),
    (
        "swap pending for minutes -> still waits, never swaps again",
        running_at(S.SWAP, swap_requested_at=at(0)),
        observed(environments=before_swap()),
        600,
        {"status": Status.RUNNING, "actions": []},
    ),
    (
        "swap in progress -> waits, never swaps again",
        running_at(S.SWAP, swap_requested_at=at(0)),
        observed(environments=before_swap()),
        10,
        {"status": Status.RUNNING, "step": (S.SWAP, StepStatus.RUNNING), "actions": []},
    ),
    (
        "swap done, both Ready -> verify",
        running_at(S.SWAP, swap_requested_at=at(0)),
        observed(environments=after_swap()),
        20,
        {"step": (S.VERIFY, StepStatus.RUNNING), "actions": [], "next": CONTINUE},
    ),
    (
        "CNAME moved but the previous environment is not Ready -> waits",
        running_at(S.SWAP, swap_requested_at=at(0)),
        observed(environments=after_swap(blue_status="Updating")),
        20,
        {"status": Status.RUNNING, "step": (S.SWAP, StepStatus.RUNNING), "actions": []},
    ),
    (
        "CNAME moved but the new environment is not Ready -> waits",
        running_at(S.SWAP, swap_requested_at=at(0)),
        observed(environments=after_swap(green_status="Updating")),
        20,
        {"status": Status.RUNNING, "step": (S.SWAP, StepStatus.RUNNING), "actions": []},
    ),
    (
        "CNAME moved, never both Ready -> swap back",
        running_at(S.SWAP, swap_requested_at=at(0)),
        observed(environments=after_swap(blue_status="Updating")),
        CONFIG.deploy_timeout_s + 1,
        {"status": Status.RUNNING, "step": (S.SWAP, StepStatus.FAILED), "swap_back": "not both Ready"},
    ),
    (
        "duplicate tick after the swap settled on the old owner -> failed, no second swap",
        running_at(S.SWAP, swap_requested_at=at(0)),
        observed(environments=before_swap()),
        CONFIG.deploy_timeout_s + 1,
        {"status": Status.FAILED, "error": "did not take effect", "actions": [act.ReleaseLease]},
    ),
    (
        "pre-production not Ready for the swap -> waits",
        running_at(S.SWAP),
        observed(environments=before_swap("Updating", "Grey")),
        5,
        {"status": Status.RUNNING, "actions": []},
    ),
    (
        "production CNAME moved elsewhere before the swap -> failed, untouched",
        running_at(S.SWAP),
        observed(
            environments=(
                env("shop-blue", "x.elasticbeanstalk.com"),
                env("shop-green", "g.x.com"),
                env("intruder", PROD_CNAME),
            )
        ),
        5,
        {"status": Status.FAILED, "error": "production CNAME is on intruder"},
    ),
    (
        "swap accepted -> watch",
        running_at(S.SWAP, swap_requested_at=at(0)),
        result(SWAP, ActionOutcome.DONE),
        0,
        {"status": Status.RUNNING, "actions": [], "next": POLL, "swap_requested": True},
    ),
    (
        "swap's answer lost (5xx) -> watch, still requested",
        running_at(S.SWAP, swap_requested_at=at(0)),
        result(SWAP, ActionOutcome.UNKNOWN, "ServiceUnavailable: x"),
        0,
        {"status": Status.RUNNING, "actions": [], "next": POLL, "swap_requested": True},
    ),
    (
        "swap refused 'Must be Ready' -> not requested any more, asked again later",
        running_at(S.SWAP, swap_requested_at=at(0)),
        result(SWAP, ActionOutcome.NOT_DONE, "InvalidParameterValue: ... Must be Ready."),
        0,
        {"status": Status.RUNNING, "actions": [], "next": POLL, "swap_requested": False},
    ),
    (
        "swap refused for good -> failed before production changed",
        running_at(S.SWAP, swap_requested_at=at(0)),
        result(SWAP, ActionOutcome.REFUSED, "AccessDenied: no"),
        0,
        {"status": Status.FAILED, "error": "AccessDenied", "actions": [act.ReleaseLease]},
    ),
    # --- bake (none) ---
    (
        "verified, no bake -> bake skipped",
        running_at(S.BAKE, swap_requested_at=at(0)),
        observed(),
        40,
        {"step": (S.BAKE, StepStatus.SKIPPED), "next": CONTINUE},
    ),
    (
        "every step passed -> succeeded, lease released",
        dataclasses.replace(
            running_at(S.BAKE, swap_requested_at=at(0)).with_step(S.BAKE, status=StepStatus.SKIPPED)
        ),
        observed(),
        40,
        {"status": Status.SUCCEEDED, "actions": [act.ReleaseLease], "next": DONE},
    ),
]


@pytest.mark.parametrize(
    ("deployment", "seen", "seconds", "expect"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_reconcile_step(deployment: Any, seen: Any, seconds: float, expect: dict[str, Any]) -> None:
    check_decision(reconcile(deployment, seen, at(seconds), CONFIG), seconds, expect)


def check_decision(decision: Any, seconds: float, expect: dict[str, Any]) -> None:
    """Assert what `expect` names about a decision (shared by the step tables)."""
    d = decision.deployment
    if "status" in expect:
        assert d.status is expect["status"]
    if "step" in expect:
        name, status = expect["step"]
        assert d.step(name).status is status
    if "actions" in expect:
        assert [type(a) for a in decision.actions] == expect["actions"]
    if "next" in expect:
        assert decision.next == expect["next"]
    if "error" in expect:
        assert d.error is not None and expect["error"] in d.error, d.error
    if "events" in expect:
        assert list(d.failure_events) == expect["events"]
    if "swap_requested" in expect:
        assert (d.swap_requested_at is not None) is expect["swap_requested"]
        if expect["swap_requested"] and decision.actions:
            assert d.swap_requested_at == at(seconds)
    if "swap_back" in expect:
        assert d.swap_back is not None and expect["swap_back"] in d.swap_back.reason
    if d.status is Status.FAILED:
        assert any(s.status is StepStatus.FAILED for s in d.steps)
        assert not any(isinstance(a, act.SwapCNAMEs) for a in decision.actions), (
            "a failure never touches production"
        )


@pytest.mark.parametrize("status", [Status.SUCCEEDED, Status.FAILED, Status.SUPERSEDED, Status.ROLLED_BACK])
def test_a_finished_deployment_decides_nothing(status: Status) -> None:
    d = running_at(S.SWAP, status=status, swap_requested_at=at(0))
    decision = reconcile(d, observed(environments=before_swap()), at(5), CONFIG)
    assert decision.deployment == d and decision.actions == () and decision.next == DONE
    assert next_need(d, observed(), at(5), CONFIG) is None


ALL_ENV_VIEWS = [
    before_swap(),
    after_swap(),
    after_swap(blue_status="Updating"),
    before_swap("Updating", "Grey"),
    before_swap(green_label="1.0.40"),
    (env("shop-blue", PROD_CNAME, "Updating"), env("shop-green", "g.elasticbeanstalk.com", label=TAG)),
]
ALL_CHECKS = [health(), health(200, "1.0.41"), health(502, None), health(None, None, "unreachable")]


@pytest.mark.parametrize("step", [S.SWAP, S.VERIFY])
@pytest.mark.parametrize("views", ALL_ENV_VIEWS)
@pytest.mark.parametrize("check", ALL_CHECKS)
@pytest.mark.parametrize("seconds", [1, 30, 200, 5000])
def test_once_the_swap_is_requested_no_tick_ever_swaps_forward_again(
    step: StepName, views: Any, check: Any, seconds: float
) -> None:
    d = running_at(step, swap_requested_at=at(0))
    seen = observed(environments=views, direct=check, public=check, events=())
    decision = reconcile(d, seen, at(seconds), CONFIG)
    assert SWAP not in decision.actions
    for answer in ActionOutcome:
        if answer is ActionOutcome.NOT_DONE:
            continue  # a refusal that changed nothing is the one case the swap is asked for again
        absorbed = reconcile(d, result(SWAP, answer, "x"), at(seconds), CONFIG)
        assert absorbed.deployment.swap_requested_at is not None or absorbed.deployment.finished


def test_reconcile_is_deterministic_so_a_duplicate_tick_decides_the_same() -> None:
    d = running_at(S.SWAP)
    seen = observed(environments=before_swap())
    assert reconcile(d, seen, at(3), CONFIG) == reconcile(d, seen, at(3), CONFIG)


@pytest.mark.parametrize(
    ("deployment", "partial", "expected"),
    [
        (queued(), observed(), Need.LEASE),
        (running_at(S.CREATE_VERSION), observed(), Need.VERSION),
        (running_at(S.DEPLOY_PREPROD), observed(), Need.ENVIRONMENTS),
        (running_at(S.WAIT_READY), observed(), Need.ENVIRONMENTS),
        (running_at(S.WAIT_READY), observed(environments=before_swap("Updating", "Grey")), None),
        (running_at(S.WAIT_READY), observed(environments=before_swap()), Need.EVENTS),
        (running_at(S.SMOKE_TEST), observed(), Need.SMOKE),
        (running_at(S.PROMOTE), observed(), None),
        (running_at(S.SWAP), observed(), Need.ENVIRONMENTS),
        (running_at(S.VERIFY), observed(), Need.DIRECT),
        (running_at(S.VERIFY), observed(direct=health()), Need.PUBLIC),
        (running_at(S.BAKE), observed(), None),
        (running_at(S.SWAP), result(SWAP, ActionOutcome.DONE), None),
    ],
)
def test_each_step_asks_for_what_it_needs(deployment: Any, partial: Any, expected: Need | None) -> None:
    """A quiet poll of a healthy update reads no events: one DescribeEnvironments is the whole tick."""
    assert next_need(deployment, partial, at(30), CONFIG) == expected


def test_a_production_launched_without_an_application_version_is_said_so_not_none() -> None:
    """An environment launched without a version (the rehearsal's fresh stacks) has no VersionLabel: the
    deploy step's detail said "runs None"."""
    unversioned = tuple(
        dataclasses.replace(e, version_label=None) if e.name == "shop-blue" else e
        for e in before_swap(green_label="1.0.40")
    )

    decision = reconcile(
        running_at(S.DEPLOY_PREPROD), observed(environments=unversioned, history=()), at(1), CONFIG
    )

    detail = decision.deployment.step(S.DEPLOY_PREPROD).detail or ""
    assert detail.endswith("(production shop-blue runs no application version)"), detail
