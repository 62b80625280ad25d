"""CloudFormation's stacks as AWS reports them: each resource's own events, and a stack made through a change
set (`aws cloudformation deploy`, what `make provision` runs) with its Outputs, as CreateStack gives them.

AWS's event history example (docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/
using-cfn-listing-event-history.html): the stack CREATE_IN_PROGRESS "User Initiated"; each resource
CREATE_IN_PROGRESS, CREATE_IN_PROGRESS "Resource creation Initiated", CREATE_COMPLETE; the stack
CREATE_COMPLETE.
"""

from __future__ import annotations

import json
from typing import Any

from .harness import APP, STACK, Aws

TEMPLATE = json.dumps(
    {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Bundles": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "stack-bundles"}},
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "stack-queue"}},
        },
        "Outputs": {
            "BucketName": {"Value": {"Ref": "Bundles"}},
            "QueueUrl": {"Value": {"Ref": "Queue"}, "Export": {"Name": "stack-queue-url"}},
        },
    }
)


def _events(aws: Aws, stack: str) -> dict[str, list[tuple[str, str | None]]]:
    """Each resource's (status, reason), oldest first; "stack" for the stack's own."""
    found = aws.client("cloudformation").describe_stack_events(StackName=stack)["StackEvents"]
    grouped: dict[str, list[tuple[str, str | None]]] = {}
    for event in reversed(found):
        logical = (
            "stack" if event["ResourceType"] == "AWS::CloudFormation::Stack" else event["LogicalResourceId"]
        )
        grouped.setdefault(logical, []).append((event["ResourceStatus"], event.get("ResourceStatusReason")))
    return grouped


def _outputs(aws: Aws, stack: str) -> dict[str, str]:
    described = aws.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in described.get("Outputs") or []}


CREATED = [
    ("CREATE_IN_PROGRESS", None),
    ("CREATE_IN_PROGRESS", "Resource creation Initiated"),
    ("CREATE_COMPLETE", None),
]


def test_each_resource_reports_its_creation(aws: Aws) -> None:
    aws.client("cloudformation").create_stack(StackName="made", TemplateBody=TEMPLATE)

    events = _events(aws, "made")

    assert events["Bundles"] == CREATED
    assert events["Queue"] == CREATED
    assert events["stack"] == [("CREATE_IN_PROGRESS", "User Initiated"), ("CREATE_COMPLETE", None)]


def test_a_beanstalk_environment_is_complete_once_it_is_ready(aws: Aws) -> None:
    aws.be.set_timings(launch_s=60)
    template = {
        "Resources": {
            "Blue": {
                "Type": "AWS::ElasticBeanstalk::Environment",
                "Properties": {
                    "ApplicationName": APP,
                    "EnvironmentName": "stack-blue",
                    "SolutionStackName": STACK,
                },
            }
        }
    }
    cfn: Any = aws.client("cloudformation")
    cfn.create_stack(StackName="envs", TemplateBody=json.dumps(template))

    launching = _events(aws, "envs")["Blue"]
    aws.clock.tick(61)
    cfn.describe_stacks(StackName="envs")
    ready = _events(aws, "envs")["Blue"]

    assert launching == CREATED[:2]
    assert ready == CREATED


def test_a_change_set_gives_the_stack_the_outputs_and_exports_create_stack_gives(aws: Aws) -> None:
    cfn: Any = aws.client("cloudformation")
    cfn.create_stack(StackName="direct", TemplateBody=TEMPLATE.replace("stack-", "direct-"))
    cfn.create_change_set(
        StackName="through-change-set",
        ChangeSetName="first",
        ChangeSetType="CREATE",
        TemplateBody=TEMPLATE.replace("stack-", "changeset-"),
    )
    cfn.execute_change_set(ChangeSetName="first", StackName="through-change-set")

    direct = _outputs(aws, "direct")
    through = _outputs(aws, "through-change-set")

    assert set(through) == set(direct) == {"BucketName", "QueueUrl"}
    assert through["BucketName"] == "changeset-bundles"
    assert "changeset-queue-url" in {export["Name"] for export in cfn.list_exports()["Exports"]}
    assert _events(aws, "through-change-set")["Bundles"] == CREATED


def test_deleting_a_stack_terminates_its_environments_before_its_application(aws: Aws) -> None:
    template = {
        "Resources": {
            "App": {
                "Type": "AWS::ElasticBeanstalk::Application",
                "Properties": {"ApplicationName": "stack-app"},
            },
            "Blue": {
                "Type": "AWS::ElasticBeanstalk::Environment",
                "Properties": {
                    "ApplicationName": {"Ref": "App"},
                    "EnvironmentName": "stack-app-blue",
                    "SolutionStackName": STACK,
                },
            },
        }
    }
    cfn: Any = aws.client("cloudformation")
    cfn.create_stack(StackName="with-app", TemplateBody=json.dumps(template))
    aws.be.advance()

    cfn.delete_stack(StackName="with-app")

    assert [
        s["StackStatus"] for s in cfn.list_stacks()["StackSummaries"] if s["StackName"] == "with-app"
    ] == ["DELETE_COMPLETE"]
    assert aws.eb.describe_applications(ApplicationNames=["stack-app"])["Applications"] == []
    gone = aws.eb.describe_environments(EnvironmentNames=["stack-app-blue"])["Environments"]
    assert [env["Status"] for env in gone] == ["Terminated"]


def test_a_change_set_imports_another_stacks_export(aws: Aws) -> None:
    """The controller's stack imports the provisioning stack's exports, and both go through change sets."""
    cfn: Any = aws.client("cloudformation")
    cfn.create_stack(StackName="exporting", TemplateBody=TEMPLATE)
    importing = {
        "Resources": {"Other": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "importing-queue"}}},
        "Outputs": {"Imported": {"Value": {"Fn::ImportValue": "stack-queue-url"}}},
    }
    cfn.create_change_set(
        StackName="importing",
        ChangeSetName="first",
        ChangeSetType="CREATE",
        TemplateBody=json.dumps(importing),
    )

    cfn.execute_change_set(ChangeSetName="first", StackName="importing")

    assert _outputs(aws, "importing")["Imported"] == _outputs(aws, "exporting")["QueueUrl"]


def test_deleting_a_stack_with_a_queue_policy_completes(aws: Aws) -> None:
    """The controller's stack gives its reconcile queue a policy; deleting the stack must not trip on it."""
    template = {
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "policed"}},
            "Policy": {
                "Type": "AWS::SQS::QueuePolicy",
                "Properties": {
                    "Queues": [{"Ref": "Queue"}],
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": "*",
                                "Action": "sqs:SendMessage",
                                "Resource": "*",
                            }
                        ],
                    },
                },
            },
        }
    }
    cfn: Any = aws.client("cloudformation")
    cfn.create_stack(StackName="policed", TemplateBody=json.dumps(template))

    cfn.delete_stack(StackName="policed")

    statuses = [s["StackStatus"] for s in cfn.list_stacks()["StackSummaries"] if s["StackName"] == "policed"]
    assert statuses == ["DELETE_COMPLETE"]
