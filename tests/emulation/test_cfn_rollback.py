"""CloudFormation: a refused resource rolls its stack back (CreateStack itself succeeds, as on AWS), and each
resource's DeletionPolicy decides what the rollback and DeleteStack leave behind.

https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from .harness import Aws

TAKEN = "taken-elsewhere"  # a table that exists outside the stack
KEPT = "fixed-name"  # the stack's own table, under a fixed name


def _template(policy: str | None, *, collide: bool = True) -> str:
    """`Fixed` (DeletionPolicy `policy`), then `Clash`, named like a table that exists outside the stack."""
    fixed: dict[str, Any] = {"Type": "AWS::DynamoDB::Table", "Properties": _table(KEPT)}
    if policy is not None:
        fixed["DeletionPolicy"] = policy
    resources: dict[str, Any] = {"Fixed": fixed}
    if collide:
        resources["Clash"] = {
            "Type": "AWS::DynamoDB::Table",
            "DependsOn": "Fixed",
            "Properties": _table(TAKEN),
        }
    return json.dumps(
        {
            "Resources": resources,
            "Outputs": {"Table": {"Value": {"Ref": "Fixed"}, "Export": {"Name": "fixed-table"}}},
        }
    )


def _table(name: str) -> dict[str, Any]:
    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    }


def _tables(aws: Aws) -> set[str]:
    return set(aws.client("dynamodb").list_tables()["TableNames"])


def _status(aws: Aws, stack: str) -> str:
    return str(aws.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"])


def _events(aws: Aws, stack: str) -> list[tuple[str, str, str]]:
    """(logical id, status, reason) oldest first."""
    events = aws.client("cloudformation").describe_stack_events(StackName=stack)["StackEvents"]
    return [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason", "")) for e in events][
        ::-1
    ]


@pytest.fixture
def taken(aws: Aws) -> Aws:
    aws.client("dynamodb").create_table(**_table(TAKEN))
    return aws


def test_a_refused_resource_rolls_the_stack_back_and_the_events_say_why(taken: Aws) -> None:
    cfn = taken.client("cloudformation")

    created = cfn.create_stack(StackName="shop", TemplateBody=_template(None))

    assert created["StackId"].startswith("arn:aws:cloudformation:us-east-1:123456789012:stack/shop/")
    assert _status(taken, "shop") == "ROLLBACK_COMPLETE"
    events = _events(taken, "shop")
    assert events[0] == ("shop", "CREATE_IN_PROGRESS", "User Initiated")
    assert ("Clash", "CREATE_FAILED", f"Resource of type 'AWS::DynamoDB::Table' with identifier '{TAKEN}' "
            "already exists.") in events  # fmt: skip
    assert (
        "shop",
        "ROLLBACK_IN_PROGRESS",
        "The following resource(s) failed to create: [Clash]. Rollback requested by user.",
    ) in events
    assert events[-1][:2] == ("shop", "ROLLBACK_COMPLETE")
    assert cfn.list_exports()["Exports"] == []  # a rolled-back stack exports nothing


@pytest.mark.parametrize(
    ("policy", "kept_by_rollback"),
    [(None, False), ("Delete", False), ("Retain", True), ("RetainExceptOnCreate", False)],
)
def test_the_rollback_keeps_only_what_the_deletion_policy_retains(
    taken: Aws, policy: str | None, kept_by_rollback: bool
) -> None:
    taken.client("cloudformation").create_stack(StackName="shop", TemplateBody=_template(policy))

    assert _status(taken, "shop") == "ROLLBACK_COMPLETE"
    assert (KEPT in _tables(taken)) is kept_by_rollback
    deleted = "DELETE_SKIPPED" if kept_by_rollback else "DELETE_COMPLETE"
    assert ("Fixed", deleted, "") in _events(taken, "shop")


@pytest.mark.parametrize(
    ("policy", "kept_by_delete"), [("Delete", False), ("Retain", True), ("RetainExceptOnCreate", True)]
)
def test_delete_stack_keeps_what_the_deletion_policy_retains(
    aws: Aws, policy: str, kept_by_delete: bool
) -> None:
    cfn = aws.client("cloudformation")
    cfn.create_stack(StackName="shop", TemplateBody=_template(policy, collide=False))
    assert _status(aws, "shop") == "CREATE_COMPLETE"

    cfn.delete_stack(StackName="shop")

    assert (KEPT in _tables(aws)) is kept_by_delete


def test_a_failed_first_create_can_be_retried_once_its_fixed_name_is_retain_except_on_create(
    taken: Aws,
) -> None:
    cfn = taken.client("cloudformation")
    cfn.create_stack(StackName="shop", TemplateBody=_template("RetainExceptOnCreate"))
    cfn.delete_stack(StackName="shop")  # a ROLLBACK_COMPLETE stack can only be deleted
    taken.client("dynamodb").delete_table(TableName=TAKEN)  # what made the first create fail is gone

    cfn.create_stack(StackName="shop", TemplateBody=_template("RetainExceptOnCreate"))

    assert _status(taken, "shop") == "CREATE_COMPLETE"
    assert {KEPT, TAKEN} <= _tables(taken)


def test_with_retain_the_retry_fails_on_the_table_the_rollback_left_behind(taken: Aws) -> None:
    cfn = taken.client("cloudformation")
    cfn.create_stack(StackName="shop", TemplateBody=_template("Retain"))
    cfn.delete_stack(StackName="shop")
    taken.client("dynamodb").delete_table(TableName=TAKEN)

    cfn.create_stack(StackName="shop", TemplateBody=_template("Retain"))

    assert _status(taken, "shop") == "ROLLBACK_COMPLETE"
    failed = [reason for logical, status, reason in _events(taken, "shop") if status == "CREATE_FAILED"]
    assert failed == [f"Resource of type 'AWS::DynamoDB::Table' with identifier '{KEPT}' already exists."]


def test_a_change_set_that_creates_a_stack_rolls_back_too(taken: Aws) -> None:
    """`aws cloudformation deploy` creates a stack through a CREATE change set."""
    cfn = taken.client("cloudformation")
    change_set = cfn.create_change_set(
        StackName="shop", ChangeSetName="first", ChangeSetType="CREATE", TemplateBody=_template("Delete")
    )

    cfn.execute_change_set(ChangeSetName=change_set["Id"])

    assert _status(taken, "shop") == "ROLLBACK_COMPLETE"
    assert KEPT not in _tables(taken)
    assert cfn.list_exports()["Exports"] == []


def test_a_stack_a_change_set_creates_answers_its_outputs_and_exports_them(aws: Aws) -> None:
    """What `aws cloudformation deploy` creates is read back by `describe-stacks` and imported by others."""
    cfn = aws.client("cloudformation")
    change_set = cfn.create_change_set(
        StackName="shop",
        ChangeSetName="first",
        ChangeSetType="CREATE",
        TemplateBody=_template("Delete", collide=False),
    )

    cfn.execute_change_set(ChangeSetName=change_set["Id"])

    stack = cfn.describe_stacks(StackName="shop")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert stack["Outputs"] == [{"OutputKey": "Table", "OutputValue": KEPT, "ExportName": "fixed-table"}]
    assert [(e["Name"], e["Value"]) for e in cfn.list_exports()["Exports"]] == [("fixed-table", KEPT)]
