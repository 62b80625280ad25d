"""Beanstalk acts downstream with the caller's permissions when the environment has no operations role:
with IAM checks on, UpdateEnvironment judges what it does in CloudFormation, Auto Scaling, ELB, EC2, S3,
CloudWatch, SNS and IAM against the caller's policies (moto's evaluator), or the operations role's; a bundle
carrying `.ebextensions` is a configuration update and needs the larger set.

https://docs.aws.amazon.com/elasticbeanstalk/latest/api/API_DisassociateEnvironmentOperationsRole.html
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from .harness import APP, REGION, STACK, Aws

BEANSTALK_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "elasticbeanstalk.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
ANYONE_IN_ACCOUNT = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "sts:AssumeRole",
        }
    ],
}
CODE_DEPLOYMENT = [
    "s3:PutObject",
    "s3:GetObject",
    "cloudformation:DescribeStackResources",
    "ec2:DescribeInstances",
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:SuspendProcesses",
    "autoscaling:ResumeProcesses",
    "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:RegisterTargets",
    "elasticloadbalancing:DeregisterTargets",
]
CONFIGURATION = [
    "cloudformation:UpdateStack",
    "iam:PassRole",
    "ec2:CreateLaunchTemplateVersion",
    "autoscaling:UpdateAutoScalingGroup",
    "cloudwatch:PutMetricAlarm",
    "sns:SetTopicAttributes",
]


def _bundle(*extra: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "Dockerrun.aws.json", json.dumps({"AWSEBDockerrunVersion": "1", "Image": {"Name": "x:2"}})
        )
        for name in extra:
            archive.writestr(name, "option_settings: {}\n")
    return buffer.getvalue()


UNSCOPED = ("s3:", "ec2:Describe", "autoscaling:Describe", "elasticloadbalancing:Describe", "iam:PassRole")


def _policy(actions: list[str], environment: str | None = None) -> str:
    """`actions` on any resource; with `environment`, those on an environment's own resources only there
    (Beanstalk's bucket, Describe calls and the role it passes carry no environment tag)."""
    if environment is None:
        statements = [{"Effect": "Allow", "Action": actions, "Resource": "*"}]
    else:
        condition = {"StringEquals": {"aws:ResourceTag/elasticbeanstalk:environment-name": environment}}
        statements = [
            {"Effect": "Allow", "Action": [a for a in actions if a.startswith(UNSCOPED)], "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": [a for a in actions if not a.startswith(UNSCOPED)],
                "Resource": "*",
                "Condition": condition,
            },
        ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _role(aws: Aws, name: str, trust: dict[str, Any], policy: str | None) -> str:
    iam = aws.client("iam")
    arn = str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])
    if policy is not None:
        iam.put_role_policy(RoleName=name, PolicyName="downstream", PolicyDocument=policy)
    return arn


