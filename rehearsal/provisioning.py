"""Both stacks under the run's prefix, through `make provision` and `make deploy-controller`, and what the
deployments need from them: the controller's URL, the signing secret, the controller's functions (whose
logs hold its AWS calls). Their deletion, with what the controller's stack keeps, is
`delete_stack_and_what_it_kept` (removal.py writes it down before anything is made)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .commands import Commands
from .settings import Settings
from .teardown import gone_if_missing

STACK_GONE = {"DELETE_COMPLETE", "DELETE_FAILED"}
# What a stack may keep after its deletion, and how the rehearsal deletes it then.
KEPT_TYPES = ("AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::Logs::LogGroup")


@dataclass(frozen=True)
class Provisioned:
    controller_url: str
    signing_secret: str
    functions: tuple[str, ...]  # the controller's Lambda function names
    artifact_bucket: str
    seconds: dict[str, float]  # how long each make target took


def provision(settings: Settings, commands: Commands, clients: Any) -> Provisioned:
    cfn = clients.client("cloudformation")
    provisioned = commands.make("provision", INFRA_STACK=settings.infra_stack, CNAME_PREFIX=settings.prefix)
    deployed = commands.make(
        "deploy-controller", INFRA_STACK=settings.infra_stack, CONTROLLER_STACK=settings.controller_stack
    )
    infra = _outputs(cfn, settings.infra_stack)
    controller = _outputs(cfn, settings.controller_stack)
    secret = clients.client("secretsmanager").get_secret_value(
        SecretId=f"{settings.infra_stack}/signing-secret"
    )
    functions = tuple(
        resource["PhysicalResourceId"]
        for resource in cfn.list_stack_resources(StackName=settings.controller_stack)[
            "StackResourceSummaries"
        ]
        if resource["ResourceType"] == "AWS::Lambda::Function"
    )
    return Provisioned(
        controller_url=controller["EndpointURL"].rstrip("/"),
        signing_secret=str(secret["SecretString"]),
        functions=functions,
        artifact_bucket=infra["ArtifactBucketName"],
        seconds={"make provision": provisioned.seconds, "make deploy-controller": deployed.seconds},
    )


def delete_stack_and_what_it_kept(stack: str, clients: Any) -> None:
    """Delete `stack`, then what it created and kept (a resource whose DeletionPolicy keeps it: the
    controller's table). Only what this stack created is deleted, never a same-named thing it found."""
    cfn = clients.client("cloudformation")
    made = _made(cfn, stack)
    delete_stack(stack, cfn)
    for kind, physical_id in made:
        _delete_kept(kind, physical_id, clients)


def _made(cfn: Any, stack: str) -> list[tuple[str, str]]:
    from botocore.exceptions import ClientError

    found = []
    try:
        for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack):
            for resource in page["StackResourceSummaries"]:
                created = resource["ResourceStatus"].startswith(("CREATE_COMPLETE", "UPDATE_"))
                if resource["ResourceType"] in KEPT_TYPES and created and resource.get("PhysicalResourceId"):
                    found.append((resource["ResourceType"], resource["PhysicalResourceId"]))
    except ClientError:
        return []  # no such stack
    return found


def _delete_kept(kind: str, physical_id: str, clients: Any) -> None:
    if kind == "AWS::DynamoDB::Table":
        dynamodb = clients.client("dynamodb")
        gone_if_missing(lambda: dynamodb.delete_table(TableName=physical_id), "ResourceNotFoundException")
        dynamodb.get_waiter("table_not_exists").wait(
            TableName=physical_id, WaiterConfig={"Delay": 5, "MaxAttempts": 60}
        )
    elif kind == "AWS::S3::Bucket":
        s3 = clients.client("s3")
        gone_if_missing(lambda: _empty(s3, physical_id), "NoSuchBucket")
        gone_if_missing(lambda: s3.delete_bucket(Bucket=physical_id), "NoSuchBucket")
    else:
        logs = clients.client("logs")
        gone_if_missing(lambda: logs.delete_log_group(logGroupName=physical_id), "ResourceNotFoundException")


def _outputs(cfn: Any, stack: str) -> dict[str, str]:
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in described.get("Outputs") or []}


def delete_stack(stack: str, cfn: Any) -> None:
    from botocore.exceptions import ClientError

    gone_if_missing(lambda: cfn.delete_stack(StackName=stack), "ValidationError")
    try:
        cfn.get_waiter("stack_delete_complete").wait(
            StackName=stack, WaiterConfig={"Delay": 10, "MaxAttempts": 180}
        )
    except ClientError:
        pass  # the stack was never created
    except Exception as error:  # WaiterError: say how it ended
        status = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
        if status not in STACK_GONE:
            raise RuntimeError(f"stack {stack} did not finish deleting: {status}") from error


def delete_infra_stack(stack: str, cfn: Any, s3: Any) -> None:
    """The artifact bucket holds the bundles and the controller's code: emptied first (CloudFormation
    cannot delete a bucket that holds objects), and deleted after the stack if the stack kept it."""
    from botocore.exceptions import ClientError

    try:
        bucket = _outputs(cfn, stack).get("ArtifactBucketName")
    except ClientError:
        bucket = None
    if bucket:
        _empty(s3, bucket)
    delete_stack(stack, cfn)
    if bucket:
        gone_if_missing(lambda: _empty(s3, bucket), "NoSuchBucket")
        gone_if_missing(lambda: s3.delete_bucket(Bucket=bucket), "NoSuchBucket")


def _empty(s3: Any, bucket: str) -> None:
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        doomed = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        if doomed:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed})
