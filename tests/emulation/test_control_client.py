"""moto_ext.ControlClient: the HTTP controls of a served emulation, from another process's point of view
(here the same process, through HTTP only): each change shows in the state it answers, refusals are errors."""

from __future__ import annotations

from typing import Any

import pytest

from moto_ext import ControlClient, ControlError, Fault, Outcome
from moto_ext.pytest_plugin import Emulation

STACK = "64bit Amazon Linux 2023 v4.6.0 running Docker"


@pytest.fixture
def served(eb_server: Emulation) -> tuple[ControlClient, Any]:
    eb = eb_server.client("elasticbeanstalk")
    eb.create_application(ApplicationName="app")
    return eb_server.controls, eb


def test_timings_and_the_clock_decide_when_an_environment_is_ready(served: tuple[ControlClient, Any]) -> None:
    controls, eb = served
    assert controls.set_timings(launch_s=60)["timings"]["launch_s"] == 60
    eb.create_environment(ApplicationName="app", EnvironmentName="blue-env", SolutionStackName=STACK)
    assert controls.state()["environments"]["blue-env"]["status"] == "Launching"

    state = controls.move_clock(61)

    assert state["environments"]["blue-env"]["status"] == "Ready"


def test_settle_and_an_outcome_decide_how_an_update_ends(served: tuple[ControlClient, Any]) -> None:
    controls, eb = served
    eb.create_environment(ApplicationName="app", EnvironmentName="blue-env", SolutionStackName=STACK)
    assert controls.settle("blue-env")["environments"]["blue-env"]["health"] == "Green"
    eb.create_application_version(ApplicationName="app", VersionLabel="v2")

    assert controls.set_outcome("blue-env", Outcome.RED)["outcomes"] == {"blue-env": "Red"}
    eb.update_environment(EnvironmentName="blue-env", VersionLabel="v2")
    after = controls.settle()["environments"]["blue-env"]

    assert (after["status"], after["health"], after["version_label"]) == ("Ready", "Red", None)


def test_faults_are_armed_by_name_or_value_and_cleared(served: tuple[ControlClient, Any]) -> None:
    controls, _ = served

    state = controls.arm("busy")
    controls.arm(Fault.DNS_LAG)

    assert state["every_deployment"] == ["busy"]  # a one-shot fault hits once per version by default
    assert controls.active() == {Fault.BUSY, Fault.DNS_LAG}
    assert controls.clear(Fault.DNS_LAG)["faults"] == ["busy"]
    assert controls.clear()["faults"] == []
    assert controls.arm(Fault.BUSY, every_deployment=False)["every_deployment"] == []


def test_a_refusal_is_an_error_that_says_why(served: tuple[ControlClient, Any]) -> None:
    controls, _ = served

    refused = r"POST /moto-api/beanstalk/timings: 400 unknown timing 'boot_s'; known timings: dns_ttl_s, "
    with pytest.raises(ControlError, match=refused):
        controls.set_timings(boot_s=1)
    with pytest.raises(ValueError, match="unknown fault 'bussy'"):
        controls.arm("bussy")


def test_reset_forgets_everything(served: tuple[ControlClient, Any]) -> None:
    controls, eb = served
    eb.create_environment(ApplicationName="app", EnvironmentName="blue-env", SolutionStackName=STACK)
    controls.arm(Fault.THROTTLE)

    controls.reset()

    state = controls.state()
    assert (state["environments"], state["faults"]) == ({}, [])


def test_an_emulation_that_does_not_answer_is_an_error() -> None:
    with pytest.raises(ControlError, match="GET /moto-api/beanstalk/state: "):
        ControlClient("http://127.0.0.1:9").state()
