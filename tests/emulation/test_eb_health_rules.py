"""Enhanced health counts HTTP 4xx unless the environment's ConfigDocument switches the rules off: under the
`scanner-4xx` fault (the internet's scanners sending 404s) an environment turns Yellow with AWS's cause, and
one that ignores 4xx stays Green.

https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/health-enhanced-rules.html
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from .harness import APP, STACK, Aws

HEALTH = "aws:elasticbeanstalk:healthreporting:system"
APPLICATION_CAUSE = "35% of requests are erroring with HTTP 4xx"
ELB_CAUSE = "35% of the requests to the ELB are erroring with HTTP 4xx."


def _rules(application: bool, elb: bool) -> dict[str, str]:
    document = {
        "Rules": {
            "Environment": {
                "Application": {"ApplicationRequests4xx": {"Enabled": application}},
                "ELB": {"ELBRequests4xx": {"Enabled": elb}},
            }
        },
        "Version": 1,
    }
    return {"Namespace": HEALTH, "OptionName": "ConfigDocument", "Value": json.dumps(document)}


def _launch(aws: Aws, name: str, prefix: str, *options: dict[str, str]) -> None:
    aws.eb.create_environment(
        ApplicationName=APP,
        EnvironmentName=name,
        CNAMEPrefix=prefix,
        SolutionStackName=STACK,
        VersionLabel="v1",
        OptionSettings=list(options),
    )
    aws.be.advance(name)


def _health(aws: Aws, name: str) -> tuple[str, list[str]]:
    described: dict[str, Any] = aws.eb.describe_environment_health(
        EnvironmentName=name, AttributeNames=["All"]
    )
    return described["Color"], described["Causes"]


@pytest.fixture
def versions(aws: Aws) -> Aws:
    aws.version("v1")
    aws.version("v2")
    return aws


def test_scanners_404s_turn_an_environment_that_counts_4xx_yellow_until_they_stop(versions: Aws) -> None:
    aws = versions
    _launch(aws, "blue-env", "app-prod")

    aws.be.set_fault("scanner-4xx")
    degraded = _health(aws, "blue-env")
    aws.be.clear_faults("scanner-4xx")

    assert degraded == ("Yellow", [f"{APPLICATION_CAUSE}; {ELB_CAUSE}"])
    assert _health(aws, "blue-env") == ("Green", [])
    assert (
        f"Environment health has transitioned from Ok to Warning. {APPLICATION_CAUSE}; {ELB_CAUSE}"
        in aws.messages(EnvironmentName="blue-env")
    )


@pytest.mark.parametrize(
    ("application", "elb", "expected"),
    [
        (False, False, ("Green", [])),
        (False, True, ("Yellow", [ELB_CAUSE])),
        (True, False, ("Yellow", [APPLICATION_CAUSE])),
    ],
)
def test_only_the_rules_left_on_count_the_scanners(
    versions: Aws, application: bool, elb: bool, expected: tuple[str, list[str]]
) -> None:
    aws = versions
    aws.be.set_fault("scanner-4xx")

    _launch(aws, "blue-env", "app-prod", _rules(application, elb))

    assert _health(aws, "blue-env") == expected


def test_an_update_under_the_scanners_ends_yellow_unless_the_rules_are_off(versions: Aws) -> None:
    aws = versions
    _launch(aws, "counting-env", "app-one")
    _launch(aws, "ignoring-env", "app-two", _rules(False, False))
    aws.be.set_fault("scanner-4xx")

    for name in ("counting-env", "ignoring-env"):
        aws.eb.update_environment(EnvironmentName=name, VersionLabel="v2")
        aws.be.advance(name)

    assert (aws.describe("counting-env")["Health"], aws.describe("counting-env")["VersionLabel"]) == (
        "Yellow",
        "v2",
    )
    assert (aws.describe("ignoring-env")["Health"], aws.describe("ignoring-env")["VersionLabel"]) == (
        "Green",
        "v2",
    )


def test_a_configuration_update_that_switches_the_rules_off_brings_health_back(versions: Aws) -> None:
    aws = versions
    _launch(aws, "blue-env", "app-prod")
    aws.be.set_fault("scanner-4xx")

    aws.eb.update_environment(EnvironmentName="blue-env", OptionSettings=[_rules(False, False)])
    aws.be.advance("blue-env")

    assert _health(aws, "blue-env") == ("Green", [])
