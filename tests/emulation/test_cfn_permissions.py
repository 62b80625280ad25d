"""CloudFormation creates a stack's resources with its service role's permissions, else the caller's, when
IAM checks are on: passing the role needs iam:PassRole, the serverless transform needs CreateChangeSet on
its own ARN, and a resource the acting identity may not create rolls the stack back.

https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from .harness import REGION, Aws

TABLE = {
    "Resources": {
        "Table": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "TableName": "records",
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            },
        }
    }
}
SERVERLESS = {
    "Transform": "AWS::Serverless-2016-10-31",
    "Resources": {"Table": {"Type": "AWS::Serverless::SimpleTable", "Properties": {"TableName": "records"}}},
}
TRANSFORM = "arn:aws:cloudformation:us-east-1:aws:transform/Serverless-2016-10-31"
CLOUDFORMATION_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "cloudformation.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def _document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(actions: list[str], resource: str = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resource}


def _user(aws: Aws, *statements: dict[str, Any]) -> Any:
    """A CloudFormation client for an IAM user `ci` with exactly these permissions."""
    iam = aws.client("iam")
    iam.create_user(UserName="ci")
    iam.put_user_policy(UserName="ci", PolicyName="ci", PolicyDocument=_document(*statements))
    key = iam.create_access_key(UserName="ci")["AccessKey"]
    return boto3.session.Session(
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"], region_name=REGION
    ).client("cloudformation", endpoint_url=aws.endpoint_url)


def _service_role(aws: Aws) -> str:
    iam = aws.client("iam")
    arn = iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=json.dumps(CLOUDFORMATION_TRUST))[
        "Role"
    ]["Arn"]
    iam.put_role_policy(
        RoleName="deployer", PolicyName="tables", PolicyDocument=_document(_allow(["dynamodb:*"]))
    )
    return str(arn)


def _status(aws: Aws) -> str:
    return str(aws.client("cloudformation").describe_stacks(StackName="app")["Stacks"][0]["StackStatus"])


def _failed(aws: Aws) -> list[str]:
    events = aws.client("cloudformation").describe_stack_events(StackName="app")["StackEvents"]
    return [e["ResourceStatusReason"] for e in events if e["ResourceStatus"] == "CREATE_FAILED"]


@pytest.fixture
def checked(aws: Aws) -> Aws:
    aws.be.set_caller_permissions(True)
    return aws


def test_without_a_role_resources_are_created_with_the_callers_permissions(checked: Aws) -> None:
    ci = _user(checked, _allow(["cloudformation:*"]))

    ci.create_stack(StackName="app", TemplateBody=json.dumps(TABLE))

    assert _status(checked) == "ROLLBACK_COMPLETE"
    [reason] = _failed(checked)
    assert (
        'Resource handler returned message: "User: arn:aws:iam::123456789012:user/ci is not authorized to '
        "perform: dynamodb:CreateTable on resource: arn:aws:dynamodb:us-east-1:123456789012:table/records "
        "because no identity-based policy allows the dynamodb:CreateTable action (Service: DynamoDB, "
        "Status Code: 403, "
    ) in reason
    assert reason.endswith("HandlerErrorCode: AccessDenied)")


def test_with_a_service_role_resources_are_created_with_the_roles_permissions(checked: Aws) -> None:
    role = _service_role(checked)
    ci = _user(checked, _allow(["cloudformation:*"]), _allow(["iam:PassRole"], role))

    ci.create_stack(StackName="app", TemplateBody=json.dumps(TABLE), RoleARN=role)

    assert _status(checked) == "CREATE_COMPLETE"


def test_passing_the_service_role_needs_iam_pass_role(checked: Aws) -> None:
    role = _service_role(checked)
    ci = _user(checked, _allow(["cloudformation:*"]))

    with pytest.raises(ClientError) as caught:
        ci.create_stack(StackName="app", TemplateBody=json.dumps(TABLE), RoleARN=role)

    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    assert (
        f"not authorized to perform: iam:PassRole on resource: {role}"
        in caught.value.response["Error"]["Message"]
    )


@pytest.mark.parametrize("allowed", [False, True])
def test_the_serverless_transform_needs_create_change_set_on_its_own_arn(checked: Aws, allowed: bool) -> None:
    role = _service_role(checked)
    statements = [
        _allow(["cloudformation:*"], "arn:aws:cloudformation:*:123456789012:stack/*"),
        _allow(["iam:PassRole"], role),
    ]
    if allowed:
        statements.append(_allow(["cloudformation:CreateChangeSet"], TRANSFORM))
    ci = _user(checked, *statements)

    def deploy() -> None:
        ci.create_change_set(
            StackName="app",
            ChangeSetName="first",
            ChangeSetType="CREATE",
            TemplateBody=json.dumps(SERVERLESS),
            RoleARN=role,
        )

    if allowed:
        deploy()
        return
    with pytest.raises(ClientError) as caught:
        deploy()
    assert (
        f"not authorized to perform: cloudformation:CreateChangeSet on resource: {TRANSFORM}"
        in (caught.value.response["Error"]["Message"])
    )


POWERTOOLS = "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python311-x86_64:27"


@pytest.mark.parametrize("allowed", [False, True])
def test_a_function_with_a_layer_needs_get_layer_version_on_that_layer_version(
    checked: Aws, allowed: bool
) -> None:
    """https://docs.aws.amazon.com/lambda/latest/dg/adding-layers.html: "Make sure that you have permission to
    call the GetLayerVersion API on the layer version" - for a public layer too, in the identity's policy."""
    iam = checked.client("iam")
    role = _service_role(checked)
    statements = [
        _allow(["lambda:CreateFunction", "lambda:GetFunction"]),
        _allow(["iam:PassRole"], role),
    ]
    if allowed:
        statements.append(_allow(["lambda:GetLayerVersion"], POWERTOOLS.rsplit(":", 1)[0] + ":*"))
    iam.put_role_policy(RoleName="deployer", PolicyName="functions", PolicyDocument=_document(*statements))
    function = {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "FunctionName": "app-worker",
            "Runtime": "python3.11",
            "Handler": "index.handler",
            "Role": role,
            "Code": {"ZipFile": "def handler(event, context):\n    return None\n"},
            "Layers": [POWERTOOLS],
        },
    }

    checked.client("cloudformation").create_stack(
        StackName="app", TemplateBody=json.dumps({"Resources": {"Worker": function}}), RoleARN=role
    )

    if allowed:
        assert _status(checked) == "CREATE_COMPLETE"
        return
    assert _status(checked) == "ROLLBACK_COMPLETE"
    [reason] = _failed(checked)
    assert (
        "User: arn:aws:sts::123456789012:assumed-role/deployer/AWSCloudFormation is not authorized to "
        f"perform: lambda:GetLayerVersion on resource: {POWERTOOLS} because no identity-based policy allows "
        "the lambda:GetLayerVersion action (Service: Lambda, Status Code: 403, "
    ) in reason


def test_without_iam_checks_or_as_the_root_nothing_is_judged(aws: Aws) -> None:
    ci = _user(aws, _allow(["cloudformation:*"]))
    ci.create_stack(StackName="app", TemplateBody=json.dumps(TABLE))
    assert _status(aws) == "CREATE_COMPLETE"

    aws.be.set_caller_permissions(True)
    aws.client("cloudformation").create_stack(
        StackName="root", TemplateBody=json.dumps({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}})
    )
    described = aws.client("cloudformation").describe_stacks(StackName="root")["Stacks"][0]
    assert described["StackStatus"] == "CREATE_COMPLETE"
