"""The HTTP surface: authentication, input validation, idempotency, listing. A rejected request starts
nothing and calls no AWS API (the signing secret's SSM read aside)."""

from __future__ import annotations

import json

import pytest
from controller_harness import IMAGE, OLD_LABEL, SECRET, World

TAG = "1.0.42-3f2a1bc"
GOOD = json.dumps({"image": IMAGE, "tag": TAG}).encode()


def _nothing_started(world: World) -> None:
    assert world.table_items() == []
    assert world.bucket_keys() == [f"{world.rt.config.eb_application}/{OLD_LABEL}.zip"]
    assert world.versions() == [OLD_LABEL]
    assert world.queue.sent == []
    for service in ("dynamodb", "elasticbeanstalk", "s3", "sqs"):
        assert world.aws_calls(service) == 0, dict(world.calls)


REJECTIONS = {
    "missing signature": (401, dict(headers={"X-Pipeline-Signature": ""})),
    "wrong secret": (401, dict(key="not-the-secret")),
    "stale timestamp": (401, dict(skew=-400)),
    "future timestamp": (401, dict(skew=400)),
    "signed for another path": (401, dict(sign_path="/deployments/d-other")),
    "malformed signature": (401, dict(headers={"X-Pipeline-Signature": "md5=abc"})),
}


@pytest.mark.parametrize("case", list(REJECTIONS))
def test_unauthenticated_requests_get_401_and_start_nothing(world: World, case: str) -> None:
    status, options = REJECTIONS[case]
    response = world.request("POST", "/deployments", GOOD, **options)
    assert response.status_code == status, response.body
    assert json.loads(response.body)["error"]
    _nothing_started(world)


BAD_BODIES = {
    "malformed JSON": (400, b'{"image": ', "not valid JSON"),
    "not an object": (400, b"[1, 2]", "JSON object"),
    "missing image": (400, json.dumps({"tag": TAG}).encode(), "missing field: image"),
    "missing tag": (400, json.dumps({"image": IMAGE}).encode(), "missing field: tag"),
    "bad tag": (400, json.dumps({"image": IMAGE, "tag": "bad tag!"}).encode(), "invalid Docker tag"),
    "image with a tag": (400, json.dumps({"image": f"{IMAGE}:1.0", "tag": TAG}).encode(), "invalid image"),
    "tag too long for a label": (400, json.dumps({"image": IMAGE, "tag": "a" * 101}).encode(), "100"),
    "20 KB body": (413, json.dumps({"image": IMAGE, "tag": TAG, "pad": "x" * 20_000}).encode(), "limit"),
    "unknown promotion": (
        400,
        json.dumps({"image": IMAGE, "tag": TAG, "promotion": "later"}).encode(),
        "promotion must be 'auto' or 'manual'",
    ),
    "redeploy not a boolean": (
        400,
        json.dumps({"image": IMAGE, "tag": TAG, "redeploy": "yes"}).encode(),
        "redeploy must be true or false",
    ),
    "tag with a trailing newline": (
        400,
        json.dumps({"image": IMAGE, "tag": TAG + "\n"}).encode(),
        "invalid Docker tag",
    ),
    "image with a trailing newline": (
        400,
        json.dumps({"image": IMAGE + "\n", "tag": TAG}).encode(),
        "invalid image",
    ),
    "commit with a trailing newline": (
        400,
        json.dumps({"image": IMAGE, "tag": TAG, "commit": "3f2a1bc\n"}).encode(),
        "commit must be a hex",
    ),
    "build_url with a space": (
        400,
        json.dumps({"image": IMAGE, "tag": TAG, "build_url": "https://ci.example/1 x"}).encode(),
        "build_url",
    ),
    "JSON nested too deeply": (400, b"[" * 10_000, "nested too deeply"),
}


@pytest.mark.parametrize("case", list(BAD_BODIES))
def test_bad_input_is_rejected_with_a_specific_message_and_starts_nothing(world: World, case: str) -> None:
    status, body, message = BAD_BODIES[case]
    response = world.request("POST", "/deployments", body)
    assert response.status_code == status, response.body
    assert message in json.loads(response.body)["error"]
    _nothing_started(world)


