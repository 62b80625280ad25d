"""`POST /deployments/{id}/rollback`: decided purely, then through the app against the emulation."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from controller_builders import CONFIG, after_swap, at, before_swap, env, health, observed, running_at
from controller_harness import BLUE, GREEN, World

from controller.core import actions as act
from controller.core.model import Status, StepName
from controller.core.observation import LeaseView
from controller.core.reconcile import reconcile
from controller.core.rollback import decide_rollback
from moto_ext import Fault


def _succeeded() -> Any:
    d = running_at(StepName.VERIFY, swap_requested_at=at(0))
    for _ in range(3):  # verify, bake (skipped), succeed
        d = reconcile(d, observed(direct=health(), public=health()), at(30), CONFIG).deployment
    assert d.status is Status.SUCCEEDED
    return d


def _lease(d: Any, holder: str | None = None, last: str | None = None, expires_in: float = 600) -> LeaseView:
    return LeaseView(
        holder=holder, expires_at=at(100 + expires_in), newest_id=None, last_succeeded_id=last or d.id
    )


def test_rollback_swaps_back_when_the_previous_environment_still_runs_the_previous_version() -> None:
    d = _succeeded()
    decision = decide_rollback(d, _lease(d), after_swap(), at(100), CONFIG)
    assert not isinstance(decision, str)
    assert decision.deployment.status is Status.ROLLED_BACK
    assert "rolled back by request" in (decision.deployment.error or "")
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
    lease = _lease(d)
    if case == "not latest":
        lease = _lease(d, last="d-newer")
    elif case == "another runs":
        lease = _lease(d, holder="d-newer")
    elif case == "previous redeployed":
        views = (env("shop-blue", views[0].cname, label="9.9.9"), views[1])
    elif case == "previous not ready":
        views = (env("shop-blue", views[0].cname, "Updating"), views[1])
    elif case == "not succeeded":
        d = dataclasses.replace(d, status=Status.FAILED)
    elif case == "already swapped back":
        views = before_swap()
    refused = decide_rollback(d, lease, views, at(100), CONFIG)
    assert isinstance(refused, str) and reason in refused


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


def _rollback(world: World, deployment_id: str) -> Any:
    return world.request("POST", f"/deployments/{deployment_id}/rollback", b"")


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
    world.be.advance()
    assert world.prod_owner() == BLUE


def test_a_rollback_while_another_deployment_holds_the_lease_is_refused(world: World) -> None:
    deployed = _deployed(world, "1.0.42")
    running = json.loads(world.post_deployment("1.0.43").body)["id"]
    world.deliver(world.queue.pop_next())  # type: ignore[arg-type]
    assert world.record(running).status is Status.RUNNING

    refused = _rollback(world, deployed)
    assert refused.status_code == 409
    assert f"deployment {running} is running" in json.loads(refused.body)["error"]
    assert world.calls["elasticbeanstalk.SwapEnvironmentCNAMEs"] == 1


def test_a_rollback_whose_answer_is_lost_stays_rolled_back_and_says_so(world: World) -> None:
    deployed = _deployed(world, "1.0.42")
    world.be.set_fault(Fault.MUTATION_5XX)  # the rollback's swap takes effect, then answers 500
    swaps_before = world.attempts["SwapEnvironmentCNAMEs"]
    response = _rollback(world, deployed)
    assert response.status_code == 202, response.body
    view = json.loads(response.body)
    assert view["status"] == "rolled_back" and "answer to the swap was lost" in view["error"]
    assert world.attempts["SwapEnvironmentCNAMEs"] == swaps_before + 1, (
        "the swap is never re-sent by botocore"
    )
    world.be.advance()
    assert world.prod_owner() == BLUE


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
