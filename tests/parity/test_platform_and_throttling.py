"""Refusals the controller and the provisioning meet before any update: a solution stack AWS never had, a
superseded version of a platform branch (AWS retires them for new environments), and throttling."""

from __future__ import annotations

import pytest

from .harness.beanstalk import PLATFORM_BRANCH, Stage
from .harness.observations import refusal
from .harness.snapshots import Session

pytestmark = pytest.mark.parity

UNKNOWN_STACK = "64bit Amazon Linux 2023 v4.6.0 running Docker Deluxe"
# The first AL2023 Docker platform version, superseded by every release since (AWS's platform history).
SUPERSEDED_STACK = "64bit Amazon Linux 2023 v4.0.0 running Docker"


def _create(beanstalk: Stage, name: str, stack: str) -> dict[str, object]:
    beanstalk.ledger.will_create(f"Beanstalk environment {name}", lambda: beanstalk.terminate(name))
    return refusal(
        beanstalk.eb.create_environment,
        ApplicationName=beanstalk.app,
        EnvironmentName=name,
        SolutionStackName=stack,
        OptionSettings=beanstalk.option_settings,
    )


def test_an_unknown_solution_stack_is_refused(beanstalk: Stage, snapshot: Session) -> None:
    refused = _create(beanstalk, beanstalk.ledger.name("nostack"), UNKNOWN_STACK)

    snapshot.match("refused", refused)


def test_a_superseded_platform_version_is_refused_for_a_new_environment(
    beanstalk: Stage, snapshot: Session
) -> None:
    assert beanstalk.solution_stack != SUPERSEDED_STACK, f"{PLATFORM_BRANCH} has had releases since 4.0.0"

    refused = _create(beanstalk, beanstalk.ledger.name("old"), SUPERSEDED_STACK)

    snapshot.match("refused", refused)


def test_throttling_is_a_400_rate_exceeded(beanstalk: Stage, snapshot: Session) -> None:
    if beanstalk.target.controls is None:
        pytest.skip("an account throttles only under a load no test should make; the emulation is told to")
    beanstalk.target.controls.throttling(1.0, ["DescribeEnvironments"])
    try:
        refused = refusal(beanstalk.eb.describe_environments, ApplicationName=beanstalk.app)
    finally:
        beanstalk.target.controls.throttling(0.0, ["DescribeEnvironments"])

    snapshot.match("refused", refused)
