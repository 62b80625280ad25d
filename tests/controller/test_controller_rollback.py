"""`POST /deployments/{id}/rollback`: decided purely (the standby's readiness, `force`), followed by ticks
until production answers the previous version, then through the app against the emulation."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from controller_builders import CONFIG, OLD, after_swap, at, before_swap, env, health, observed, running_at
from controller_harness import BLUE, GREEN, World

from controller.core import actions as act
from controller.core.model import Status, StepName, StepStatus
from controller.core.observation import LeaseView
from controller.core.reconcile import reconcile
from controller.core.rollback import decide_rollback
from moto_ext import Fault

NO_ANALYSIS = dataclasses.replace(CONFIG, analysis_checks=())


def _succeeded() -> Any:
    d = running_at(StepName.VERIFY, swap_requested_at=at(0))
    for _ in range(3):  # verify, bake (skipped), succeed
        d = reconcile(d, observed(direct=health(), public=health()), at(30), NO_ANALYSIS).deployment
    assert d.status is Status.SUCCEEDED
    return d


def _lease(d: Any, holder: str | None = None, last: str | None = None, expires_in: float = 600) -> LeaseView:
    return LeaseView(
        holder=holder, expires_at=at(100 + expires_in), newest_id=None, last_succeeded_id=last or d.id
    )


def test_a_rollback_onto_a_ready_standby_swaps_back_and_runs_until_verified() -> None:
    d = _succeeded()
    decision = decide_rollback(d, _lease(d), after_swap(), at(100), CONFIG)
    assert not isinstance(decision, str)
    rolling = decision.deployment
    assert rolling.status is Status.RUNNING, "not rolled_back before production answers the previous version"
    assert rolling.swap_back is not None and rolling.swap_back.by_request
    assert rolling.swap_back.requested_at == at(100)
    assert decision.actions == (act.SwapCNAMEs("shop-blue", "shop-green"),)


def test_a_rollback_reads_rolled_back_only_once_production_answers_the_previous_version() -> None:
    d = _succeeded()
    decision = decide_rollback(d, _lease(d), after_swap(), at(100), CONFIG)
    assert not isinstance(decision, str)
    rolling = decision.deployment

    not_yet = reconcile(rolling, observed(environments=after_swap()), at(101), CONFIG)
    assert not_yet.deployment.status is Status.RUNNING and not not_yet.actions
    back = observed(environments=before_swap(), direct=health(200, OLD), public=health(200, OLD))
    still_dns = dataclasses.replace(back, public=health())  # the production name still leads to green
    waiting = reconcile(rolling, still_dns, at(103), CONFIG)
    assert waiting.deployment.status is Status.RUNNING
    done = reconcile(waiting.deployment, back, at(105), CONFIG)

    assert done.deployment.status is Status.ROLLED_BACK
    assert done.deployment.error is not None
    assert done.deployment.error.startswith("rolled back by request: production swapped back to shop-blue")
    assert done.deployment.step(StepName.SWAP).status is StepStatus.ROLLED_BACK
    assert done.actions == (act.ReleaseLease(d.id, succeeded=False),)


def test_a_rollback_whose_swap_never_takes_effect_is_succeeded_again_and_still_undoable() -> None:
    d = _succeeded()
    decision = decide_rollback(d, _lease(d), after_swap(), at(100), CONFIG)
    assert not isinstance(decision, str)

    gave_up = reconcile(
        decision.deployment, observed(environments=after_swap()), at(101 + CONFIG.deploy_timeout_s), CONFIG
    )

    assert gave_up.deployment.status is Status.SUCCEEDED
    assert "rollback did not complete" in (gave_up.deployment.error or "")
    assert gave_up.deployment.swap_back is None
    assert gave_up.actions == (act.ReleaseLease(d.id, succeeded=True),), "what a rollback may undo again"


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("not latest", "only the latest succeeded"),
        ("another runs", "is running"),
        (
            "previous redeployed",
            "not rollback_ready: shop-blue runs 9.9.9, not 1.0.41, the version production",
        ),
        ("previous updating", "not rollback_ready: shop-blue is Updating: an operation is under way"),
        (
            "previous red",
            'not rollback_ready: shop-blue health is Red (ACCEPTED_HEALTH=Green) (send {"force"',
        ),
        ("not succeeded", "only a succeeded deployment"),
        ("already swapped back", "not on shop-green"),
    ],
)
def test_rollback_is_refused_with_the_reason(case: str, reason: str) -> None:
    d = _succeeded()
    views: Any = after_swap()
    lease = _lease(d)
    if case == "not latest":
        lease = _lease(d, last="d-newer")
    elif case == "another runs":
        lease = _lease(d, holder="d-newer")
    elif case == "previous redeployed":
        views = (env("shop-blue", views[0].cname, label="9.9.9"), views[1])
    elif case == "previous updating":
        views = (env("shop-blue", views[0].cname, "Updating"), views[1])
    elif case == "previous red":
        views = (env("shop-blue", views[0].cname, health="Red"), views[1])
    elif case == "not succeeded":
        d = dataclasses.replace(d, status=Status.FAILED)
    elif case == "already swapped back":
        views = before_swap()
    refused = decide_rollback(d, lease, views, at(100), CONFIG)
    assert isinstance(refused, str) and reason in refused, refused


def test_force_rolls_back_onto_a_standby_that_is_not_rollback_ready() -> None:
    d = _succeeded()
    red = (env("shop-blue", after_swap()[0].cname, health="Red", label="9.9.9"), after_swap()[1])

    forced = decide_rollback(d, _lease(d), red, at(100), CONFIG, force=True)

    assert not isinstance(forced, str)
    assert forced.actions == (act.SwapCNAMEs("shop-blue", "shop-green"),)
    assert forced.deployment.swap_back is not None and "(forced)" in forced.deployment.swap_back.reason


def test_force_still_needs_both_environments_ready_for_beanstalk_to_swap() -> None:
    d = _succeeded()
    updating = (env("shop-blue", after_swap()[0].cname, "Updating"), after_swap()[1])

    refused = decide_rollback(d, _lease(d), updating, at(100), CONFIG, force=True)

    assert isinstance(refused, str) and "both must be Ready" in refused


def test_a_refusal_reads_as_a_sentence_and_never_names_none() -> None:
    """After the latest success was rolled back, no deployment is what a rollback may undo: the reason says
    so instead of "only the latest succeeded deployment (None)"; a status reads "has failed", not
    "is failed"."""
    d = _succeeded()
    nothing_to_undo = dataclasses.replace(_lease(d), last_succeeded_id=None)
    refused = decide_rollback(d, nothing_to_undo, after_swap(), at(100), CONFIG)
    assert isinstance(refused, str) and "None" not in refused
    assert "none can be rolled back now (the latest one was rolled back already)" in refused

    failed = dataclasses.replace(d, status=Status.FAILED)
    refused = decide_rollback(failed, _lease(d), after_swap(), at(100), CONFIG)
    assert refused == f"deployment {d.id} has failed; only a succeeded deployment can be rolled back"


def test_an_expired_lease_of_another_deployment_does_not_block_a_rollback() -> None:
    d = _succeeded()
    decision = decide_rollback(d, _lease(d, holder="d-crashed", expires_in=-1), after_swap(), at(100), CONFIG)
    assert not isinstance(decision, str)


# --- through the app ---------------------------------------------------------------------------------


def _deployed(world: World, tag: str) -> str:
    response = world.post_deployment(tag)
    assert response.status_code == 202, response.body
    deployment_id = str(json.loads(response.body)["id"])
    world.drain()
    assert world.record(deployment_id).status is Status.SUCCEEDED
    return deployment_id


def _rollback(world: World, deployment_id: str, body: bytes = b"") -> Any:
    return world.request("POST", f"/deployments/{deployment_id}/rollback", body)


def test_a_rollback_is_rolled_back_once_production_answers_the_previous_version(world: World) -> None:
    deployed = _deployed(world, "1.0.42")

    response = _rollback(world, deployed)
    assert response.status_code == 202, response.body
    assert json.loads(response.body)["status"] == "running"
    assert world.record(deployed).status is Status.RUNNING

    world.drain()

    record = world.record(deployed)
    assert record.status is Status.ROLLED_BACK
    assert (record.error or "").startswith("rolled back by request")
    assert "verified" in (record.error or "")
    assert world.prod_owner() == BLUE
    assert world.calls["elasticbeanstalk.SwapEnvironmentCNAMEs"] == 2, "the deployment's and the rollback's"
    again = _rollback(world, deployed)
    assert again.status_code == 409


def test_a_rollback_body_other_than_force_is_refused_before_anything_happens(world: World) -> None:
    deployed = _deployed(world, "1.0.42")

    for body in (b"[]", b'{"force": "yes"}', b'{"forse": true}', b"not json"):
        refused = _rollback(world, deployed, body)
        assert refused.status_code == 400, body
        assert "force" in json.loads(refused.body)["error"]
    assert world.record(deployed).status is Status.SUCCEEDED
    assert world.calls["elasticbeanstalk.SwapEnvironmentCNAMEs"] == 1


def test_a_rollback_beanstalk_refused_can_be_asked_again(world: World) -> None:
    """Beanstalk refuses the swap ("Must be Ready"): the deployment is succeeded again and stays the one a
    rollback may undo, so asking again later works."""
    deployed = _deployed(world, "1.0.42")
    world.be.set_fault(Fault.BUSY)  # the next swap is refused "... Must be Ready." once

    refused = _rollback(world, deployed)
    assert refused.status_code == 409 and "Must be Ready" in json.loads(refused.body)["error"]
    assert world.record(deployed).status is Status.SUCCEEDED
    assert world.prod_owner() == GREEN

    again = _rollback(world, deployed)
    assert again.status_code == 202, again.body
    world.drain()
    assert world.prod_owner() == BLUE
    assert world.record(deployed).status is Status.ROLLED_BACK


def test_a_rollback_while_another_deployment_holds_the_lease_is_refused(world: World) -> None:
    deployed = _deployed(world, "1.0.42")
    running = json.loads(world.post_deployment("1.0.43").body)["id"]
    world.deliver(world.queue.pop_next())  # type: ignore[arg-type]
    assert world.record(running).status is Status.RUNNING

    refused = _rollback(world, deployed)
    assert refused.status_code == 409
    assert f"deployment {running} is running" in json.loads(refused.body)["error"]
    assert world.calls["elasticbeanstalk.SwapEnvironmentCNAMEs"] == 1


def test_a_deployment_waits_while_a_rollback_holds_the_lease(world: World) -> None:
    deployed = _deployed(world, "1.0.42")
    assert _rollback(world, deployed).status_code == 202
    newer = json.loads(world.post_deployment("1.0.43").body)["id"]

    world.drain()

    assert world.record(deployed).status is Status.ROLLED_BACK
    assert world.record(newer).status is Status.SUCCEEDED
    swap = world.record(newer).step(StepName.SWAP)
    rolled = world.record(deployed).step(StepName.SWAP)
    assert swap.started_at is not None and rolled.finished_at is not None
    assert swap.started_at >= rolled.finished_at, "the next deployment swapped only after the rollback ended"


def test_a_rollback_whose_answer_is_lost_is_followed_until_production_moved(world: World) -> None:
    deployed = _deployed(world, "1.0.42")
    world.be.set_fault(Fault.MUTATION_5XX)  # the rollback's swap takes effect, then answers 500
    swaps_before = world.attempts["SwapEnvironmentCNAMEs"]
    response = _rollback(world, deployed)
    assert response.status_code == 202, response.body
    assert json.loads(response.body)["status"] == "running"
    assert world.attempts["SwapEnvironmentCNAMEs"] == swaps_before + 1, (
        "the swap is never re-sent by botocore"
    )

    world.drain()

    assert world.prod_owner() == BLUE
    assert world.record(deployed).status is Status.ROLLED_BACK
    assert world.attempts["SwapEnvironmentCNAMEs"] == swaps_before + 1, "nor by the ticks that followed it"


def test_an_update_that_failed_partway_leaves_no_rollback_target_until_a_full_deployment(
    world: World,
) -> None:
    """mixed-versions: the next deployment's update of the standby fails partway, leaving 2 of 5 instances on
    the failed version while Beanstalk names the previous one. Its record says pre-production is not clean,
    and the rollback that would swap production onto it is refused; a full deployment makes it clean again
    (issue 18, item 12)."""
    first = json.loads(world.post_deployment("1.0.42").body)["id"]
    world.drain()
    assert world.record(first).status is Status.SUCCEEDED and world.prod_owner() == GREEN

    world.be.set_fault("mixed-versions")
    world.clock.advance(3600)
    partway = json.loads(world.post_deployment("1.0.43").body)["id"]
    world.drain()
    failed = world.record(partway)
    assert failed.status is Status.FAILED and failed.preprod_env == BLUE
    assert len(failed.warnings) == 1 and "pre-production is not clean" in failed.warnings[0]
    assert "2 of 5 instances of" in failed.warnings[0] and "1.0.43" in failed.warnings[0]

    refused = world.request("POST", f"/deployments/{first}/rollback", b"{}")
    assert refused.status_code == 409, refused.body
    assert f"{BLUE} is no rollback target" in json.loads(refused.body)["error"]
    assert world.prod_owner() == GREEN

    world.be.clear_faults("mixed-versions")
    world.clock.advance(3600)
    full = json.loads(world.post_deployment("1.0.44").body)["id"]
    world.drain()
    assert world.record(full).status is Status.SUCCEEDED and world.prod_owner() == BLUE
    rolled = world.request("POST", f"/deployments/{full}/rollback", b"{}")
    assert rolled.status_code == 202, rolled.body
