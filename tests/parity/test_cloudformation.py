"""CloudFormation as `make provision` uses it, on stacks shaped like ours (a bucket, a generated secret, a
Beanstalk application and environment): a create, a create that fails and rolls back honouring each
resource's DeletionPolicy, and `aws cloudformation deploy` (the change-set path) giving the stack's
Outputs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .harness.clis import Clis
from .harness.ledger import Ledger, gone_if_missing
from .harness.snapshots import Session
from .harness.targets import Target
from .harness.waiting import wait_until

pytestmark = pytest.mark.parity

UNKNOWN_STACK = "64bit Amazon Linux 2023 v4.6.0 running Docker Deluxe"
DONE = {"CREATE_COMPLETE", "CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "UPDATE_COMPLETE"}


def template(stack: str, *, bucket_policy: str = "Retain", failing: bool = False) -> str:
    """Our infra template's shape in small, its names from `stack`: the bundle bucket (kept when the stack
    goes), the signing secret (generated inside AWS), the Beanstalk application; `failing` adds an
    environment AWS refuses."""
    resources: dict[str, Any] = {
        "Bundles": {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": bucket_policy,
            "UpdateReplacePolicy": "Retain",
            "Properties": {"BucketName": f"{stack}-bundles"},
        },
        "SigningSecret": {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {
                "Name": f"{stack}/signing-secret",
                "GenerateSecretString": {"PasswordLength": 48, "ExcludePunctuation": True},
            },
        },
        "Application": {
            "Type": "AWS::ElasticBeanstalk::Application",
            "DependsOn": ["Bundles", "SigningSecret"],
            "Properties": {"ApplicationName": f"{stack}-app"},
        },
    }
    if failing:
        resources["Refused"] = {
            "Type": "AWS::ElasticBeanstalk::Environment",
            "DependsOn": ["Application"],
            "Properties": {
                "ApplicationName": {"Ref": "Application"},
                "EnvironmentName": f"{stack}-env",
                "SolutionStackName": UNKNOWN_STACK,
            },
        }
    return json.dumps(
        {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Resources": resources,
            "Outputs": {
                "BucketName": {"Value": {"Ref": "Bundles"}},
                "ApplicationName": {"Value": {"Ref": "Application"}},
                "SecretArn": {"Value": {"Ref": "SigningSecret"}},
            },
        },
        indent=1,
    )


def _cleanup_stack(target: Target, ledger: Ledger, stack: str) -> None:
    cfn = target.client("cloudformation", attempts=5)
    s3 = target.client("s3", attempts=5)
    bucket = f"{stack}-bundles"

    def finished_deleting() -> bool:
        from botocore.exceptions import ClientError

        try:
            status = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
        except ClientError:  # no such stack (any more)
            return True
        return status in {"DELETE_COMPLETE", "DELETE_FAILED"}

    def delete() -> None:
        gone_if_missing(lambda: cfn.delete_stack(StackName=stack), "ValidationError")
        wait_until(finished_deleting, bool, f"stack {stack} to be deleted", target.patience_s, target.poll_s)
        gone_if_missing(lambda: s3.delete_bucket(Bucket=bucket), "NoSuchBucket")

    ledger.will_create(f"CloudFormation stack {stack} (and its retained bucket {bucket})", delete)


def _finished(target: Target, stack: str) -> dict[str, Any]:
    cfn = target.client("cloudformation", attempts=5)
    return wait_until(
        lambda: cfn.describe_stacks(StackName=stack)["Stacks"][0],
        lambda found: found["StackStatus"] in DONE,
        f"stack {stack} to finish",
        target.patience_s,
        target.poll_s,
    )


def _events(target: Target, stack: str) -> dict[str, list[dict[str, Any]]]:
    """The stack's events, oldest first, per resource ("stack" for the stack's own): status and reason.
    Per resource, because CloudFormation creates resources that do not depend on each other in parallel:
    only each one's own sequence is certain."""
    cfn = target.client("cloudformation", attempts=5)
    found: list[dict[str, Any]] = []
    for page in cfn.get_paginator("describe_stack_events").paginate(StackName=stack):
        found.extend(page["StackEvents"])
    grouped: dict[str, list[dict[str, Any]]] = {}
    for event in reversed(found):
        logical = (
            "stack" if event["ResourceType"] == "AWS::CloudFormation::Stack" else event["LogicalResourceId"]
        )
        grouped.setdefault(logical, []).append(
            {"status": event["ResourceStatus"], "reason": event.get("ResourceStatusReason")}
        )
    return grouped


