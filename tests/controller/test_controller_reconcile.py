"""The pure reconcile step, table-driven: every status and step against the observations it can meet."""

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
    env,
    error_event,
    health,
    lease,
    observed,
    queued,
    running_at,
)

from controller import actions as act
from controller.config import Config
from controller.model import Status, StepName, StepStatus
from controller.observation import ActionFailure, Need, VersionView
from controller.reconcile import decide_rollback, next_need, reconcile

S = StepName

# name, deployment, observation, seconds after T0, expected {status, step: (name, status), actions, requeue,
# error (substring)}
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
            "requeue": 0,
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
        {"status": Status.QUEUED, "actions": [], "requeue": CONFIG.poll_interval_s},
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
        {"status": Status.SUPERSEDED, "actions": [], "requeue": None, "error": "d-newer"},
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
            "requeue": 0,
        },
    ),
    (
        "version exists for this image -> reuse",
        running_at(S.CREATE_VERSION),
        observed(version=VersionView(True, f"{IMAGE}:{TAG}")),
        1,
        {"step": (S.DEPLOY_PREPROD, StepStatus.RUNNING), "actions": [], "requeue": 0},
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
    # --- deploy_preprod ---
    (
        "pre-production Ready -> update it",
        running_at(S.DEPLOY_PREPROD),
        observed(environments=before_swap(green_label="1.0.40")),
        1,
        {
            "step": (S.WAIT_READY, StepStatus.RUNNING),
            "actions": [act.UpdateEnvironment],
            "requeue": CONFIG.poll_interval_s,
        },
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
        "no environment has the production CNAME -> failed",
        running_at(S.DEPLOY_PREPROD),
        observed(
            environments=(env("a", "a.us-east-1.elasticbeanstalk.com"), env("b", "b.elasticbeanstalk.com"))
        ),
        1,
        {"status": Status.FAILED, "error": "no live environment has the production CNAME"},
    ),
    (
        "three live environments -> failed",
        running_at(S.DEPLOY_PREPROD),
        observed(environments=(*before_swap(), env("shop-red", "r.us-east-1.elasticbeanstalk.com"))),
        1,
        {"status": Status.FAILED, "error": "exactly one pre-production", "actions": [act.ReleaseLease]},
    ),
    (
        "a terminated third environment does not count",
        running_at(S.DEPLOY_PREPROD),
        observed(
            environments=(*before_swap(green_label="x"), env("old", "o.elasticbeanstalk.com", "Terminated"))
        ),
        1,
        {"actions": [act.UpdateEnvironment]},
    ),
    # --- wait_ready ---
    (
        "Updating -> waits",
        running_at(S.WAIT_READY),
        observed(environments=before_swap("Updating", "Grey")),
        20,
        {
            "status": Status.RUNNING,
            "step": (S.WAIT_READY, StepStatus.RUNNING),
            "actions": [],
            "requeue": CONFIG.poll_interval_s,
        },
    ),
    (
        "Updating long -> polls less often, at most 8x",
        running_at(S.WAIT_READY),
        observed(environments=before_swap("Updating", "Grey")),
        1000,
        {"status": Status.RUNNING, "requeue": 8 * CONFIG.poll_interval_s},
    ),
    (
        "Ready/Green on the new label -> smoke test",
        running_at(S.WAIT_READY),
        observed(environments=before_swap(), events=()),
        300,
        {"step": (S.SMOKE_TEST, StepStatus.RUNNING), "actions": [], "requeue": 0},
    ),
    (
        "Ready/Green on the old label (silent rollback) -> failed",
        running_at(S.WAIT_READY),
        observed(environments=before_swap(green_label="1.0.40"), events=()),
        300,
        {"status": Status.FAILED, "error": "rolled the update back", "actions": [act.ReleaseLease]},
    ),
    (
        "Ready on the old label, untouched since the request (it never reached Beanstalk) -> requested again",
        running_at(S.WAIT_READY),
        observed(
            environments=(
                env("shop-blue", PROD_CNAME),
                dataclasses.replace(env("shop-green", BLUE_CNAME, label="1.0.40"), date_updated=at(-3600)),
            ),
            events=(),
        ),
        300,
        {
            "status": Status.RUNNING,
            "step": (S.WAIT_READY, StepStatus.RUNNING),
            "actions": [act.UpdateEnvironment],
        },
    ),
    (
        "Ready on the old label, changed after the request (silent rollback) -> failed",
        running_at(S.WAIT_READY),
        observed(
            environments=(
                env("shop-blue", PROD_CNAME),
                dataclasses.replace(env("shop-green", BLUE_CNAME, label="1.0.40"), date_updated=at(200)),
            ),
            events=(),
        ),
        300,
        {"status": Status.FAILED, "error": "rolled the update back"},
    ),
    (
        "Ready/Red -> failed",
        running_at(S.WAIT_READY),
        observed(environments=before_swap(green_health="Red", green_label="1.0.40"), events=()),
        300,
        {"status": Status.FAILED, "error": "1.0.40", "actions": [act.ReleaseLease]},
    ),
    (
        "Red with a failure event -> failed with the event's message",
        running_at(S.WAIT_READY),
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
        running_at(S.WAIT_READY),
        observed(environments=before_swap("Updating", "Red"), events=(error_event(100, "ECS task stopped"),)),
        120,
        {
            "status": Status.FAILED,
            "error": "ECS task stopped",
            "actions": [act.AbortUpdate, act.ReleaseLease],
        },
    ),
    (
        "failure events of another environment or before the request are ignored",
        running_at(S.WAIT_READY),
        observed(
            environments=before_swap(), events=(error_event(-60), error_event(10, env_name="shop-blue"))
        ),
        300,
        {"status": Status.RUNNING, "step": (S.SMOKE_TEST, StepStatus.RUNNING)},
    ),
    (
        "still Updating after DEPLOY_TIMEOUT_S -> failed, update aborted",
        running_at(S.WAIT_READY),
        observed(environments=before_swap("Updating", "Grey"), events=()),
        CONFIG.deploy_timeout_s + 1,
        {"status": Status.FAILED, "error": "update aborted", "actions": [act.AbortUpdate, act.ReleaseLease]},
    ),
    (
        "Yellow not accepted -> keeps waiting",
        running_at(S.WAIT_READY),
        observed(environments=before_swap(green_health="Yellow"), events=()),
        60,
        {"status": Status.RUNNING, "step": (S.WAIT_READY, StepStatus.RUNNING), "actions": []},
    ),
    (
        "Yellow not accepted until the timeout -> failed",
        running_at(S.WAIT_READY),
        observed(environments=before_swap(green_health="Yellow"), events=()),
        CONFIG.deploy_timeout_s + 1,
        {"status": Status.FAILED, "error": "health stayed Yellow", "actions": [act.ReleaseLease]},
    ),
    (
        "pre-production disappeared -> failed",
        running_at(S.WAIT_READY),
        observed(environments=(env("shop-blue", PROD_CNAME),)),
        60,
        {"status": Status.FAILED, "error": "gone"},
    ),
    # --- smoke_test ---
    (
        "smoke test passes -> swap",
        running_at(S.SMOKE_TEST),
        observed(smoke=health()),
        1,
        {"step": (S.SWAP, StepStatus.RUNNING), "requeue": 0, "actions": []},
    ),
    (
        "smoke test HTTP 503 -> failed",
        running_at(S.SMOKE_TEST),
        observed(smoke=health(503, None)),
        1,
        {
            "status": Status.FAILED,
            "step": (S.SMOKE_TEST, StepStatus.FAILED),
            "error": "HTTP 503",
            "actions": [act.ReleaseLease],
        },
    ),
    (
        "smoke test answers another version -> failed",
        running_at(S.SMOKE_TEST),
        observed(smoke=health(200, "1.0.41")),
        1,
        {"status": Status.FAILED, "error": "'1.0.41'"},
    ),
    (
        "smoke test unreachable -> failed",
        running_at(S.SMOKE_TEST),
        observed(smoke=health(None, None, "unreachable (refused)")),
        1,
        {"status": Status.FAILED, "error": "unreachable"},
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
            "requeue": CONFIG.poll_interval_s,
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
        "swap done -> verify",
        running_at(S.SWAP, swap_requested_at=at(0)),
        observed(environments=after_swap()),
        20,
        {"step": (S.VERIFY, StepStatus.RUNNING), "actions": [], "requeue": 0},
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
    # --- verify ---
    (
        "verify passes -> succeeded, lease released",
        running_at(S.VERIFY, swap_requested_at=at(0)),
        observed(verify=health()),
        30,
        {
            "status": Status.SUCCEEDED,
            "step": (S.VERIFY, StepStatus.SUCCEEDED),
            "actions": [act.ReleaseLease],
            "requeue": None,
        },
    ),
    (
        "verify sees the old version at first -> retries",
        running_at(S.VERIFY, swap_requested_at=at(0)),
        observed(verify=health(200, "1.0.41")),
        30,
        {"status": Status.RUNNING, "actions": [], "requeue": 15},
    ),
    (
        "verify never sees the new version -> failed",
        running_at(S.VERIFY, swap_requested_at=at(0)),
        observed(verify=health(200, "1.0.41")),
        600,
        {"status": Status.FAILED, "error": "does not serve"},
    ),
    # --- refusals and finished deployments ---
    (
        "an action refused by AWS -> failed with its message",
        running_at(S.DEPLOY_PREPROD),
        observed(action_failure=ActionFailure("UpdateEnvironment", "InvalidParameterValue: nope")),
        1,
        {"status": Status.FAILED, "error": "nope", "actions": [act.ReleaseLease]},
    ),
]


@pytest.mark.parametrize(
    ("deployment", "seen", "seconds", "expect"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_reconcile_step(deployment: Any, seen: Any, seconds: float, expect: dict[str, Any]) -> None:
    decision = reconcile(deployment, seen, at(seconds), CONFIG)
    d = decision.deployment
    if "status" in expect:
        assert d.status is expect["status"]
    if "step" in expect:
        name, status = expect["step"]
        assert d.step(name).status is status
    if "actions" in expect:
        assert [type(a) for a in decision.actions] == expect["actions"]
    if "requeue" in expect:
        assert decision.requeue_after == expect["requeue"]
    if "error" in expect:
        assert d.error is not None and expect["error"] in d.error
    if "events" in expect:
        assert list(d.failure_events) == expect["events"]
    if expect.get("swap_requested"):
        assert d.swap_requested_at == at(seconds)
    if d.status is Status.FAILED:
        assert d.current_step is not None and d.current_step.status is StepStatus.FAILED
        assert not any(isinstance(a, act.SwapCNAMEs) for a in decision.actions), (
            "a failure never touches production"
        )


@pytest.mark.parametrize("status", [Status.SUCCEEDED, Status.FAILED, Status.SUPERSEDED, Status.ROLLED_BACK])
def test_a_finished_deployment_decides_nothing(status: Status) -> None:
    d = running_at(S.SWAP, status=status, swap_requested_at=at(0))
    decision = reconcile(d, observed(environments=before_swap()), at(5), CONFIG)
    assert decision.deployment == d and decision.actions == () and decision.requeue_after is None
    assert next_need(d, observed(), at(5), CONFIG) is None


ALL_ENV_VIEWS = [
    before_swap(),
    after_swap(),
    before_swap("Updating", "Grey"),
    before_swap(green_label="1.0.40"),
    (env("shop-blue", PROD_CNAME, "Updating"), env("shop-green", "g.elasticbeanstalk.com", label=TAG)),
]


@pytest.mark.parametrize("step", [S.SWAP, S.VERIFY])
@pytest.mark.parametrize("views", ALL_ENV_VIEWS)
@pytest.mark.parametrize("seconds", [1, 30, 200, 5000])
def test_once_the_swap_is_requested_no_tick_ever_swaps_again(
    step: StepName, views: Any, seconds: float
) -> None:
    d = running_at(step, swap_requested_at=at(0))
    seen = observed(environments=views, verify=health(), events=())
    decision = reconcile(d, seen, at(seconds), CONFIG)
    assert not any(isinstance(a, act.SwapCNAMEs) for a in decision.actions)


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
        (running_at(S.SWAP), observed(), Need.ENVIRONMENTS),
        (running_at(S.VERIFY), observed(), Need.VERIFY),
    ],
)
def test_each_step_asks_for_what_it_needs(deployment: Any, partial: Any, expected: Need | None) -> None:
    """A quiet poll of a healthy update reads no events: one DescribeEnvironments is the whole tick."""
    assert next_need(deployment, partial, at(30), CONFIG) == expected


def test_accepted_health_can_include_yellow() -> None:
    config = dataclasses.replace(CONFIG, accepted_health=frozenset({"Green", "Yellow"}))
    decision = reconcile(
        running_at(S.WAIT_READY),
        observed(environments=before_swap(green_health="Yellow"), events=()),
        at(60),
        config,
    )
    assert decision.deployment.step(S.SMOKE_TEST).status is StepStatus.RUNNING


# --- rollback ---


def _succeeded() -> Any:
    d = running_at(S.VERIFY, swap_requested_at=at(0))
    return reconcile(d, observed(verify=health()), at(30), CONFIG).deployment


def _rollback(
    d: Any, views: Any, holder: str | None = None, last: str | None = None, config: Config = CONFIG
) -> Any:
    return decide_rollback(d, holder, holder is not None, last or d.id, views, at(100), config)


def test_rollback_swaps_back_when_the_previous_environment_still_runs_the_previous_version() -> None:
    d = _succeeded()
    decision = _rollback(d, after_swap())
    assert not isinstance(decision, str)
    assert decision.deployment.status is Status.ROLLED_BACK
    assert decision.actions == (act.SwapCNAMEs("shop-blue", "shop-green"),)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("not latest", "only the latest succeeded"),
        ("another runs", "is running"),
        ("previous redeployed", "not the previous version"),
        ("previous not ready", "both must be Ready"),
        ("not succeeded", "only a succeeded deployment"),
        ("already swapped back", "not on shop-green"),
    ],
)
def test_rollback_is_refused_with_the_reason(case: str, reason: str) -> None:
    d = _succeeded()
    views: Any = after_swap()
    holder, last = None, d.id
    if case == "not latest":
        last = "d-newer"
    elif case == "another runs":
        holder = "d-newer"
    elif case == "previous redeployed":
        views = (env("shop-blue", views[0].cname, label="9.9.9"), views[1])
    elif case == "previous not ready":
        views = (env("shop-blue", views[0].cname, "Updating"), views[1])
    elif case == "not succeeded":
        d = dataclasses.replace(d, status=Status.FAILED)
    elif case == "already swapped back":
        views = before_swap()
    refused = decide_rollback(d, holder, holder is not None, last, views, at(100), CONFIG)
    assert isinstance(refused, str) and reason in refused
