"""Single-use capabilities: a signed mutating request replayed within its 300 s window is refused (409),
on every mutating route; a one-click link looks on GET, acts once on POST, and is refused used (410),
expired or tampered (403)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from controller_harness import IMAGE, SECRET, World

from controller.client import capability, signing
from controller.core.model import Status

TAG = "1.0.42-3f2a1bc"
REPLAYED = "this request was already used"


def _replay(world: World, method: str, path: str, body: bytes) -> tuple[Any, Any]:
    """The same signed request twice (same timestamp, same signature), as an attacker who captured it."""
    ts = int(time.time())
    while (ts, method, path, body) in world._signed:
        ts += 1
    world._signed.add((ts, method, path, body))  # the world's own requests are signed anew
    headers = {"Content-Type": "application/json", **signing.signed_headers(SECRET, ts, method, path, body)}
    first = world.client.http.request(method, path, headers=headers, body=body)
    again = world.client.http.request(method, path, headers=headers, body=body)
    return first, again


def _held(world: World, tag: str = TAG) -> str:
    response = world.post_deployment(tag, promotion="manual")
    deployment_id = str(json.loads(response.body)["id"])
    for _ in world.run():
        if world.record(deployment_id).status is Status.AWAITING_PROMOTION:
            break
    assert world.record(deployment_id).status is Status.AWAITING_PROMOTION
    return deployment_id


def test_a_replayed_redeploy_starts_nothing(world: World) -> None:
    first = world.post_deployment(TAG)
    deployment_id = json.loads(first.body)["id"]
    world.drain()
    body = json.dumps({"image": IMAGE, "tag": TAG, "redeploy": True}).encode()

    made, replayed = _replay(world, "POST", "/deployments", body)

    assert made.status_code == 202 and json.loads(made.body)["attempt"] == 2
    assert replayed.status_code == 409 and REPLAYED in json.loads(replayed.body)["error"]
    world.drain()
    again = world.post_deployment(TAG, redeploy=True)  # a new signature: a new request
    assert json.loads(again.body)["attempt"] == 3
    assert deployment_id != json.loads(again.body)["id"]


def test_a_replayed_notification_is_refused_even_though_posting_is_idempotent(world: World) -> None:
    body = json.dumps({"image": IMAGE, "tag": TAG}).encode()
    made, replayed = _replay(world, "POST", "/deployments", body)

    assert (made.status_code, replayed.status_code) == (202, 409)
    assert world.post_deployment(TAG).status_code == 200  # signed anew: the existing deployment


@pytest.mark.parametrize("action", ["promote", "abort"])
def test_a_replayed_promote_or_abort_is_refused(world: World, action: str) -> None:
    deployment_id = _held(world)

    done, replayed = _replay(world, "POST", f"/deployments/{deployment_id}/{action}", b"{}")

    assert done.status_code == 202
    assert replayed.status_code == 409 and REPLAYED in json.loads(replayed.body)["error"]


def test_a_replayed_rollback_is_refused_and_swaps_once(world: World) -> None:
    response = world.post_deployment(TAG)
    deployment_id = json.loads(response.body)["id"]
    world.drain()
    world.clock.advance(120)
    swaps = world.calls["elasticbeanstalk.SwapEnvironmentCNAMEs"]

    done, replayed = _replay(world, "POST", f"/deployments/{deployment_id}/rollback", b"{}")

    assert done.status_code == 202
    assert replayed.status_code == 409 and REPLAYED in json.loads(replayed.body)["error"]
    assert world.calls["elasticbeanstalk.SwapEnvironmentCNAMEs"] == swaps + 1


def test_reads_may_be_repeated(world: World) -> None:
    world.post_deployment(TAG)
    first, again = _replay(world, "GET", "/deployments", b"")
    assert (first.status_code, again.status_code) == (200, 200)


def test_a_rejected_request_spends_nothing(world: World) -> None:
    """A malformed body (400) calls no AWS API: its signature is not recorded, and nothing starts."""
    first, again = _replay(world, "POST", "/deployments", b'{"image": "", "tag": "x"}')
    assert (first.status_code, again.status_code) == (400, 400)
    assert world.table_items() == []


# --- one-click links ------------------------------------------------------------------------------------


def _link(action: str, deployment_id: str, ttl: int = 600, secret: str = SECRET) -> str:
    return capability.mint(secret, action, deployment_id, int(time.time()) + ttl)


def _get(world: World, token: str) -> Any:
    return world.client.http.get(f"/actions/{token}")


def _post(world: World, token: str) -> Any:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return world.client.http.post(f"/actions/{token}", headers=headers, body=b"confirm=1")


def test_a_link_get_shows_what_it_would_do_and_changes_nothing(world: World) -> None:
    deployment_id = _held(world)
    token = _link("promote", deployment_id)
    before = world.record(deployment_id)

    page = _get(world, token)
    _get(world, token)  # an unfurler, a link scanner

    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    html = page.body.decode()
    assert f"Promote deployment {deployment_id}?" in html
    assert "1.0.41-9be07d2" in html and TAG in html  # production's and pre-production's versions
    assert "<form method=post>" in html
    assert world.record(deployment_id) == before
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"


def test_a_link_post_promotes_once_and_is_used_after(world: World, controller_log: Any) -> None:
    deployment_id = _held(world)
    token = _link("promote", deployment_id)

    done = _post(world, token)
    assert done.status_code == 202, done.body
    assert "promoted" in done.body.decode()
    world.drain()
    assert world.record(deployment_id).status is Status.SUCCEEDED

    assert _post(world, token).status_code == 410
    assert _get(world, token).status_code == 410
    uses = [json.loads(r.getMessage()) for r in controller_log.records if '"action_link"' in r.getMessage()]
    assert [(u["method"], u["status"], u["deployment_id"]) for u in uses] == [
        ("POST", 202, deployment_id),
        ("POST", 410, deployment_id),
        ("GET", 410, deployment_id),
    ]


def test_a_link_whose_action_the_state_no_longer_allows_is_409(world: World) -> None:
    deployment_id = _held(world)
    assert _post(world, _link("abort", deployment_id)).status_code == 202
    world.drain()

    late = _post(world, _link("promote", deployment_id))

    assert late.status_code == 409 and "awaiting_promotion" in late.body.decode()
    assert world.record(deployment_id).status is Status.FAILED


def test_an_expired_link_is_403(world: World) -> None:
    deployment_id = _held(world)
    token = _link("promote", deployment_id, ttl=-1)

    assert _get(world, token).status_code == 403
    refused = _post(world, token)
    assert refused.status_code == 403 and "expired" in refused.body.decode()
    assert world.record(deployment_id).status is Status.AWAITING_PROMOTION


def test_a_tampered_link_is_403(world: World) -> None:
    deployment_id = _held(world)
    token = _link("abort", deployment_id)
    payload, mac = token.split(".")
    forged_payload = capability._b64(
        json.dumps({"a": "promote", "d": deployment_id, "e": 2**40, "n": "00"}).encode()
    )
    for forged in (
        f"{forged_payload}.{mac}",  # another action, same signature
        f"{payload}.{mac[:-2]}{'AA' if mac[-2:] != 'AA' else 'BB'}",  # signature changed
        _link("promote", deployment_id, secret="not-the-secret"),
        capability.mint(SECRET, capability.DASHBOARD, deployment_id, int(time.time()) + 600),  # not a link
        "not-a-token",
    ):
        assert _post(world, forged).status_code == 403, forged
        assert _get(world, forged).status_code == 403, forged
    assert world.record(deployment_id).status is Status.AWAITING_PROMOTION


def test_a_dashboard_needs_its_own_unexpired_token(world: World) -> None:
    world.post_deployment(TAG)
    good = capability.mint(SECRET, capability.DASHBOARD, "", int(time.time()) + 600)

    assert world.client.http.get(f"/dashboard?token={good}").status_code == 200
    expired = capability.mint(SECRET, capability.DASHBOARD, "", int(time.time()) - 1)
    assert world.client.http.get(f"/dashboard?token={expired}").status_code == 403
    link = _link("promote", "d-0000000000000000")
    assert world.client.http.get(f"/dashboard?token={link}").status_code == 403
    assert world.client.http.get("/dashboard").status_code == 403