def _as(aws: Aws, role_arn: str) -> Any:
    """An Elastic Beanstalk client with the temporary credentials of `role_arn` (assumed as session `ci`)."""
    credentials = aws.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="ci")["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    ).client("elasticbeanstalk", endpoint_url=aws.endpoint_url)


def _green(aws: Aws, bundle: bytes, **extra: Any) -> None:
    aws.version("v1")
    aws.version("v2", bundle)
    aws.eb.create_environment(
        ApplicationName=APP, EnvironmentName="green-env", CNAMEPrefix="app-pre", SolutionStackName=STACK,
        VersionLabel="v1", **extra,
    )  # fmt: skip
    aws.be.advance("green-env")


def _deploy(aws: Aws, client: Any) -> dict[str, Any]:
    client.update_environment(EnvironmentName="green-env", VersionLabel="v2")
    aws.be.advance("green-env")
    return aws.describe("green-env")


def _errors(aws: Aws) -> list[str]:
    return [
        e["Message"] for e in aws.eb.describe_events(EnvironmentName="green-env", Severity="ERROR")["Events"]
    ]


@pytest.fixture
def checked(aws: Aws) -> Aws:
    aws.be.set_caller_permissions(True)
    return aws


def test_without_iam_checks_nothing_downstream_is_judged(aws: Aws) -> None:
    _green(aws, _bundle(".ebextensions/healthcheck.config"))
    nobody = _role(aws, "nobody", ANYONE_IN_ACCOUNT, None)

    assert _deploy(aws, _as(aws, nobody))["VersionLabel"] == "v2"


def test_a_code_deployment_needs_the_callers_downstream_permissions(checked: Aws) -> None:
    _green(checked, _bundle())
    enough = _role(checked, "deployer", ANYONE_IN_ACCOUNT, _policy(CODE_DEPLOYMENT))

    assert _deploy(checked, _as(checked, enough))["VersionLabel"] == "v2"


def test_a_refused_downstream_call_fails_the_update_with_the_services_message(checked: Aws) -> None:
    _green(checked, _bundle())
    short = _role(
        checked, "deployer", ANYONE_IN_ACCOUNT, _policy([a for a in CODE_DEPLOYMENT if "Suspend" not in a])
    )

    landed = _deploy(checked, _as(checked, short))

    assert (landed["VersionLabel"], landed["Health"]) == ("v1", "Red")
    assert _errors(checked)[-1].startswith(
        "Service:AmazonAutoScaling, Message:User: arn:aws:sts::123456789012:assumed-role/deployer/ci is not "
        "authorized to perform: autoscaling:SuspendProcesses on resource: arn:aws:autoscaling:us-east-1:"
    )


def test_a_bundle_with_ebextensions_is_a_configuration_update(checked: Aws) -> None:
    _green(checked, _bundle(".ebextensions/healthcheck.config"))
    code_only = _role(checked, "deployer", ANYONE_IN_ACCOUNT, _policy(CODE_DEPLOYMENT))

    landed = _deploy(checked, _as(checked, code_only))

    assert landed["VersionLabel"] == "v1"
    assert "is not authorized to perform: cloudformation:UpdateStack on resource: " in _errors(checked)[-1]


def test_staging_in_beanstalks_bucket_is_refused_at_once(checked: Aws) -> None:
    _green(checked, _bundle())
    no_s3 = _role(
        checked,
        "deployer",
        ANYONE_IN_ACCOUNT,
        _policy([a for a in CODE_DEPLOYMENT if a.startswith("s3:") is False]),
    )

    with pytest.raises(ClientError) as caught:
        _as(checked, no_s3).update_environment(EnvironmentName="green-env", VersionLabel="v2")

    assert caught.value.response["Error"]["Code"] == "InsufficientPrivilegesException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert caught.value.response["Error"]["Message"] == (
        "You do not have permission to perform the 's3:PutObject' action. Verify that your S3 policies and "
        "your ACLs allow you to perform these actions."
    )
    assert checked.describe("green-env")["Status"] == "Ready"


def test_with_an_operations_role_beanstalk_acts_as_that_role(checked: Aws) -> None:
    operations = _role(
        checked, "operations", BEANSTALK_TRUST, _policy(CODE_DEPLOYMENT + CONFIGURATION, "green-env")
    )
    _green(checked, _bundle(".ebextensions/healthcheck.config"), OperationsRole=operations)
    nothing_downstream = _role(checked, "deployer", ANYONE_IN_ACCOUNT, None)

    assert _deploy(checked, _as(checked, nothing_downstream))["VersionLabel"] == "v2"


def test_an_operations_role_scoped_to_another_environment_is_refused(checked: Aws) -> None:
    operations = _role(
        checked, "operations", BEANSTALK_TRUST, _policy(CODE_DEPLOYMENT + CONFIGURATION, "blue-env")
    )
    _green(checked, _bundle(), OperationsRole=operations)

    landed = _deploy(checked, checked.eb)

    assert landed["VersionLabel"] == "v1"
    assert _errors(checked)[-1].startswith(
        "Service:AmazonCloudFormation, Message:User: arn:aws:sts::123456789012:assumed-role/operations/"
    )


def test_the_root_is_not_judged(checked: Aws) -> None:
    _green(checked, _bundle(".ebextensions/healthcheck.config"))

    assert _deploy(checked, checked.eb)["VersionLabel"] == "v2"  # moto's "testing" keys: no IAM identity


def test_iam_checks_are_switched_on_over_http(aws: Aws) -> None:
    from .test_eb_control_api import control

    refused = control(aws, "POST", "caller-permissions", {"on": "yes"})
    switched = control(aws, "POST", "caller-permissions", {"on": True})

    assert refused.status_code == 400 and refused.json()["error"] == '"on" must be true or false'
    assert switched.json()["caller_permissions"] is True
    assert aws.be.controls.caller_permissions
