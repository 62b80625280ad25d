"""Whose permissions CloudFormation creates a stack's resources with, judged when the emulation's IAM checks
are on (Elastic Beanstalk's `caller-permissions` control, the one switch for the whole emulation).

A stack deployed with a service role (`RoleARN`, `aws cloudformation deploy --role-arn`) is created with
that role's permissions; without one, with the caller's own
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html). Passing the role
needs `iam:PassRole` on it, and a template using the serverless transform needs `cloudformation:
CreateChangeSet` on `arn:aws:cloudformation:<region>:aws:transform/Serverless-2016-10-31`
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/transform-aws-serverless.html). A caller
moto's IAM does not know (its "testing" keys) is the account's root: never judged itself, but a stack it
deploys with a service role is still created with that role's permissions.

What each resource type needs is listed below for the types this project's templates use, with the
resource its name gives; a type not listed is not judged. A refusal fails the resource as CloudFormation's
handlers report it, so the stack rolls back (rollback.py):
    Resource handler returned message: "User: <identity> is not authorized to perform: <action> on
    resource: <arn> because no identity-based policy allows the <action> action (...)"
"""

from __future__ import annotations

import contextvars
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.models import cloudformation_backends
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.exceptions import ServiceException

from moto_ext.elasticbeanstalk import backend as beanstalk_backend
from moto_ext.elasticbeanstalk.iam import callers, judge, roles

SERVERLESS_TRANSFORM = "Serverless-2016-10-31"
_checked: contextvars.ContextVar[bool] = contextvars.ContextVar("cfn_checked", default=False)
_caller: contextvars.ContextVar[callers.Caller | None] = contextvars.ContextVar("cfn_caller", default=None)


class AccessDenied(ServiceException):
    code = "AccessDenied"
    http_status = 403


class Refused(Exception):
    """A resource the acting identity may not create (CloudFormation's handler: AccessDenied)."""

    handler_error_code = "AccessDenied"
    status_code = 403

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Actor:
    arn: str
    policies: tuple[Any, ...]


def install() -> None:
    """Judge requests and resources (before rollback.install wraps resource creation: a refusal here is a
    failed resource there)."""
    original_call = CloudFormationResponse.call_action

    def call_action(self: CloudFormationResponse) -> Any:
        with _serving(self), warnings.catch_warnings():
            # AccessDenied is a common error, absent from CloudFormation's model: moto warns as it answers it.
            warnings.filterwarnings("ignore", message=r"Exception\(AccessDenied\)", category=UserWarning)
            return original_call(self)

    CloudFormationResponse.call_action = call_action  # type: ignore[method-assign,assignment]
    for name in ("create_stack", "create_change_set"):
        setattr(CloudFormationResponse, name, _judged_first(getattr(CloudFormationResponse, name)))
    parsing.parse_and_create_resource = _judging(parsing.parse_and_create_resource)


@contextmanager
def _serving(response: CloudFormationResponse) -> Iterator[None]:
    """The request's caller is known to what the request creates."""
    checked = _checks_on(response.current_account, response.region)
    caller = callers.identify(response.headers, response.current_account) if checked else None
    checked_token, caller_token = _checked.set(checked), _caller.set(caller)
    try:
        yield
    finally:
        _caller.reset(caller_token)
        _checked.reset(checked_token)


def _judged_first(action: Callable[[CloudFormationResponse], Any]) -> Callable[[CloudFormationResponse], Any]:
    """CreateStack and CreateChangeSet refuse (AccessDenied, answered as moto answers any error) what the
    caller may not pass or use before anything is created."""

    def judged(self: CloudFormationResponse) -> Any:
        caller = _caller.get()
        if caller is not None:
            _judge_request(self, caller)
        return action(self)

    return judged


def _checks_on(account_id: str, region: str) -> bool:
    return bool(beanstalk_backend(account_id, region).controls.caller_permissions)


def _judge_request(response: CloudFormationResponse, caller: callers.Caller) -> None:
    region, account = response.region, response.current_account
    role = response._get_param("RoleARN")
    if role and not judge.allows(
        caller.policies, "iam:PassRole", role, {"iam:PassedToService": "cloudformation.amazonaws.com"}
    ):
        raise AccessDenied(_denied(caller.arn, "iam:PassRole", role))
    body = response._get_param("TemplateBody") or ""
    if SERVERLESS_TRANSFORM in body:
        transform = f"arn:aws:cloudformation:{region}:aws:transform/{SERVERLESS_TRANSFORM}"
        if not judge.allows(caller.policies, "cloudformation:CreateChangeSet", transform, {}):
            raise AccessDenied(_denied(caller.arn, "cloudformation:CreateChangeSet", transform))
    del account


def _denied(identity: str, action: str, resource: str) -> str:
    return (
        f"User: {identity} is not authorized to perform: {action} on resource: {resource} because no "
        f"identity-based policy allows the {action} action"
    )


def _judging(original: Callable[..., Any]) -> Callable[..., Any]:
    def parse_and_create_resource(
        logical_id: str, resource_json: dict[str, Any], resources_map: Any, account_id: str, region_name: str
    ) -> Any:
        actor = _actor(resources_map.stack_id, account_id, region_name)
        if actor is not None:
            for action, resource, context in _needs(
                logical_id, resource_json, resources_map, account_id, region_name
            ):
                if not judge.allows(actor.policies, action, resource, context):
                    raise Refused(_denied(actor.arn, action, resource))
        return original(logical_id, resource_json, resources_map, account_id, region_name)

    return parse_and_create_resource


