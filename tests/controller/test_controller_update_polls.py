"""When Beanstalk's events are lost, the safety poll looks when this environment's past updates say the
update ends, not every 600 s (issue 18, item 6): the schedule (pure), what each record keeps, and a whole
deployment with every event lost."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest
from controller_builders import CONFIG, at, before_swap, changed_at, observed, running_at
from controller_harness import BLUE, GREEN, World

from controller.core import actions as act
from controller.core.decision import RequeueAfter, backoff
from controller.core.model import Status, StepName
from controller.core.observation import ActionOutcome, ActionResult, Need, PastUpdate
from controller.core.reconcile import next_need, reconcile
from controller.core.steps.update_polls import expected_update_s, next_look_s

S = StepName
POLL = CONFIG.poll_interval_s
LIMIT = CONFIG.deploy_timeout_s


# --- what the past says --------------------------------------------------------------------------------


def test_the_expectation_is_the_median_of_this_environments_recent_updates_with_their_spread() -> None:
    history = (
        PastUpdate("shop-green", 400),
        PastUpdate("shop-blue", 900),
        PastUpdate("shop-green", 440),
        PastUpdate("shop-green", 420),
    )
    assert expected_update_s(history, "shop-green") == (420, 20)
    assert expected_update_s(history, "shop-blue") == (900, 0)


def test_without_updates_of_its_own_an_environment_expects_what_its_twins_took() -> None:
    assert expected_update_s((PastUpdate("shop-blue", 300), PastUpdate("shop-blue", 340)), "shop-green") == (
        320,
        20,
    )
    assert expected_update_s((), "shop-green") is None


def test_only_the_five_newest_updates_count() -> None:
    history = tuple(PastUpdate("shop-green", s) for s in (100, 100, 100, 100, 100, 900, 900, 900))
    assert expected_update_s(history, "shop-green") == (100, 0)


# --- when to look -------------------------------------------------------------------------------------

EXPECTED = 500.0
FIRST = EXPECTED + POLL


@pytest.mark.parametrize(
    ("waited", "spread", "seconds"),
    [
        (0, 0, int(FIRST)),  # the first look just after the expected end
        (FIRST - 10, 0, 10),
        (FIRST, 0, POLL),  # later than expected: closely, then backing off
        (FIRST + 20, 0, POLL),
        (FIRST + 200, 0, backoff(200, CONFIG)),
        (0, 100, int(EXPECTED + 100)),  # updates that varied: their spread
        (LIMIT - 5, 0, 6),  # the deadline is looked at right after it passes
    ],
)
def test_the_first_look_comes_just_after_the_expected_end_then_closely(
    waited: float, spread: float, seconds: int
) -> None:
    assert next_look_s(EXPECTED, spread, waited, LIMIT, CONFIG) == seconds


def test_the_safety_polls_cadence_still_holds_before_a_long_expected_end() -> None:
    assert next_look_s(1000, 0, 0, LIMIT, CONFIG) == CONFIG.safety_poll_s
    assert next_look_s(1000, 0, CONFIG.safety_poll_s, LIMIT, CONFIG) == 1000 + POLL - CONFIG.safety_poll_s


def test_never_beyond_sqs_longest_delay() -> None:
    slow = dataclasses.replace(CONFIG, poll_interval_s=60)  # a safety poll of 40 x 60 s, cut to 900 s
    assert next_look_s(2000, 0, 0, 3600, slow) == 900


def test_without_a_past_the_safety_poll_looks_as_before() -> None:
    assert next_look_s(None, 0, 0, LIMIT, CONFIG) == CONFIG.safety_poll_s


# --- what the records keep -----------------------------------------------------------------------------


def test_the_history_is_read_once_pre_production_can_be_updated_and_kept_in_the_record() -> None:
    d = running_at(S.DEPLOY_PREPROD)
    ready = before_swap(green_label="1.0.40")
    assert next_need(d, observed(environments=ready), at(1), CONFIG) is Need.HISTORY
    busy = before_swap(green_status="Updating", green_label="1.0.40")
    assert next_need(d, observed(environments=busy), at(1), CONFIG) is None  # waits: no query
    recent = changed_at(0, ready)
    # changed a moment ago: the drain before this step judged its traffic, no wait for DNS here
    assert next_need(d, observed(environments=recent), at(1), CONFIG) is Need.HISTORY

    past = (PastUpdate("shop-green", 300), PastUpdate("shop-green", 320))
    decision = reconcile(d, observed(environments=ready, history=past), at(1), CONFIG)
    placed = decision.deployment
    assert (placed.expected_update_s, placed.update_spread_s) == (310, 10)
    assert [type(a) for a in decision.actions] == [act.UpdateEnvironment]
    accepted = reconcile(
        placed,
        observed(action_result=ActionResult(decision.actions[0], ActionOutcome.DONE, request_id="r-1")),
        at(1),
        CONFIG,
    )
    assert accepted.next == RequeueAfter(next_look_s(310, 10, 0, LIMIT, CONFIG))


def test_the_update_keeps_how_long_it_took_from_beanstalks_date_updated() -> None:
    d = running_at(S.WAIT_READY, deploy_requested_at=at(0))
    landed = tuple(dataclasses.replace(e, date_updated=at(412)) for e in before_swap())
    decision = reconcile(d, observed(environments=landed), at(600), CONFIG)  # noticed late
    assert decision.deployment.update_s == 412


# --- a whole deployment with every event lost -----------------------------------------------------------

UPDATE_S = 607


def _deploy(world: World, tag: str) -> str:
    response = world.post_deployment(tag)
    assert response.status_code == 202, response.body
    deployment_id = str(json.loads(response.body)["id"])
    world.drain()
    assert world.record(deployment_id).status is Status.SUCCEEDED
    return deployment_id


def test_with_every_event_lost_a_deployment_after_earlier_ones_is_noticed_within_a_poll_interval(
    world: World,
) -> None:
    world.be.set_timings(update_s=UPDATE_S)
    world.be.set_event_delivery(drop=1.0)
    first = _deploy(world, "1.0.1")  # green, with no past: the 600 s safety poll
    assert world.record(first).update_s == UPDATE_S
    _deploy(world, "1.0.2")  # blue
    calls_before = sum(world.calls.values())
    third = _deploy(world, "1.0.3")  # green again: its own past says 607 s

    d = world.record(third)
    assert d.preprod_env == GREEN and d.expected_update_s == UPDATE_S
    ended = max(
        e.event_date for e in world.be.events if e.environment_name == GREEN and "completed" in e.message
    )
    assert d.swap_requested_at is not None
    assert timedelta(0) <= d.swap_requested_at - ended <= timedelta(seconds=POLL)
    late_first = world.record(first).swap_requested_at
    assert late_first is not None and late_first - world.record(first).created_at > timedelta(seconds=1000)
    assert world.prod_owner() == GREEN and world.environments()[BLUE].version_label == "1.0.2"
    assert sum(world.calls.values()) - calls_before <= 40, dict(world.calls)
