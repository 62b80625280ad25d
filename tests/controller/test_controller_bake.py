"""The bake window, through the emulation: for BAKE_S after verify, production (Beanstalk's health and
/health) is watched; a degradation swaps back by itself and ends `rolled_back`, with the previous
environment untouched until then; `succeeded` only after the bake."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from controller_harness import BLUE, GREEN, OLD_LABEL, World
from moto import mock_aws

from controller.core.model import Status, StepName, StepStatus
from controller.core.observation import HttpCheck

TAG = "1.0.42-3f2a1bc"
BAKE_S = 300


@pytest.fixture
def baking(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("BAKE_S", str(BAKE_S))
    with mock_aws():
        yield World()


def _post(world: World) -> str:
    return str(json.loads(world.post_deployment(TAG).body)["id"])


def test_a_healthy_bake_succeeds_only_after_bake_s_with_the_previous_environment_untouched(
    baking: World,
) -> None:
    deployment_id = _post(baking)
    seen_baking = []
    for _ in baking.run():
        d = baking.record(deployment_id)
        if d.current_step is not None and d.current_step.name is StepName.BAKE and not d.finished:
            seen_baking.append(d.status)
            assert baking.prod_owner() == GREEN
            assert baking.environments()[BLUE].version_label == OLD_LABEL  # ready to swap back to

    done = baking.record(deployment_id)
    bake = done.step(StepName.BAKE)
    assert done.status is Status.SUCCEEDED
    assert seen_baking and set(seen_baking) == {Status.RUNNING}
    assert bake.status is StepStatus.SUCCEEDED and f"BAKE_S={BAKE_S}" in (bake.detail or "")
    assert bake.started_at is not None and bake.finished_at is not None
    assert bake.finished_at - bake.started_at >= timedelta(seconds=BAKE_S)
    assert done.updated_at == bake.finished_at
    assert baking.calls["elasticbeanstalk.SwapEnvironmentCNAMEs"] == 1


def test_health_failing_during_the_bake_swaps_back_and_ends_rolled_back(baking: World) -> None:
    deployment_id = _post(baking)
    for _ in baking.run():
        d = baking.record(deployment_id)
        step = d.current_step
        if step is not None and step.name is StepName.BAKE and step.started_at is not None:
            if baking.clock.now - step.started_at >= timedelta(seconds=60):
                baking.broken_health[GREEN] = HttpCheck(url="", status=500)  # the new version breaks

    done = baking.record(deployment_id)
    assert done.status is Status.ROLLED_BACK
    assert "production degraded during the bake" in (done.error or "")
    assert "HTTP 500" in (done.error or "")
    assert done.step(StepName.BAKE).status is StepStatus.FAILED
    assert done.step(StepName.SWAP).status is StepStatus.ROLLED_BACK
    assert baking.prod_owner() == BLUE and baking.environments()[BLUE].version_label == OLD_LABEL
    assert baking.calls["elasticbeanstalk.SwapEnvironmentCNAMEs"] == 2


def test_beanstalk_health_turning_red_after_the_swap_is_caught_by_the_bake(baking: World) -> None:
    """fails-after-swap: the new production turns Red once the swap settles while its /health still answers
    (an instance failing that the load balancer's sample misses); verify passes, the bake sees Beanstalk's
    health and swaps back; the health event wakes it."""
    baking.be.set_fault("fails-after-swap")
    baking.broken_health[GREEN] = HttpCheck(url="", status=200, version=TAG)  # /health still answers
    deployment_id = _post(baking)

    baking.drain()

    done = baking.record(deployment_id)
    assert done.status is Status.ROLLED_BACK, done
    assert done.step(StepName.VERIFY).status is StepStatus.SUCCEEDED
    assert f"{GREEN} health is Red" in (done.error or "")
    assert baking.prod_owner() == BLUE
    bake = done.step(StepName.BAKE)
    assert bake.started_at is not None and bake.finished_at is not None
    assert bake.finished_at - bake.started_at < timedelta(seconds=BAKE_S)


def test_a_single_bad_check_is_not_a_degradation(baking: World) -> None:
    deployment_id = _post(baking)
    broke = False
    for _ in baking.run():
        d = baking.record(deployment_id)
        step = d.current_step
        in_bake = step is not None and step.name is StepName.BAKE and not d.finished
        if in_bake and not broke:
            baking.broken_health[GREEN] = HttpCheck(url="", error="connection reset")
            broke = True
        elif GREEN in baking.broken_health and d.bake_failures == 1:
            del baking.broken_health[GREEN]  # back after one bad check

    assert broke
    assert baking.record(deployment_id).status is Status.SUCCEEDED
