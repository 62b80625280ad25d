"""The roles an environment names are roles Beanstalk must assume: as elasticbeanstalk.amazonaws.com, with
`sts:ExternalId` = `elasticbeanstalk` and nothing else (https://docs.aws.amazon.com/elasticbeanstalk/latest/
dg/iam-servicerole.html). A service role it cannot assume leaves health Severe with AWS's cause; managed
platform updates need a managed-updates service role it can assume."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .harness import APP, STACK, Aws

DOCUMENTED_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "elasticbeanstalk.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "elasticbeanstalk"}},
        }
    ],
}
SOURCE_ACCOUNT_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            **DOCUMENTED_TRUST["Statement"][0],
            "Condition": {
                "StringEquals": {"sts:ExternalId": "elasticbeanstalk", "aws:SourceAccount": "123456789012"}
            },
        }
    ],
}
MANAGED = "aws:elasticbeanstalk:managedactions"


def _role(aws: Aws, name: str, trust: dict[str, Any]) -> str:
    created = aws.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    return str(created["Role"]["Arn"])


def _launch(aws: Aws, *options: dict[str, str]) -> None:
    aws.version("v1")
    aws.eb.create_environment(
        ApplicationName=APP,
        EnvironmentName="blue-env",
        CNAMEPrefix="app-prod",
        SolutionStackName=STACK,
        VersionLabel="v1",
        OptionSettings=list(options),
    )
    aws.be.advance("blue-env")


def _service_role(arn: str) -> dict[str, str]:
    return {"Namespace": "aws:elasticbeanstalk:environment", "OptionName": "ServiceRole", "Value": arn}


def _health(aws: Aws) -> tuple[str, list[str]]:
    described = aws.eb.describe_environment_health(EnvironmentName="blue-env", AttributeNames=["All"])
    return described["Color"], described["Causes"]


def test_a_service_role_with_the_documented_trust_is_assumed(aws: Aws) -> None:
    _launch(aws, _service_role(_role(aws, "eb-service", DOCUMENTED_TRUST)))

    assert _health(aws) == ("Green", [])


@pytest.mark.parametrize(
    "trust", [SOURCE_ACCOUNT_TRUST, None], ids=["demands-aws-SourceAccount", "no-such-role"]
)
def test_a_service_role_beanstalk_cannot_assume_leaves_health_severe(
    aws: Aws, trust: dict[str, Any] | None
) -> None:
    arn = _role(aws, "eb-service", trust) if trust else "arn:aws:iam::123456789012:role/nobody"
    cause = f'Unable to assume role "{arn}". Verify that the role exists and is configured correctly.'

    _launch(aws, _service_role(arn))
    aws.version("v2")
    aws.eb.update_environment(EnvironmentName="blue-env", VersionLabel="v2")
    aws.be.advance("blue-env")

    assert _health(aws) == ("Red", [cause])
    assert aws.describe("blue-env")["VersionLabel"] == "v2"  # deployments go on; monitoring does not
    assert f"Environment health has transitioned from Ok to Severe. {cause}" in aws.messages(
        EnvironmentName="blue-env"
    )


@pytest.mark.parametrize(
    ("managed_updates_role", "warned"),
    [(None, True), ("service-role", False), ("AWSServiceRoleForElasticBeanstalkManagedUpdates", False)],
)
def test_managed_updates_need_a_role_beanstalk_can_assume(
    aws: Aws, managed_updates_role: str | None, warned: bool
) -> None:
    arn = _role(aws, "eb-service", DOCUMENTED_TRUST)
    options = [
        _service_role(arn),
        {"Namespace": MANAGED, "OptionName": "ManagedActionsEnabled", "Value": "true"},
    ]
    if managed_updates_role is not None:
        value = arn if managed_updates_role == "service-role" else managed_updates_role
        options.append({"Namespace": MANAGED, "OptionName": "ServiceRoleForManagedUpdates", "Value": value})

    _launch(aws, *options)

    warnings = [
        e["Message"]
        for e in aws.eb.describe_events(EnvironmentName="blue-env", Severity="WARN")["Events"]
        if "ServiceRoleForManagedUpdates" in e["Message"]
    ]
    assert bool(warnings) is warned
