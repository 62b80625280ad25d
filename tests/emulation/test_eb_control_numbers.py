"""The controls' numbers are finite and bounded (issue 23, item 10): NaN, Infinity or a clock moved by 3e11 s
are refused with a clear message (400 over HTTP, ValueError in-process), and the emulation goes on
answering as before. JSON allows neither NaN nor Infinity, but Python's parser (and so a control server
written in it) accepts both: they must not slip through."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from .harness import Aws
from .test_eb_control_api import MOCK_BASE, control

NAN, INF = float("nan"), float("inf")

REFUSED: list[tuple[str, dict[str, Any], str]] = [
    ("timings", {"launch_s": NAN}, "timing launch_s must be a finite number of seconds"),
    ("timings", {"update_s": INF}, "timing update_s must be a finite number of seconds"),
    ("timings", {"update_s": 1e12}, "timing update_s must be at most"),
    ("clock", {"advance_s": NAN}, "advance_s must be a finite number of seconds"),
    ("clock", {"advance_s": INF}, "advance_s must be a finite number of seconds"),
    ("clock", {"advance_s": -INF}, "advance_s must be a finite number of seconds"),
    ("clock", {"advance_s": 3e11}, "advance_s must be at most"),
    ("event-delivery", {"delay_s": NAN}, "delay_s must be a finite number of seconds"),
    ("event-delivery", {"delay_s": INF}, "delay_s must be a finite number of seconds"),
    ("event-delivery", {"drop": NAN}, "drop must be a share within 0..1"),
    ("throttling", {"rate": NAN}, "throttling rate must be within 0..1"),
    ("version-quota", {"quota": 10**30}, "the version quota must be at least 0 and at most"),
]


@pytest.mark.parametrize(("path", "body", "message"), REFUSED, ids=[f"{p} {b}" for p, b, _ in REFUSED])
def test_a_number_that_is_not_finite_or_too_large_is_refused_and_changes_nothing(
    pair: Aws, path: str, body: dict[str, Any], message: str
) -> None:
    before = control(pair, "GET", "state").json()

    answer = _post_as_python_writes_it(pair, path, body)

    assert answer.status_code == 400, answer.text
    assert message in answer.json()["error"]
    after = control(pair, "GET", "state").json()
    assert after == before
    described = pair.eb.describe_environments(ApplicationName="deliverypipeline")["Environments"]
    assert {e["EnvironmentName"] for e in described} == {"blue-env", "green-env"}


def _post_as_python_writes_it(aws: Aws, path: str, body: dict[str, Any]) -> requests.Response:
    """json.dumps writes NaN and Infinity as bare words (requests' json= refuses them)."""
    return requests.post(
        f"{aws.endpoint_url or MOCK_BASE}/moto-api/beanstalk/{path}",
        data=json.dumps(body),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )


def test_in_process_the_same_numbers_are_refused_with_the_same_reasons(pair: Aws) -> None:
    with pytest.raises(ValueError, match="advance_s must be at most"):
        pair.be.move_clock(3e11)
    with pytest.raises(ValueError, match="advance_s must be a finite number of seconds"):
        pair.be.move_clock(NAN)
    with pytest.raises(ValueError, match="timing update_s must be a finite number of seconds"):
        pair.be.set_timings(update_s=INF)
    with pytest.raises(ValueError, match="delay_s must be a finite number of seconds"):
        pair.be.set_event_delivery(delay_s=INF)
    pair.be.move_clock(3600)  # a sane step still moves it
    assert pair.eb.describe_environments(ApplicationName="deliverypipeline")["Environments"]


def test_the_clock_is_never_moved_past_what_a_date_can_hold(pair: Aws) -> None:
    """Steps within the bound, one after the other, still cannot carry the clock beyond a date AWS could
    answer: the step that would is refused and the clock stays where it was."""
    be = pair.be  # (each `pair.be` puts the test's fake clock back)
    moved = 0
    with pytest.raises(ValueError, match="would move the emulation's clock past"):
        for _ in range(10_000):
            be.move_clock(be.MAX_CLOCK_STEP_S)
            moved += 1
    assert moved > 0
    assert be.clock().year < 9000
    assert pair.eb.describe_environments(ApplicationName="deliverypipeline")["Environments"]
