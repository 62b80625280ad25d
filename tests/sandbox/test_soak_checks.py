"""The soak's plan and its invariants, without a stack: each invariant finds the breach it is there for."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from moto_ext import Fault
from sandbox.soak.checks import (
    History,
    RollbackAnswer,
    RoundResult,
    UpdateSeen,
    check_round,
    expected_production,
)
from sandbox.soak.plan import EXPECTED, Kind, Round, plan

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
INITIAL_LABEL = "deliverypipeline-InitialVersion-ABC"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def stamp(seconds: float) -> str:
    return at(seconds).strftime("%Y-%m-%dT%H:%M:%SZ")


def record(
    label: str,
    status: str,
    *,
    swap_at: float | None = 10,
    previous: str = INITIAL_LABEL,
    error: str | None = None,
    finished: float = 20,
) -> dict[str, Any]:
    steps = [
        {"name": "smoke_test", "status": "succeeded", "started_at": stamp(5)},
        {"name": "swap", "status": "succeeded" if swap_at is not None else "pending", "started_at": None},
    ]
    if swap_at is not None:
        steps[1]["started_at"] = stamp(swap_at)
    return {
        "id": f"d-{label}",
        "version_label": label,
        "status": status,
        "error": error,
        "previous_version_label": previous,
        "updated_at": stamp(finished),
        "steps": steps,
    }


def history() -> History:
    return History(initial_label=INITIAL_LABEL, initial_served="1.0.0")


def result(
    records: list[dict[str, Any]],
    *,
    fault: Fault | None = None,
    kind: Kind = Kind.SINGLE,
    swaps: int = 1,
    before: str = "1.0.0",
    after: str | None = "2.0.0",
    rollbacks: tuple[RollbackAnswer, ...] = (),
    first_seen: dict[str, datetime] | None = None,
    **extra: Any,
) -> RoundResult:
    return RoundResult(
        round=Round(1, kind, fault, len(records)),
        records=tuple(records),
        rollbacks=rollbacks,
        swaps=swaps,
        served_before=before,
        served_after=after,
        first_seen=first_seen if first_seen is not None else {"2.0.0": at(12)},
        **extra,
    )


# --- the plan -----------------------------------------------------------------------------------------------


def test_a_plan_is_the_same_for_the_same_seed_and_adds_up_to_the_deployments() -> None:
    rounds = plan(50, seed=7)
    assert rounds == plan(50, seed=7) and rounds != plan(50, seed=8)
    assert sum(r.notifications for r in rounds) == 50
    assert all(1 <= r.notifications <= 3 for r in rounds)
    assert all(r.notifications > 1 for r in rounds if r.kind is Kind.BURST)


def test_every_fault_comes_once_in_each_run_of_rounds() -> None:
    rounds = plan(60, seed=3)
    cycle = len(Fault) + 1
    for start in range(0, len(rounds) - cycle + 1, cycle):
        assert {r.fault for r in rounds[start : start + cycle]} == {None, *Fault}


def test_a_plan_needs_a_deployment() -> None:
    with pytest.raises(ValueError, match="at least one deployment"):
        plan(0, seed=1)


def test_every_fault_has_an_expected_outcome() -> None:
    assert set(EXPECTED) == {None, *Fault}


# --- the invariants -----------------------------------------------------------------------------------------


def test_a_clean_round_breaks_nothing() -> None:
    assert check_round(result([record("2.0.0", "succeeded")]), history()) == []


def test_a_fault_the_controller_should_survive_but_did_not_is_a_violation() -> None:
    found = check_round(
        result(
            [record("2.0.0", "failed", swap_at=None)], fault=Fault.BUSY, swaps=0, after="1.0.0", first_seen={}
        ),
        history(),
    )
    assert len(found) == 1 and "ended failed, expected succeeded under fault busy" in found[0]


def test_a_persistent_red_that_succeeded_is_a_violation() -> None:
    found = check_round(result([record("2.0.0", "succeeded")], fault=Fault.STAYS_RED), history())
    assert any("expected failed under fault stays-red" in problem for problem in found)


def test_a_swap_the_records_do_not_account_for_is_a_violation() -> None:
    found = check_round(result([record("2.0.0", "succeeded")], swaps=2), history())
    assert len(found) == 1 and "completed 2 CNAME swap(s); the records account for 1" in found[0]


def test_a_failure_before_the_swap_that_swapped_anyway_is_a_violation() -> None:
    failed = record("2.0.0", "failed", swap_at=None, error="smoke test failed")
    found = check_round(
        result([failed], fault=Fault.STAYS_RED, swaps=1, after="1.0.0", first_seen={}), history()
    )
    assert len(found) == 1 and "the records account for 0" in found[0]


def test_production_serving_a_version_that_failed_before_its_swap_is_a_violation() -> None:
    failed = record("2.0.0", "failed", swap_at=None, error="smoke test failed: HTTP 503")
    found = check_round(result([failed], fault=Fault.STAYS_RED, swaps=0, after="1.0.0"), history())
    assert len(found) == 1 and "never started its swap: smoke test failed" in found[0]


def test_production_serving_a_version_before_its_swap_started_is_a_violation() -> None:
    early = {"2.0.0": at(8)}
    assert any(
        "before d-2.0.0 started its swap" in p
        for p in check_round(result([record("2.0.0", "succeeded")], first_seen=early), history())
    )
    on_time = {"2.0.0": at(9.5)}  # the records keep whole seconds
    assert check_round(result([record("2.0.0", "succeeded")], first_seen=on_time), history()) == []


def test_production_left_on_another_version_than_the_records_say_is_a_violation() -> None:
    found = check_round(result([record("2.0.0", "succeeded")], after="1.0.0"), history())
    assert (
        len(found) == 1 and "production answers '1.0.0' after the round; the records say '2.0.0'" in found[0]
    )
    unreachable = check_round(result([record("2.0.0", "succeeded")], after=None), history())
    assert "did not answer" in unreachable[0]


def test_two_rollbacks_of_one_deployment_both_accepted_is_a_violation() -> None:
    rolled = record("2.0.0", "rolled_back", error="rolled back by request: production swapped back")
    twice = (RollbackAnswer("d-2.0.0", 202, INITIAL_LABEL), RollbackAnswer("d-2.0.0", 202, INITIAL_LABEL))
    found = check_round(
        result([rolled], kind=Kind.ROLLBACK, swaps=3, after="1.0.0", rollbacks=twice), history()
    )
    assert found == ["round 1 (rollback, fault none): 2 rollbacks of d-2.0.0 at once were all accepted"]


def test_stuck_records_failed_calls_and_dead_letters_are_violations() -> None:
    found = check_round(
        result(
            [record("2.0.0", "succeeded")],
            unfinished=("d-x is stuck: running (swap: None) with no tick on the queue",),
            failed_calls=("HTTP Error 502: Bad Gateway",),
            dead_letters=1,
            quiet=False,
        ),
        history(),
    )
    assert len(found) == 4
    assert "stuck" in found[0] and "1 production calls failed: HTTP Error 502" in found[1]
    assert "dead-letter" in found[2] and "still had operations in progress" in found[3]


def test_an_environment_redeployed_while_users_still_reached_it_is_a_violation() -> None:
    users_met_the_update = UpdateSeen("deliverypipeline-blue", at(30), at(34), user_requests=12)
    drained_first = UpdateSeen("deliverypipeline-green", at(60), at(64), user_requests=0)

    found = check_round(
        result([record("2.0.0", "succeeded")], updates=(users_met_the_update, drained_first)), history()
    )

    assert len(found) == 1
    assert "12 of production's requests reached deliverypipeline-blue while it was redeployed" in found[0]


def test_the_500s_of_errors_after_swap_are_expected_in_its_round_and_only_there() -> None:
    injected = "HTTP 500: errors-after-swap: the version behind app.example.com failed this request"
    rolled = record(
        "2.0.0", "rolled_back", error="rolled back by the controller: analysis failed: 5xx-rate 5.0% > 1.0%"
    )

    expected = check_round(
        result([rolled], fault=Fault.ERRORS_AFTER_SWAP, swaps=2, after="1.0.0", failed_calls=(injected,)),
        history(),
    )
    elsewhere = check_round(result([record("2.0.0", "succeeded")], failed_calls=(injected,)), history())

    assert expected == []
    assert len(elsewhere) == 1 and "1 production calls failed: HTTP 500: errors-after-swap" in elsewhere[0]


def test_a_controller_rollback_accounts_for_two_swaps_and_leaves_production_as_it_was() -> None:
    rolled = record("2.0.0", "rolled_back", error="rolled back by the controller: 3 checks failed")
    assert (
        check_round(result([rolled], fault=Fault.FAILS_AFTER_SWAP, swaps=2, after="1.0.0"), history()) == []
    )


@pytest.mark.parametrize(
    ("records", "rollbacks", "expected"),
    [
        ([], (), "1.0.0"),
        ([record("2.0.0", "failed", swap_at=None)], (), "1.0.0"),
        ([record("2.0.0", "succeeded", finished=30), record("3.0.0", "succeeded", finished=40)], (), "3.0.0"),
        (
            [record("2.0.0", "superseded", swap_at=None)],
            (RollbackAnswer("d-x", 202, INITIAL_LABEL),),
            "1.0.0",
        ),
        ([record("3.0.0", "succeeded")], (RollbackAnswer("d-x", 202, "1.5.0"),), "3.0.0"),
        ([record("3.0.0", "failed", swap_at=None)], (RollbackAnswer("d-x", 202, "1.5.0"),), "1.5.0"),
        ([record("3.0.0", "failed", swap_at=None)], (RollbackAnswer("d-x", 409, "1.5.0"),), "1.0.0"),
    ],
    ids=[
        "nothing ran",
        "a failure",
        "the last success",
        "an accepted rollback to the initial version (its web app answers its tag)",
        "a rollback, then a success",
        "a rollback, then a failure",
        "a refused rollback",
    ],
)
def test_what_production_must_answer_after_a_round(
    records: list[dict[str, Any]], rollbacks: tuple[RollbackAnswer, ...], expected: str
) -> None:
    assert expected_production(result(records, rollbacks=rollbacks, before="1.0.0"), history()) == expected


def test_the_rollback_target_is_the_latest_success() -> None:
    past = history()
    past.update([record("2.0.0", "succeeded", finished=10), record("3.0.0", "succeeded", finished=30)])
    past.update([record("4.0.0", "failed", swap_at=None, finished=50)])
    target = past.rollback_target()
    assert target is not None and target["version_label"] == "3.0.0"
    assert Counter(r["status"] for r in past.by_label.values()) == {"succeeded": 2, "failed": 1}
