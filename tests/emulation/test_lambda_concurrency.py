"""Lambda holds reserved concurrency to the account's limit, as AWS does: at least 100 (or the whole limit,
when it is lower) stays unreserved; `get-account-settings` shows the limit and what is left.

https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from botocore.exceptions import ClientError

from moto_ext import awslambda

from .harness import ACCOUNT, REGION, Aws


def _refusal(minimum: int) -> str:
    return (
        "Specified ReservedConcurrentExecutions for function decreases account's "
        f"UnreservedConcurrentExecution below its minimum value of [{minimum}]."
    )


def _code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


@pytest.fixture
def role(aws: Aws) -> str:
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}]}
    created = aws.client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps(trust))
    return str(created["Role"]["Arn"])


def _function(aws: Aws, role: str, name: str, **extra: Any) -> dict[str, Any]:
    return dict(
        aws.client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": _code()},
            **extra,
        )
    )


def _reserve(aws: Aws, name: str, units: int) -> None:
    aws.client("lambda").put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=units)


def test_an_account_keeps_100_unreserved_of_its_1000(aws: Aws, role: str) -> None:
    for name in ("a", "b"):
        _function(aws, role, name)
    _reserve(aws, "a", 900)

    with pytest.raises(ClientError) as caught:
        _reserve(aws, "b", 1)

    assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert caught.value.response["Error"]["Message"] == _refusal(100)
    settings = aws.client("lambda").get_account_settings()
    assert settings["AccountLimit"]["ConcurrentExecutions"] == 1000
    assert settings["AccountLimit"]["UnreservedConcurrentExecutions"] == 100
    assert settings["AccountUsage"]["FunctionCount"] == 2


def test_a_new_account_with_a_limit_of_10_cannot_reserve_any(aws: Aws, role: str) -> None:
    awslambda.set_concurrency_limit(10, ACCOUNT, REGION)
    _function(aws, role, "api")

    with pytest.raises(ClientError) as caught:
        _reserve(aws, "api", 1)

    assert caught.value.response["Error"]["Message"] == _refusal(10)
    assert "ReservedConcurrentExecutions" not in aws.client("lambda").get_function_concurrency(
        FunctionName="api"
    )
    limit = aws.client("lambda").get_account_settings()["AccountLimit"]
    assert (limit["ConcurrentExecutions"], limit["UnreservedConcurrentExecutions"]) == (10, 10)


def test_cloudformation_rolls_back_a_function_that_reserves_more_than_the_account_allows(
    aws: Aws, role: str
) -> None:
    awslambda.set_concurrency_limit(10, ACCOUNT, REGION)
    aws.client("s3").put_object(Bucket="deliverypipeline-artifacts", Key="fn.zip", Body=_code())
    template = {
        "Resources": {
            "Api": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "FunctionName": "api",
                    "Runtime": "python3.12",
                    "Handler": "app.handler",
                    "Role": role,
                    "Code": {"S3Bucket": "deliverypipeline-artifacts", "S3Key": "fn.zip"},
                    "ReservedConcurrentExecutions": 10,
                },
            }
        }
    }
    cfn = aws.client("cloudformation")

    cfn.create_stack(StackName="controller", TemplateBody=json.dumps(template))

    assert cfn.describe_stacks(StackName="controller")["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
    reasons = [
        e.get("ResourceStatusReason", "")
        for e in cfn.describe_stack_events(StackName="controller")["StackEvents"]
        if e["ResourceStatus"] == "CREATE_FAILED"
    ]
    assert len(reasons) == 1 and reasons[0].startswith(
        f'Resource handler returned message: "{_refusal(10)} (Service: Lambda'
    )
    assert reasons[0].endswith("HandlerErrorCode: InvalidRequest)")