def _actor(stack_id: str, account_id: str, region: str) -> Actor | None:
    """Whose permissions create the stack's resources: its service role's (whoever called), else the
    caller's (None: the root, or checks off)."""
    if not _checked.get():
        return None
    caller = _caller.get()
    stack = cloudformation_backends[account_id][region].stacks.get(stack_id)
    role = getattr(stack, "role_arn", None)
    if role:
        name = role.rsplit("/", 1)[-1]
        return Actor(
            f"arn:aws:sts::{account_id}:assumed-role/{name}/AWSCloudFormation",
            tuple(roles.policies(role, account_id)),
        )
    return None if caller is None else Actor(caller.arn, caller.policies)


Need = tuple[str, str, dict[str, str]]


def _needs(
    logical_id: str, resource_json: dict[str, Any], resources_map: Any, account: str, region: str
) -> list[Need]:
    """The IAM requests creating this resource makes (a type this module does not list: none)."""
    kind = str(resource_json.get("Type", ""))
    rule = _RULES.get(kind)
    if rule is None:
        return []
    stack_name = str(resources_map["AWS::StackName"])
    properties = parsing.clean_json(resource_json.get("Properties", {}), resources_map)
    return rule(_Names(logical_id, stack_name, account, region, properties))


@dataclass(frozen=True)
class _Names:
    logical_id: str
    stack: str
    account: str
    region: str
    properties: dict[str, Any]

    def named(self, key: str) -> str:
        """The name the template gives, else the one CloudFormation generates (<stack>-<logical id>-...)."""
        value = self.properties.get(key)
        return str(value) if value else f"{self.stack}-{self.logical_id}-EMULATED"

    def arn(self, service: str, resource: str, region: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if region else ''}:{self.account}:{resource}"


def _role(n: _Names) -> list[Need]:
    role = n.arn("iam", f"role/{n.named('RoleName')}", region=False)
    return [("iam:CreateRole", role, {}), ("iam:PutRolePolicy", role, {}), ("iam:GetRole", role, {})]


def _function(n: _Names) -> list[Need]:
    function = n.arn("lambda", f"function:{n.named('FunctionName')}")
    needs: list[Need] = [
        ("lambda:CreateFunction", function, {}),
        ("lambda:GetFunction", function, {}),
        ("iam:PassRole", str(n.properties.get("Role", "")), {"iam:PassedToService": "lambda.amazonaws.com"}),
    ]
    code = n.properties.get("Code", {})
    if isinstance(code, dict) and code.get("S3Bucket"):
        needs.append(("s3:GetObject", f"arn:aws:s3:::{code['S3Bucket']}/{code.get('S3Key', '')}", {}))
    if n.properties.get("ReservedConcurrentExecutions") is not None:
        needs.append(("lambda:PutFunctionConcurrency", function, {}))
    # Each layer version, another account's public one too: "permission to call the GetLayerVersion API on
    # the layer version" (https://docs.aws.amazon.com/lambda/latest/dg/adding-layers.html).
    needs.extend(("lambda:GetLayerVersion", str(layer), {}) for layer in n.properties.get("Layers") or [])
    return needs


def _function_arn(n: _Names, reference: Any) -> str:
    text = str(reference)
    return text if text.startswith("arn:") else n.arn("lambda", f"function:{text}")


_RULES: dict[str, Callable[[_Names], list[Need]]] = {
    "AWS::IAM::Role": _role,
    "AWS::Lambda::Function": _function,
    "AWS::Lambda::EventSourceMapping": lambda n: [("lambda:CreateEventSourceMapping", "*", {})],
    "AWS::Lambda::Permission": lambda n: [
        ("lambda:AddPermission", _function_arn(n, n.properties.get("FunctionName")), {})
    ],
    "AWS::DynamoDB::Table": lambda n: [
        (action, n.arn("dynamodb", f"table/{n.named('TableName')}"), {})
        for action in ("dynamodb:CreateTable", "dynamodb:DescribeTable")
    ],
    "AWS::SQS::Queue": lambda n: [
        (action, n.arn("sqs", n.named("QueueName")), {})
        for action in ("sqs:CreateQueue", "sqs:GetQueueAttributes")
    ],
    "AWS::SQS::QueuePolicy": lambda n: [
        ("sqs:SetQueueAttributes", n.arn("sqs", str(url).rstrip("/").rsplit("/", 1)[-1]), {})
        for url in n.properties.get("Queues", [])
    ],
    "AWS::Events::Rule": lambda n: [
        (action, n.arn("events", f"rule/{n.named('Name')}"), {})
        for action in ("events:PutRule", "events:PutTargets")
    ],
    "AWS::Logs::LogGroup": lambda n: [
        (action, n.arn("logs", f"log-group:{n.named('LogGroupName')}"), {})
        for action in ("logs:CreateLogGroup", "logs:PutRetentionPolicy")
    ],
    "AWS::ApiGateway::RestApi": lambda n: [
        ("apigateway:POST", f"arn:aws:apigateway:{n.region}::/restapis", {})
    ],
    "AWS::ApiGateway::Deployment": lambda n: [
        ("apigateway:POST", f"arn:aws:apigateway:{n.region}::/restapis/*/deployments", {})
    ],
    "AWS::ApiGateway::Stage": lambda n: [
        ("apigateway:POST", f"arn:aws:apigateway:{n.region}::/restapis/*/stages", {}),
        ("apigateway:PATCH", f"arn:aws:apigateway:{n.region}::/restapis/*/stages/*", {}),
    ],
}
