"""The HTTP checks and what follows a failure in production, pure: the smoke window, the DNS-proof verify,
and the swap back that ends `rolled_back`."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from controller_builders import (
    BLUE_CNAME,
    CONFIG,
    ENDPOINTS,
    OLD,
    PROD_CNAME,
    TAG,
    after_swap,
    at,
    before_swap,
    env,
    health,
    observed,
    running_at,
    unreachable,
)
from test_controller_reconcile import check_decision

from controller.core import actions as act
from controller.core.decision import CONTINUE, RequeueAfter
from controller.core.model import Status, StepName, StepStatus, SwapBack
from controller.core.observation import ActionOutcome, ActionResult, Need
from controller.core.reconcile import next_need, reconcile
from controller.core.steps.checks import SMOKE_PASSES, direct_url, public_url

S = StepName
SMOKE = RequeueAfter(CONFIG.smoke_interval_s)
POLL = RequeueAfter(CONFIG.poll_interval_s)
WINDOW = CONFIG.verify_window_s
SWAP_BACK = act.SwapCNAMEs("shop-blue", "shop-green")


def smoking(**changes: Any) -> Any:
    return running_at(S.SMOKE_TEST, **changes)


def verifying(**changes: Any) -> Any:
    return running_at(S.VERIFY, swap_requested_at=at(0), **changes)


def swapping_back(previous_label: str = OLD, **back: Any) -> Any:
    d = verifying().with_step(S.VERIFY, status=StepStatus.FAILED, finished_at=at(100), detail="broken")
    back_to = SwapBack(reason="green broke", started_at=at(100), **back)
    return dataclasses.replace(d, swap_back=back_to, previous_label=previous_label)


def back_on_blue(blue_status: str = "Ready", green_status: str = "Ready", blue_label: str = OLD) -> Any:
    return (
        env("shop-blue", PROD_CNAME, blue_status, label=blue_label),
        env("shop-green", BLUE_CNAME, green_status, label=TAG),
    )


OLD_CHECK = health(200, OLD)
INITIAL = "shop-InitialVersion-1X2Y3Z"  # a label CloudFormation chose; its web app answers its tag, OLD

CASES: list[tuple[str, Any, Any, float, dict[str, Any]]] = [
    # --- smoke test: a round of 3 consecutive passes within SMOKE_WINDOW_S ---
    (
        "three passes in a row -> promote",
        smoking(),
        observed(smoke=(health(),) * SMOKE_PASSES),
        1,
        {"step": (S.SMOKE_TEST, StepStatus.SUCCEEDED), "next": CONTINUE},
    ),
    (
        "a 502 just after Ready -> not fatal, another round soon",
        smoking(),
        observed(smoke=(health(), health(502, None))),
        10,
        {"status": Status.RUNNING, "step": (S.SMOKE_TEST, StepStatus.RUNNING), "next": SMOKE},
    ),
    (
        "the old version answering -> not yet",
        smoking(),
        observed(smoke=(health(200, OLD),)),
        10,
        {"status": Status.RUNNING, "next": SMOKE},
    ),
    (
        "HTTP 503 until the window ends -> failed",
        smoking(),
        observed(smoke=(health(503, None),)),
        CONFIG.smoke_window_s,
        {
            "status": Status.FAILED,
            "step": (S.SMOKE_TEST, StepStatus.FAILED),
            "error": "HTTP 503",
            "actions": [act.ReleaseLease],
        },
    ),
    (
        "unreachable until the window ends -> failed",
        smoking(),
        observed(smoke=(unreachable(),)),
        CONFIG.smoke_window_s + 5,
        {"status": Status.FAILED, "error": "unreachable"},
    ),
    (
        "a round cut short by a failure in its last check when the window ends -> failed",
        smoking(),
        observed(smoke=(health(), health(), health(503, None))),
        CONFIG.smoke_window_s,
        {"status": Status.FAILED, "error": "HTTP 503"},
    ),
    # --- verify: the new environment directly, the production name with DNS tolerance ---
    (
        "both answer the new version, no analysis checks -> verified, bake next",
        verifying(),
        observed(direct=health(), public=health()),
        30,
        {"step": (S.VERIFY, StepStatus.SUCCEEDED), "next": CONTINUE, "config": {"analysis_checks": ()}},
    ),
    (
        "both answer the new version -> the analysis measures once a metrics period has passed",
        verifying(),
        observed(direct=health(), public=health()),
        30,
        {"step": (S.VERIFY, StepStatus.RUNNING), "next": RequeueAfter(30)},
    ),
    (
        "production name still on the previous environment (DNS) -> waits, no swap back",
        verifying(),
        observed(direct=health(), public=OLD_CHECK),
        WINDOW - 1,
        {
            "status": Status.RUNNING,
            "step": (S.VERIFY, StepStatus.RUNNING),
            "actions": [],
            "next": RequeueAfter(1),
        },
    ),
    (
        "production name unreachable for a while (DNS) -> waits",
        verifying(),
        observed(direct=health(), public=unreachable()),
        60,
        {"status": Status.RUNNING, "next": POLL, "failures": 0},
    ),
    (
        "production name still on the previous version when the window ends, CNAME on the new one (DNS) "
        "-> verified, with a warning",
        verifying(),
        observed(direct=health(), public=OLD_CHECK, environments=after_swap()),
        WINDOW,
        {
            "status": Status.RUNNING,
            "step": (S.VERIFY, StepStatus.SUCCEEDED),
            "next": CONTINUE,
            "warned": "DNS",
        },
    ),
    (
        "production name on the previous version when the window ends, and so is the CNAME -> swap back",
        verifying(),
        observed(direct=health(), public=OLD_CHECK, environments=before_swap()),
        WINDOW,
        {
            "status": Status.RUNNING,
            "step": (S.VERIFY, StepStatus.FAILED),
            "swap_back": "the production name still answers",
            "next": CONTINUE,
        },
    ),
    (
        "production name unreachable when the window ends -> swap back (not DNS holding the old target)",
        verifying(),
        observed(direct=health(), public=unreachable()),
        WINDOW,
        {"status": Status.RUNNING, "step": (S.VERIFY, StepStatus.FAILED), "swap_back": "unreachable"},
    ),
    (
        "the new environment fails a check -> counted, waits",
        verifying(),
        observed(direct=health(502, None), public=health(502, None)),
        20,
        {"status": Status.RUNNING, "next": POLL, "failures": 1},
    ),
    (
        "the new environment recovers -> count reset",
        verifying(verify_failures=2),
        observed(direct=health(), public=OLD_CHECK),
        20,
        {"status": Status.RUNNING, "failures": 0},
    ),
    (
        "the new environment fails 3 checks in a row -> swap back at once",
        verifying(verify_failures=2),
        observed(direct=health(500, None), public=health(500, None)),
        40,
        {"status": Status.RUNNING, "step": (S.VERIFY, StepStatus.FAILED), "swap_back": "3 checks in a row"},
    ),
    # --- swap back ---
    (
        "swap back: production on the new environment, both Ready -> swap back requested once",
        swapping_back(),
        observed(environments=after_swap()),
        100,
        {"status": Status.RUNNING, "actions": [act.SwapCNAMEs], "next": POLL, "back_requested": True},
    ),
    (
        "swap back: one of them not Ready -> waits",
        swapping_back(),
        observed(environments=after_swap(green_status="Updating")),
        130,
        {"status": Status.RUNNING, "actions": [], "back_requested": False},
    ),
    (
        "swap back: never both Ready -> failed, saying where production is",
        swapping_back(),
        observed(environments=after_swap(green_status="Updating")),
        100 + CONFIG.deploy_timeout_s + 1,
        {"status": Status.FAILED, "error": "could not swap back", "actions": [act.ReleaseLease]},
    ),
    (
        "swap back requested, not settled yet -> waits, never asks again",
        swapping_back(requested_at=at(100)),
        observed(environments=after_swap()),
        200,
        {"status": Status.RUNNING, "actions": [], "back_requested": True},
    ),
    (
        "swap back requested, never took effect -> failed",
        swapping_back(requested_at=at(100)),
        observed(environments=after_swap()),
        100 + CONFIG.deploy_timeout_s + 1,
        {
            "status": Status.FAILED,
            "error": "the swap back did not take effect",
            "actions": [act.ReleaseLease],
        },
    ),
    (
        "swap back done, previous version answers directly and by name -> rolled_back, verified",
        swapping_back(requested_at=at(100)),
        observed(environments=back_on_blue(), direct=OLD_CHECK, public=OLD_CHECK),
        130,
        {
            "status": Status.ROLLED_BACK,
            "step": (S.SWAP, StepStatus.ROLLED_BACK),
            "error": f"by the controller: green broke; production is back on shop-blue ({OLD}), verified",
            "actions": [act.ReleaseLease],
        },
    ),
    (
        "swap back to a version the controller did not make (label is not its tag), both answer -> verified",
        swapping_back(requested_at=at(100), previous_label=INITIAL),
        observed(environments=back_on_blue(blue_label=INITIAL), direct=OLD_CHECK, public=OLD_CHECK),
        130,
        {"status": Status.ROLLED_BACK, "error": f"back on shop-blue ({INITIAL}, answering {OLD}), verified"},
    ),
    (
        "swap back to a version the controller did not make, the name still answers the new one -> waits",
        swapping_back(requested_at=at(100), previous_label=INITIAL),
        observed(environments=back_on_blue(blue_label=INITIAL), direct=OLD_CHECK, public=health()),
        130,
        {"status": Status.RUNNING, "actions": [], "next": POLL},
    ),
    (
        "swap back onto an environment Beanstalk says runs another label -> not verified by its answer",
        swapping_back(requested_at=at(100), back_at=at(110), previous_label=INITIAL),
        observed(environments=back_on_blue(blue_label="9.9.9"), direct=OLD_CHECK, public=OLD_CHECK),
        110 + WINDOW,
        {"status": Status.ROLLED_BACK, "error": f"did not answer {INITIAL}: GET http://x/health: version"},
    ),
    (
        "swap back done, production name still on the new one (DNS) -> waits",
        swapping_back(requested_at=at(100)),
        observed(environments=back_on_blue(), direct=OLD_CHECK, public=health()),
        130,
        {"status": Status.RUNNING, "actions": [], "next": POLL},
    ),
    (
        "swap back done but never verified within the window -> rolled_back, saying so",
        swapping_back(requested_at=at(100), back_at=at(110)),
        observed(environments=back_on_blue(), direct=OLD_CHECK, public=health()),
        110 + WINDOW,
        {"status": Status.ROLLED_BACK, "error": f"did not answer {OLD}", "actions": [act.ReleaseLease]},
    ),
    (
        "swap back: the new environment busy does not matter once production is back",
        swapping_back(requested_at=at(100)),
        observed(environments=back_on_blue(green_status="Updating"), direct=OLD_CHECK, public=OLD_CHECK),
        130,
        {"status": Status.ROLLED_BACK},
    ),
    (
        "swap back refused 'Must be Ready' -> asked again later",
        swapping_back(requested_at=at(100)),
        observed(action_result=ActionResult(SWAP_BACK, ActionOutcome.NOT_DONE, "Must be Ready.")),
        100,
        {"status": Status.RUNNING, "next": POLL, "back_requested": False},
    ),
    (
        "swap back's answer lost -> watched, never asked again",
        swapping_back(requested_at=at(100)),
        observed(action_result=ActionResult(SWAP_BACK, ActionOutcome.UNKNOWN, "ServiceUnavailable")),
        100,
        {"status": Status.RUNNING, "next": POLL, "back_requested": True},
    ),
    (
        "swap back refused for good -> failed, saying production stays on the new version",
        swapping_back(requested_at=at(100)),
        observed(action_result=ActionResult(SWAP_BACK, ActionOutcome.REFUSED, "AccessDenied: no")),
        100,
        {"status": Status.FAILED, "error": f"production remains on shop-green ({TAG})"},
    ),
]


@pytest.mark.parametrize(
    ("deployment", "seen", "seconds", "expect"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_checks_and_swap_back(deployment: Any, seen: Any, seconds: float, expect: dict[str, Any]) -> None:
    config = dataclasses.replace(CONFIG, **expect.get("config", {}))
    decision = reconcile(deployment, seen, at(seconds), config)
    own = ("failures", "back_requested", "warned", "config")
    check_decision(decision, seconds, {k: v for k, v in expect.items() if k not in own})
    d = decision.deployment
    if "warned" in expect:
        assert len(d.warnings) == 1 and expect["warned"] in d.warnings[0], d.warnings
    else:
        assert d.warnings == ()
    if "failures" in expect:
        assert d.verify_failures == expect["failures"]
    if "back_requested" in expect:
        assert d.swap_back is not None and (d.swap_back.requested_at is not None) is expect["back_requested"]
    if any(isinstance(a, act.SwapCNAMEs) for a in decision.actions):
        assert decision.actions == (SWAP_BACK,), "the swap back moves production to the previous environment"


def test_rounds_with_a_failure_do_not_count_and_a_whole_round_goes_on() -> None:
    d = smoking()
    rounds = [(health(502, None),), (health(), health(), health(503, None)), (health(), unreachable())]
    for number, checks in enumerate(rounds):
        d = reconcile(d, observed(smoke=checks), at(number * CONFIG.smoke_interval_s), CONFIG).deployment
        assert d.step(S.SMOKE_TEST).status is StepStatus.RUNNING
    assert "needs 3 consecutive passes" in (d.step(S.SMOKE_TEST).detail or "")
    d = reconcile(d, observed(smoke=(health(),) * SMOKE_PASSES), at(20), CONFIG).deployment
    assert d.step(S.SMOKE_TEST).status is StepStatus.SUCCEEDED


def test_a_smoke_round_checks_three_times_and_stops_at_the_first_failure(world: Any) -> None:
    """The shell's side: the round ends at a failing check; a passing round makes SMOKE_PASSES checks."""
    from controller.shell import observe

    d = running_at(S.SMOKE_TEST)
    answers = iter([health(), health(502, None), health()])
    world.rt.http_get = lambda url: dataclasses.replace(next(answers), url=url)
    first = observe.smoke_round(d, world.rt)
    assert [c.status for c in first] == [200, 502]
    world.rt.http_get = lambda url: health(200, TAG)
    assert len(observe.smoke_round(d, world.rt)) == SMOKE_PASSES


