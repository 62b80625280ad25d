"""The standby's readiness to take production back (`rollback_ready` and `why`), pure and through
`GET /environments`."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from controller_builders import BLUE_CNAME, CONFIG, OLD, PROD_CNAME, TAG, after_swap, env, running_at
from controller_harness import BLUE, GREEN, OLD_LABEL, World

from controller.core.model import Status, StepName
from controller.core.standby import environments_view, rollback_readiness
from moto_ext import Outcome


def _latest() -> Any:
    return dataclasses.replace(running_at(StepName.BAKE), status=Status.SUCCEEDED)


READINESS: list[tuple[str, Any, Any, str | None, str | None]] = [
    (
        "Ready, Green, on the previous version, nothing running -> ready",
        env("shop-blue", BLUE_CNAME),
        _latest(),
        None,
        None,
    ),
    (
        "no succeeded deployment -> not ready",
        env("shop-blue", BLUE_CNAME),
        None,
        None,
        "no succeeded deployment",
    ),
    (
        "a deployment in progress -> not ready",
        env("shop-blue", BLUE_CNAME),
        _latest(),
        "d-0123456789abcdef",
        "deployment d-0123456789abcdef is in progress",
    ),
    (
        "mid-update (a platform update, a deployment) -> not ready",
        env("shop-blue", BLUE_CNAME, "Updating"),
        _latest(),
        None,
        "shop-blue is Updating: an operation is under way",
    ),
    (
        "Red after a failed update -> not ready",
        env("shop-blue", BLUE_CNAME, health="Red"),
        _latest(),
        None,
        "shop-blue health is Red (ACCEPTED_HEALTH=Green)",
    ),
    (
        "Yellow while ACCEPTED_HEALTH is Green -> not ready",
        env("shop-blue", BLUE_CNAME, health="Yellow"),
        _latest(),
        None,
        "health is Yellow",
    ),
    (
        "redeployed with another version (drift) -> not ready",
        env("shop-blue", BLUE_CNAME, label="1.0.39"),
        _latest(),
        None,
        f"shop-blue runs 1.0.39, not {OLD}, the version production ran before {TAG}",
    ),
    (
        "the standby is not the environment the deployment took production from -> not ready",
        env("shop-red", BLUE_CNAME),
        _latest(),
        None,
        "took production from shop-blue, but the standby is shop-red",
    ),
]


@pytest.mark.parametrize(
    ("standby", "latest", "running", "why"), [r[1:] for r in READINESS], ids=[r[0] for r in READINESS]
)
def test_rollback_readiness(standby: Any, latest: Any, running: str | None, why: str | None) -> None:
    readiness = rollback_readiness(standby, latest, running, CONFIG)
    assert readiness.ready is (why is None)
    if why is not None:
        assert readiness.why is not None and why in readiness.why, readiness.why


def test_why_gives_every_reason_the_standby_state_first() -> None:
    red = env("shop-blue", BLUE_CNAME, health="Red", label="1.0.39")

    readiness = rollback_readiness(red, _latest(), "d-0123456789abcdef", CONFIG)

    assert readiness.why == (
        f"shop-blue health is Red (ACCEPTED_HEALTH=Green); shop-blue runs 1.0.39, not {OLD}, the version "
        f"production ran before {TAG}; deployment d-0123456789abcdef is in progress"
    )


def test_the_view_names_production_and_the_standby_with_its_readiness() -> None:
    view = environments_view(after_swap(), _latest(), None, CONFIG)

    assert view["production"] == {
        "name": "shop-green",
        "version": TAG,
        "health": "Green",
        "status": "Ready",
        "cname": PROD_CNAME,
        "url": f"http://{PROD_CNAME}/",
    }
    assert view["standby"]["name"] == "shop-blue" and view["standby"]["version"] == OLD
    assert (view["standby"]["rollback_ready"], view["standby"]["why"]) == (True, None)
    assert view["latest_succeeded"] == _latest().id


def test_without_a_production_environment_the_view_says_why() -> None:
    view = environments_view((env("shop-blue", BLUE_CNAME),), _latest(), None, CONFIG)

    assert view["production"]["name"] is None
    assert view["standby"]["rollback_ready"] is False
    assert "no live web-server environment owns the production CNAME" in view["standby"]["why"]


# --- GET /environments ---------------------------------------------------------------------------------


def _environments(world: World) -> dict[str, Any]:
    response = world.request("GET", "/environments")
    assert response.status_code == 200, response.body
    return dict(json.loads(response.body))


def test_get_environments_after_a_deployment_and_after_a_failed_one(world: World) -> None:
    deployed = json.loads(world.post_deployment("1.0.42").body)["id"]
    world.drain()

    ready = _environments(world)
    assert (ready["production"]["name"], ready["production"]["version"]) == (GREEN, "1.0.42")
    assert (ready["standby"]["name"], ready["standby"]["version"]) == (BLUE, OLD_LABEL)
    assert ready["standby"]["rollback_ready"] is True and ready["latest_succeeded"] == deployed

    world.be.set_outcome(BLUE, Outcome.RED)
    world.post_deployment("1.0.43-broken")
    world.drain()
    broken = _environments(world)

    assert broken["production"]["name"] == GREEN, "the failed deployment never touched production"
    assert broken["standby"]["rollback_ready"] is False
    assert broken["standby"]["health"] == "Red"
    assert f"{BLUE} health is Red" in broken["standby"]["why"]


def test_get_environments_is_signed(world: World) -> None:
    unsigned = world.client.http.request("GET", "/environments", headers={})
    assert unsigned.status_code == 401
