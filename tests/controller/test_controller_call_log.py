"""Every AWS call the controller makes is one `aws_call` log line, with the deployment a tick works on:
what a deployment cost in calls can be read back from the function's logs (the rehearsal does)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from controller_harness import World
from moto import mock_aws

from controller.shell import clients, logline


def _lines(log: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(record.getMessage()) for record in log.records if record.name == logline.LOGGER]


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield clients.new_session()


def test_an_answered_call_is_logged_with_its_status_and_deployment(
    session: Any, controller_log: pytest.LogCaptureFixture
) -> None:
    eb = clients.for_reads(session, "elasticbeanstalk")

    with logline.about("d-0123456789abcdef"):
        eb.describe_applications()
    eb.describe_applications()

    calls = [line for line in _lines(controller_log) if line["event"] == "aws_call"]
    assert calls == [
        {
            "event": "aws_call",
            "service": "elasticbeanstalk",
            "operation": "DescribeApplications",
            "status": 200,
            "deployment_id": "d-0123456789abcdef",
        },
        {
            "event": "aws_call",
            "service": "elasticbeanstalk",
            "operation": "DescribeApplications",
            "status": 200,
            "deployment_id": None,
        },
    ]


def test_a_refused_mutating_call_is_logged_with_its_error_status(
    session: Any, controller_log: pytest.LogCaptureFixture
) -> None:
    from botocore.exceptions import ClientError

    eb = clients.single_attempt(session, "elasticbeanstalk")

    with logline.about("d-1"), pytest.raises(ClientError):
        eb.update_environment(EnvironmentName="nowhere", VersionLabel="v1")

    calls = [line for line in _lines(controller_log) if line["event"] == "aws_call"]
    assert [(c["operation"], c["status"], c["deployment_id"]) for c in calls] == [
        ("UpdateEnvironment", 400, "d-1")
    ]


def test_a_call_that_gets_no_answer_is_logged_with_the_error(
    controller_log: pytest.LogCaptureFixture,
) -> None:
    import boto3
    from botocore.exceptions import EndpointConnectionError

    session = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
    s3 = clients.single_attempt(session, "s3")
    s3._endpoint.host = "http://127.0.0.1:9"  # nothing listens: the connection is refused

    with pytest.raises(EndpointConnectionError):
        s3.list_buckets()

    calls = [line for line in _lines(controller_log) if line["event"] == "aws_call"]
    assert [(c["service"], c["operation"], c["status"]) for c in calls] == [
        ("s3", "ListBuckets", "EndpointConnectionError")
    ]


def test_a_deployment_s_calls_are_logged_as_its_own(
    controller_log: pytest.LogCaptureFixture, world: World
) -> None:
    posted = json.loads(world.post_deployment("1.0.42-3f2a1bc").body)

    world.drain()

    calls = [line for line in _lines(controller_log) if line["event"] == "aws_call"]
    mine = [(c["service"], c["operation"]) for c in calls if c["deployment_id"] == posted["id"]]
    assert ("elasticbeanstalk", "CreateApplicationVersion") in mine
    assert ("elasticbeanstalk", "UpdateEnvironment") in mine
    assert mine.count(("elasticbeanstalk", "SwapEnvironmentCNAMEs")) == 1


def test_a_rollback_request_s_calls_are_logged_as_the_deployment_s(
    controller_log: pytest.LogCaptureFixture, world: World
) -> None:
    """The swap back is made by the API's request, not by a tick: it is still the deployment's call."""
    first = json.loads(world.post_deployment("1.0.42-3f2a1bc").body)
    world.drain()
    second = json.loads(world.post_deployment("1.0.43-4a5b6c7").body)
    world.drain()
    controller_log.clear()

    answered = world.request("POST", f"/deployments/{second['id']}/rollback", b"")

    assert answered.status_code == 202, answered.body
    calls = [line for line in _lines(controller_log) if line["event"] == "aws_call"]
    swaps = [c for c in calls if c["operation"] == "SwapEnvironmentCNAMEs"]
    assert [c["deployment_id"] for c in swaps] == [second["id"]]
    assert first["id"] != second["id"]
