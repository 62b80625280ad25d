"""The controller's GitHub calls, judged by GitHub's published REST API description (npm @octokit/openapi,
fetched by `make github-openapi` into .artifacts) with openapi-core, not by our own idea of the API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from controller_harness import BLUE, ROOT, World
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest
from receiver import Receiver

from controller.core.model import Status
from tests.prerequisites import unavailable

VERSION = next(
    line.split(":=")[1].strip()
    for line in (ROOT / "Makefile").read_text().splitlines()
    if line.startswith("OCTOKIT_OPENAPI_VERSION")
)
DESCRIPTION = ROOT / ".artifacts" / f"octokit-openapi-{VERSION}" / "api.github.com.deref.json"
PATHS = ("/repos/{owner}/{repo}/deployments", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses")


@pytest.fixture(scope="module")
def github_api() -> dict[str, Any]:
    """The two operations the controller calls, as GitHub describes them."""
    if not Path(DESCRIPTION).exists():
        unavailable(f"{DESCRIPTION} is missing: run `make github-openapi`")
    full = json.loads(DESCRIPTION.read_text())
    made = {"201": {"description": "made"}}
    operations = {p: {"post": {**full["paths"][p]["post"], "responses": made}} for p in PATHS}
    return {"openapi": full["openapi"], "info": full["info"], "paths": operations}


def _judge(spec: dict[str, Any], receiver: Receiver) -> list[str]:
    api = OpenAPI.from_dict({**spec, "servers": [{"url": receiver.url}]})
    judged = []
    for r in receiver.github():
        data = json.dumps(r.body).encode()
        request = MockRequest(receiver.url, "post", r.path, headers=r.headers, data=data)
        api.validate_request(request)  # raises, naming what GitHub's description refuses
        judged.append(r.path.rsplit("/", 1)[-1])
    return judged


def test_every_github_call_of_a_held_promoted_and_a_failed_deployment_is_valid(
    told_world: World, receiver: Receiver, github_api: dict[str, Any]
) -> None:
    commit, repository = "3f2a1bc0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6", "acme/deliverypipeline"
    held = told_world.post_deployment("1.0.42", commit=commit, repository=repository, promotion="manual")
    held_id = json.loads(held.body)["id"]
    for _ in told_world.run():
        if told_world.record(held_id).status is Status.AWAITING_PROMOTION:
            break
    told_world.request("POST", f"/deployments/{held_id}/promote", b"{}")
    told_world.drain()
    told_world.broken_health[BLUE] = told_world.http_get("http://nowhere/")  # pre-production now
    told_world.post_deployment("1.0.43", commit=commit, repository=repository)
    told_world.drain()

    judged = _judge(github_api, receiver)
    assert judged.count("deployments") == 3  # production (twice) and the held one's staging
    assert judged.count("statuses") == 6
    states = [r.body["state"] for r in receiver.github() if "state" in r.body]
    assert set(states) == {"in_progress", "success", "failure"}


def test_a_request_github_would_refuse_is_caught(github_api: dict[str, Any], receiver: Receiver) -> None:
    """The judge can fail: a status with a state GitHub does not know."""
    from openapi_core.validation.request.exceptions import RequestValidationError

    api = OpenAPI.from_dict({**github_api, "servers": [{"url": receiver.url}]})
    body = json.dumps({"state": "rolled_back"}).encode()
    request = MockRequest(receiver.url, "post", "/repos/acme/app/deployments/1/statuses", data=body)
    with pytest.raises(RequestValidationError):
        api.validate_request(request)
