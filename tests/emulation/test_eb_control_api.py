"""The controls over HTTP (/moto-api/beanstalk/...), against the server and under mock_aws alike."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from .harness import Aws

MOCK_BASE = "http://motoapi.amazonaws.com"  # moto's own API under mock_aws


def control(aws: Aws, method: str, path: str, body: dict[str, Any] | None = None) -> requests.Response:
    base = aws.endpoint_url or MOCK_BASE
    return requests.request(method, f"{base}/moto-api/beanstalk/{path}", json=body, timeout=10)


def test_state_shows_environments_faults_and_timings(pair: Aws) -> None:
    state = control(pair, "GET", "state").json()

    assert state["environments"]["blue-env"]["status"] == "Ready"
    assert state["environments"]["green-env"]["cname"] == "app-pre.us-east-1.elasticbeanstalk.com"
    assert state["faults"] == []
    assert state["timings"]["launch_s"] == 240.0


def test_a_fault_set_over_http_hits_the_next_call(pair: Aws) -> None:
    answer = control(pair, "POST", "faults", {"faults": ["busy"]})

    with pytest.raises(ClientError) as caught:
        pair.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")

    assert answer.status_code == 200 and answer.json()["faults"] == ["busy"]
    assert caught.value.response["Error"]["Message"].endswith("Must be Ready.")
    assert control(pair, "GET", "state").json()["faults"] == []  # one-shot


def test_faults_are_cleared_by_delete(pair: Aws) -> None:
    control(pair, "POST", "faults", {"faults": ["stays-red", "dns-lag"]})

    cleared = control(pair, "DELETE", "faults", {"faults": ["dns-lag"]}).json()
    everything = control(pair, "DELETE", "faults").json()

    assert cleared["faults"] == ["stays-red"]
    assert everything["faults"] == []


def test_an_outcome_set_over_http_decides_the_next_update(pair: Aws) -> None:
    control(pair, "POST", "outcomes", {"environment": "green-env", "outcome": "Red"})
    pair.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")

    settled = control(pair, "POST", "settle", {"environment": "green-env"}).json()

    assert settled["environments"]["green-env"]["health"] == "Red"
    assert settled["environments"]["green-env"]["version_label"] == "v1"


def test_the_clock_moves_forward_and_settles_what_is_due(aws: Aws) -> None:
    control(aws, "POST", "timings", {"launch_s": 120})
    aws.eb.create_environment(
        ApplicationName="deliverypipeline", EnvironmentName="blue-env", SolutionStackName=STACK
    )

    early = control(aws, "POST", "clock", {"advance_s": 119}).json()
    late = control(aws, "POST", "clock", {"advance_s": 1}).json()

    assert early["environments"]["blue-env"]["status"] == "Launching"
    assert late["environments"]["blue-env"]["status"] == "Ready"


@pytest.mark.parametrize(
    ("method", "path", "body", "message"),
    [
        ("POST", "faults", {"faults": ["nope"]}, "unknown fault 'nope'"),
        ("POST", "faults", {"faults": "busy"}, '"faults" must be a list'),
        ("POST", "outcomes", {"environment": "green-env", "outcome": "Purple"}, "unknown outcome 'Purple'"),
        ("POST", "timings", {"launch_s": -1}, "timing launch_s must be a number of seconds >= 0"),
        ("POST", "timings", {"lunch_s": 1}, "unknown timing 'lunch_s'"),
        ("POST", "clock", {}, '"advance_s" is required'),
        ("GET", "faults", None, "accepts POST or DELETE, not GET"),
    ],
)
def test_bad_requests_are_refused_with_the_reason_and_change_nothing(
    pair: Aws, method: str, path: str, body: dict[str, Any] | None, message: str
) -> None:
    before = control(pair, "GET", "state").json()

    answer = control(pair, method, path, body)

    assert answer.status_code in (400, 405)
    assert message in answer.json()["error"]
    after = control(pair, "GET", "state").json()
    assert (after["faults"], after["timings"], after["outcomes"]) == (
        before["faults"],
        before["timings"],
        before["outcomes"],
    )


def test_a_body_that_is_not_json_is_refused(pair: Aws) -> None:
    base = pair.endpoint_url or MOCK_BASE
    answer = requests.post(
        f"{base}/moto-api/beanstalk/faults",
        data=b"busy",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )

    assert answer.status_code == 400
    assert "not JSON" in answer.json()["error"]


STACK = "64bit Amazon Linux 2023 v4.6.0 running Docker"


def test_settling_health_and_every_deployment_are_reachable_over_http(pair: Aws) -> None:
    control(pair, "POST", "settling-health", {"color": "Yellow"})
    state = control(pair, "POST", "faults", {"faults": ["mutation-5xx"], "every_deployment": True}).json()

    assert state["settling_health"] == "Yellow"
    assert state["every_deployment"] == ["mutation-5xx"]
    assert control(pair, "POST", "settling-health", {"color": "Blue"}).status_code == 400


def test_event_delivery_is_chosen_over_http_and_checked(pair: Aws) -> None:
    chosen = control(
        pair, "POST", "event-delivery", {"drop": 0.5, "duplicate": 0.25, "delay_s": 30, "seed": 1}
    )
    refused = control(pair, "POST", "event-delivery", {"drop": 2})

    assert chosen.json()["event_delivery"] == {"drop": 0.5, "duplicate": 0.25, "delay_s": 30.0}
    assert refused.status_code == 400 and "drop must be a share within 0..1" in refused.json()["error"]