@pytest.mark.parametrize("path", ["/deployments", "/deployments/d-0123456789abcdef/rollback"])
def test_a_body_that_is_not_json_is_415_in_the_apis_error_shape(world: World, path: str) -> None:
    """Chalice refuses the Content-Type before any view runs, in its own {"Code", "Message"}: the API
    answers {"error", "status"} like every other error."""
    response = world.request("POST", path, GOOD, headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert response.headers["Content-Type"] == "application/json"
    assert json.loads(response.body) == {
        "error": "Content-Type must be application/json, not 'text/plain'",
        "status": 415,
    }
    _nothing_started(world)


def test_health_needs_no_signature(world: World) -> None:
    response = world.client.http.get("/health")
    assert response.status_code == 200
    assert json.loads(response.body) == {"status": "ok"}


def test_reads_need_a_signature_too(world: World) -> None:
    assert world.client.http.get("/deployments").status_code == 401
    assert world.client.http.get("/deployments/d-x").status_code == 401


def test_posting_the_same_image_and_tag_again_returns_the_existing_deployment(world: World) -> None:
    first = world.request("POST", "/deployments", GOOD)
    again = world.request("POST", "/deployments", GOOD)
    assert (first.status_code, again.status_code) == (202, 200)
    assert json.loads(first.body)["id"] == json.loads(again.body)["id"]
    records = [i for i in world.table_items() if not i["pk"]["S"].startswith("used#")]  # signatures spent
    assert len(records) == 2  # the deployment and the application's lease item


def test_an_unknown_deployment_is_404(world: World) -> None:
    response = world.request("GET", "/deployments/d-0000000000000000")
    assert response.status_code == 404
    assert "d-0000000000000000" in json.loads(response.body)["error"]


def test_list_is_newest_first_and_honours_limit(world: World) -> None:
    ids = []
    for n in range(3):
        ids.append(json.loads(world.post_deployment(f"1.0.{50 + n}").body)["id"])
        world.clock.advance(1)
    listed = json.loads(world.request("GET", "/deployments?limit=2").body)["deployments"]
    assert [d["id"] for d in listed] == [ids[2], ids[1]]
    for bad in ("0", "abc", "101", "\u00b2"):
        response = world.request("GET", f"/deployments?limit={bad}")
        assert response.status_code == 400, (bad, response.body)
        assert "limit must be a whole number" in json.loads(response.body)["error"]


def test_the_signed_path_is_the_route_path_with_parameters(world: World) -> None:
    deployment_id = json.loads(world.request("POST", "/deployments", GOOD).body)["id"]
    ok = world.request("GET", f"/deployments/{deployment_id}")
    assert ok.status_code == 200
    template = world.request("GET", f"/deployments/{deployment_id}", sign_path="/deployments/{deployment_id}")
    assert template.status_code == 401


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_id_that_cannot_be_one_of_ours_is_404_without_asking_aws(world: World, method: str) -> None:
    """Ids are `d-` and 16 hex digits; a 3000-character one would exceed DynamoDB's key size (500 on AWS)."""
    long_id = "d-" + "a" * 3000
    path = f"/deployments/{long_id}" + ("/rollback" if method == "POST" else "")
    response = world.request(method, path)
    assert response.status_code == 404
    assert "no deployment d-aaaa" in json.loads(response.body)["error"]
    assert world.aws_calls("dynamodb") == 0 and world.aws_calls("elasticbeanstalk") == 0


def test_a_signature_replayed_with_a_fresh_timestamp_is_rejected(world: World) -> None:
    """The timestamp is part of the signed message: an old signature under a new timestamp does not verify."""
    import time as clock

    from controller.client import signing

    old = int(clock.time()) - 200
    signature = signing.sign(SECRET, old, "POST", "/deployments", GOOD)
    headers = {
        "Content-Type": "application/json",
        signing.TIMESTAMP_HEADER: str(int(clock.time())),
        signing.SIGNATURE_HEADER: signature,
    }
    response = world.client.http.request("POST", "/deployments", headers=headers, body=GOOD)
    assert response.status_code == 401
    assert json.loads(response.body)["error"] == "signature does not match"
    _nothing_started(world)