@pytest.mark.parametrize("seconds", [100, 200, 5000])
@pytest.mark.parametrize(
    "views", [after_swap(), after_swap(green_status="Updating"), back_on_blue(), before_swap()]
)
def test_a_swap_back_is_requested_at_most_once(views: Any, seconds: float) -> None:
    d = swapping_back(requested_at=at(100))
    seen = observed(environments=views, direct=OLD_CHECK, public=health())
    assert SWAP_BACK not in reconcile(d, seen, at(seconds), CONFIG).actions


def test_the_checks_look_at_the_environment_that_should_serve_production() -> None:
    d = verifying()
    assert direct_url(d) == f"http://{ENDPOINTS['shop-green']}/health"
    assert public_url(d) == f"http://{PROD_CNAME}/health"
    assert direct_url(swapping_back()) == f"http://{ENDPOINTS['shop-blue']}/health"


def test_the_swap_back_reads_the_checks_only_once_production_is_back() -> None:
    d = swapping_back(requested_at=at(100))
    assert next_need(d, observed(), at(120), CONFIG) is Need.ENVIRONMENTS
    assert next_need(d, observed(environments=after_swap()), at(120), CONFIG) is None
    assert next_need(d, observed(environments=back_on_blue()), at(120), CONFIG) is Need.DIRECT


def test_verify_asks_where_the_cname_is_only_when_the_window_ends_with_the_name_behind() -> None:
    d = verifying()
    checked = {"direct": health(), "public": OLD_CHECK}
    assert next_need(d, observed(), at(WINDOW), CONFIG) is Need.DIRECT
    assert next_need(d, observed(**checked), at(WINDOW - 1), CONFIG) is None  # still waiting: no extra call
    assert next_need(d, observed(**checked), at(WINDOW), CONFIG) is Need.ENVIRONMENTS
    assert next_need(d, observed(direct=health(502, None), public=OLD_CHECK), at(WINDOW), CONFIG) is None