def _outputs(described: dict[str, Any]) -> list[dict[str, str]]:
    return sorted(
        (
            {"OutputKey": o["OutputKey"], "OutputValue": o["OutputValue"]}
            for o in described.get("Outputs") or []
        ),
        key=lambda output: output["OutputKey"],
    )


def _name_stack(snapshot: Session, stack: str) -> None:
    snapshot.name(f"{stack}-bundles", "bucket")
    snapshot.name(f"{stack}-app", "application")
    snapshot.name(f"{stack}/signing-secret", "secret")
    snapshot.name(f"{stack}-env", "environment")
    snapshot.name(stack, "stack")


def test_a_stack_like_ours_is_created_with_its_outputs(
    target: Target, ledger: Ledger, snapshot: Session
) -> None:
    stack = ledger.name("cfn-created")
    _name_stack(snapshot, stack)
    _cleanup_stack(target, ledger, stack)

    target.client("cloudformation").create_stack(
        StackName=stack, TemplateBody=template(stack), Tags=ledger.tags
    )
    described = _finished(target, stack)

    snapshot.match("status", described["StackStatus"])
    snapshot.match("outputs", _outputs(described))
    snapshot.match("events", _events(target, stack))


def test_a_failed_create_rolls_back_and_keeps_what_deletion_policy_retains(
    target: Target, ledger: Ledger, snapshot: Session
) -> None:
    stack = ledger.name("cfn-failed")
    _name_stack(snapshot, stack)
    _cleanup_stack(target, ledger, stack)

    target.client("cloudformation").create_stack(
        StackName=stack, TemplateBody=template(stack, failing=True), Tags=ledger.tags
    )
    described = _finished(target, stack)
    retained = _bucket_exists(target, f"{stack}-bundles")

    snapshot.match("status", described["StackStatus"])
    snapshot.match("events", _events(target, stack))
    snapshot.match("bucket_retained", retained)


def test_a_failed_create_deletes_what_retain_except_on_create_made(
    target: Target, ledger: Ledger, snapshot: Session
) -> None:
    stack = ledger.name("cfn-failed-roc")
    _name_stack(snapshot, stack)
    _cleanup_stack(target, ledger, stack)

    target.client("cloudformation").create_stack(
        StackName=stack,
        TemplateBody=template(stack, bucket_policy="RetainExceptOnCreate", failing=True),
        Tags=ledger.tags,
    )
    described = _finished(target, stack)
    retained = _bucket_exists(target, f"{stack}-bundles")

    snapshot.match("status", described["StackStatus"])
    snapshot.match("events", _events(target, stack))
    snapshot.match("bucket_retained", retained)


def test_aws_cloudformation_deploy_gives_the_stack_its_outputs(
    target: Target, ledger: Ledger, cli: Clis, snapshot: Session
) -> None:
    stack = ledger.name("cfn-deployed")
    _name_stack(snapshot, stack)
    _cleanup_stack(target, ledger, stack)
    body = cli.project / "template.json"
    body.write_text(template(stack))

    deployed = cli.aws(
        "cloudformation",
        "deploy",
        "--stack-name",
        stack,
        "--template-file",
        str(body),
        "--no-fail-on-empty-changeset",
        "--tags",
        f"{ledger.tag['Key']}={ledger.prefix}",
    )
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    described = target.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]

    snapshot.match("status", described["StackStatus"])
    snapshot.match("outputs", _outputs(described))


def _bucket_exists(target: Target, bucket: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        target.client("s3").head_bucket(Bucket=bucket)
    except ClientError:
        return False
    return True
