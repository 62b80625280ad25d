"""What IAM authorizes for one API call: the (action, resource, condition keys) requests AWS evaluates.

Written from the Service Authorization Reference (docs.aws.amazon.com/service-authorization/latest/
reference/) and, for Elastic Beanstalk, its developer guide's "Resources and conditions for Elastic Beanstalk
actions". Only the operations the controller makes are known; any other raises `Unmapped`, so a new call
cannot pass the IAM check unexamined: add its row here, from those pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tests.infra.aws_calls import Call

ACCOUNT = "123456789012"  # moto's default account, in-process and in its server alike
PARTITION = "aws"


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        keys = "".join(f" {key}={value}" for key, value in sorted(self.context.items()))
        return f"{self.action} on {self.resource}{keys}"


class Unmapped(LookupError):
    """A call this module does not know how to authorize."""


def requests_of(call: Call) -> list[Request]:
    rule = _RULES.get((call.service, call.operation))
    if rule is None:
        raise Unmapped(
            f"{call}: no authorization rule for {call.service}.{call.operation}; add one to "
            "tests/infra/authorization.py from the Service Authorization Reference"
        )
    return rule(call)


# --- per service ----------------------------------------------------------------------------------------


def _arn(call: Call, service: str, resource: str, region: bool = True) -> str:
    return f"arn:{PARTITION}:{service}:{call.region if region else ''}:{ACCOUNT}:{resource}"


def _dynamodb(action: str) -> Callable[[Call], list[Request]]:
    def rule(call: Call) -> list[Request]:
        resource = f"table/{call.params['TableName']}"
        if call.params.get("IndexName"):
            resource += f"/index/{call.params['IndexName']}"
        return [Request(f"dynamodb:{action}", _arn(call, "dynamodb", resource))]

    return rule


_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def _transact_write(call: Call) -> list[Request]:
    """TransactWriteItems has no action of its own: each item is authorized as its single-item action."""
    found = []
    for item in call.params["TransactItems"]:
        ((kind, body),) = item.items()
        table = _arn(call, "dynamodb", f"table/{body['TableName']}")
        found.append(Request(f"dynamodb:{_TRANSACT_ACTIONS[kind]}", table))
    return found


def _sqs(action: str) -> Callable[[Call], list[Request]]:
    def rule(call: Call) -> list[Request]:
        if "QueueUrl" in call.params:
            owner, name = urlsplit(call.params["QueueUrl"]).path.strip("/").split("/")[-2:]
            resource = f"arn:{PARTITION}:sqs:{call.region}:{owner}:{name}"
        else:
            owner = call.params.get("QueueOwnerAWSAccountId", ACCOUNT)
            resource = f"arn:{PARTITION}:sqs:{call.region}:{owner}:{call.params['QueueName']}"
        return [Request(f"sqs:{action}", resource)]

    return rule


def _ssm_get_parameter(call: Call) -> list[Request]:
    name = call.params["Name"]
    return [
        Request(
            "ssm:GetParameter",
            _arn(call, "ssm", "parameter" + (name if name.startswith("/") else "/" + name)),
        )
    ]


def _secret_value(call: Call) -> list[Request]:
    """GetSecretValue on the secret its SecretId names (an ARN, as the controller's configuration gives)."""
    secret = str(call.params["SecretId"])
    resource = secret if secret.startswith("arn:") else _arn(call, "secretsmanager", f"secret:{secret}")
    return [Request("secretsmanager:GetSecretValue", resource)]


def _s3_object(action: str) -> Callable[[Call], list[Request]]:
    def rule(call: Call) -> list[Request]:
        return [Request(f"s3:{action}", f"arn:{PARTITION}:s3:::{call.params['Bucket']}/{call.params['Key']}")]

    return rule


# Elastic Beanstalk: resources are application/<app>, applicationversion/<app>/<label>,
# environment/<app>/<env>; actions inside an application carry elasticbeanstalk:InApplication.


def _application(call: Call) -> str:
    return str(call.params.get("ApplicationName") or call.config["EB_APPLICATION"])


def _eb(call: Call, resource: str) -> str:
    return _arn(call, "elasticbeanstalk", resource)


def _in_application(call: Call) -> dict[str, str]:
    return {"elasticbeanstalk:InApplication": _eb(call, f"application/{_application(call)}")}


def _environment(call: Call, name: str) -> str:
    return _eb(call, f"environment/{_application(call)}/{name}")


def _eb_environment_action(action: str, *name_params: str) -> Callable[[Call], list[Request]]:
    def rule(call: Call) -> list[Request]:
        if "EnvironmentId" in call.params or "SourceEnvironmentId" in call.params:
            raise Unmapped(f"{call}: environments named by id; the rule knows names only")
        context = _in_application(call)
        if call.params.get("VersionLabel"):
            label = call.params["VersionLabel"]
            context["elasticbeanstalk:FromApplicationVersion"] = _eb(
                call, f"applicationversion/{_application(call)}/{label}"
            )
        return [
            Request(f"elasticbeanstalk:{action}", _environment(call, call.params[param]), context)
            for param in name_params
        ]

    return rule


def _eb_listing(action: str, names_param: str, kind: str) -> Callable[[Call], list[Request]]:
    """Describe calls: each named resource, or every one in the application ("*" with InApplication)."""

    def rule(call: Call) -> list[Request]:
        names = call.params.get(names_param) or []
        resources = [_eb(call, f"{kind}/{_application(call)}/{name}") for name in names] or ["*"]
        return [
            Request(f"elasticbeanstalk:{action}", resource, _in_application(call)) for resource in resources
        ]

    return rule


def _eb_describe_events(call: Call) -> list[Request]:
    if call.params.get("EnvironmentName"):
        resource = _environment(call, call.params["EnvironmentName"])
    elif call.params.get("VersionLabel"):
        resource = _eb(call, f"applicationversion/{_application(call)}/{call.params['VersionLabel']}")
    else:
        resource = _eb(call, f"application/{_application(call)}")
    return [Request("elasticbeanstalk:DescribeEvents", resource, _in_application(call))]


def _eb_create_version(call: Call) -> list[Request]:
    resource = _eb(call, f"applicationversion/{_application(call)}/{call.params['VersionLabel']}")
    return [Request("elasticbeanstalk:CreateApplicationVersion", resource, _in_application(call))]


def _cloudwatch_get_metric_data(call: Call) -> list[Request]:
    """GetMetricData has no resource-level permissions: "*"."""
    return [Request("cloudwatch:GetMetricData", "*")]


def _cloudwatch_describe_alarms(call: Call) -> list[Request]:
    """DescribeAlarms is authorized on each alarm named (alarm:<name>), "*" when it names none."""
    names = call.params.get("AlarmNames") or []
    resources = [_arn(call, "cloudwatch", f"alarm:{name}") for name in names] or ["*"]
    return [Request("cloudwatch:DescribeAlarms", resource) for resource in resources]


def _always_allowed(call: Call) -> list[Request]:
    """sts:GetCallerIdentity needs no permission."""
    return []


_RULES: dict[tuple[str, str], Callable[[Call], list[Request]]] = {
    ("dynamodb", "GetItem"): _dynamodb("GetItem"),
    ("dynamodb", "PutItem"): _dynamodb("PutItem"),
    ("dynamodb", "UpdateItem"): _dynamodb("UpdateItem"),
    ("dynamodb", "DeleteItem"): _dynamodb("DeleteItem"),
    ("dynamodb", "Query"): _dynamodb("Query"),
    ("dynamodb", "Scan"): _dynamodb("Scan"),
    ("dynamodb", "TransactWriteItems"): _transact_write,
    ("sqs", "GetQueueUrl"): _sqs("GetQueueUrl"),
    ("sqs", "SendMessage"): _sqs("SendMessage"),
    ("sqs", "SendMessageBatch"): _sqs("SendMessage"),
    ("sqs", "ReceiveMessage"): _sqs("ReceiveMessage"),
    ("sqs", "DeleteMessage"): _sqs("DeleteMessage"),
    ("sqs", "ChangeMessageVisibility"): _sqs("ChangeMessageVisibility"),
    ("sqs", "GetQueueAttributes"): _sqs("GetQueueAttributes"),
    ("ssm", "GetParameter"): _ssm_get_parameter,
    ("secretsmanager", "GetSecretValue"): _secret_value,
    ("s3", "PutObject"): _s3_object("PutObject"),
    ("s3", "GetObject"): _s3_object("GetObject"),
    ("s3", "HeadObject"): _s3_object("GetObject"),
    ("elasticbeanstalk", "CreateApplicationVersion"): _eb_create_version,
    ("elasticbeanstalk", "DescribeApplicationVersions"): _eb_listing(
        "DescribeApplicationVersions", "VersionLabels", "applicationversion"
    ),
    ("elasticbeanstalk", "DescribeEnvironments"): _eb_listing(
        "DescribeEnvironments", "EnvironmentNames", "environment"
    ),
    ("elasticbeanstalk", "DescribeEvents"): _eb_describe_events,
    ("elasticbeanstalk", "DescribeEnvironmentResources"): _eb_environment_action(
        "DescribeEnvironmentResources", "EnvironmentName"
    ),
    ("elasticbeanstalk", "DescribeEnvironmentHealth"): _eb_environment_action(
        "DescribeEnvironmentHealth", "EnvironmentName"
    ),
    ("elasticbeanstalk", "DescribeInstancesHealth"): _eb_environment_action(
        "DescribeInstancesHealth", "EnvironmentName"
    ),
    ("elasticbeanstalk", "UpdateEnvironment"): _eb_environment_action("UpdateEnvironment", "EnvironmentName"),
    ("elasticbeanstalk", "AbortEnvironmentUpdate"): _eb_environment_action(
        "AbortEnvironmentUpdate", "EnvironmentName"
    ),
    ("elasticbeanstalk", "SwapEnvironmentCNAMEs"): _eb_environment_action(
        "SwapEnvironmentCNAMEs", "SourceEnvironmentName", "DestinationEnvironmentName"
    ),
    ("cloudwatch", "GetMetricData"): _cloudwatch_get_metric_data,
    ("cloudwatch", "DescribeAlarms"): _cloudwatch_describe_alarms,
    ("sts", "GetCallerIdentity"): _always_allowed,
}


def describe(call: Call) -> Any:
    """The call's requests as text, for failure messages."""
    return ", ".join(str(request) for request in requests_of(call))
