"""What the sandbox creates in the emulated AWS account before anything runs: the controller's resources
(bucket, table, queue, signing secret, as `.chalice/resources.json` declares them) and the Beanstalk
application with its two environments, blue on the production CNAME and green on staging.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.dockerrun import ImageRef, build_bundle

RESOURCES_TEMPLATE = Path(__file__).resolve().parent.parent / ".chalice" / "resources.json"
SOLUTION_STACK = "64bit Amazon Linux 2023 v4.3.0 running Docker"
# The controller's table as its store module uses it, for when no resources template is present.
DEFAULT_TABLE = {
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "application", "AttributeType": "S"},
        {"AttributeName": "created_at", "AttributeType": "S"},
    ],
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "by_application",
            "KeySchema": [
                {"AttributeName": "application", "KeyType": "HASH"},
                {"AttributeName": "created_at", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
    ],
    "BillingMode": "PAY_PER_REQUEST",
}
_TABLE_KEYS = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes")


@dataclass(frozen=True)
class Names:
    """Every name the sandbox's account uses, derived from the application name."""

    application: str = "deliverypipeline"
    region: str = "us-east-1"

    @property
    def bucket(self) -> str:
        return f"{self.application}-artifacts"

    @property
    def table(self) -> str:
        return f"{self.application}-deployments"

    @property
    def queue(self) -> str:
        return f"{self.application}-reconcile"

    @property
    def secret_param(self) -> str:
        return f"/{self.application}/signing-secret"

    @property
    def prod_prefix(self) -> str:
        return f"{self.application}-prod"

    @property
    def staging_prefix(self) -> str:
        return f"{self.application}-staging"

    @property
    def blue(self) -> str:
        return f"{self.application}-blue"

    @property
    def green(self) -> str:
        return f"{self.application}-green"

    def cname(self, prefix: str) -> str:
        return f"{prefix}.{self.region}.elasticbeanstalk.com"

    @property
    def environments(self) -> dict[str, str]:
        """Environment name -> its CNAME prefix at the start."""
        return {self.blue: self.prod_prefix, self.green: self.staging_prefix}


def provision_controller_resources(clients: Any, names: Names, secret: str) -> None:
    """Bucket, deployments table, reconcile queue (+ its dead-letter queue) and the signing secret."""
    clients.s3.create_bucket(Bucket=names.bucket)
    clients.dynamodb.create_table(TableName=names.table, **table_definition(RESOURCES_TEMPLATE))
    queue, dead_letter, max_receive = queue_definitions(RESOURCES_TEMPLATE)
    if dead_letter is not None:
        dlq_url = clients.sqs.create_queue(QueueName=f"{names.queue}-dlq", Attributes=dead_letter)["QueueUrl"]
        dlq_arn = clients.sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])
        redrive = {"deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"], "maxReceiveCount": max_receive}
        queue = {**queue, "RedrivePolicy": json.dumps(redrive)}
    clients.sqs.create_queue(QueueName=names.queue, Attributes=queue)
    clients.ssm.put_parameter(Name=names.secret_param, Value=secret, Type="SecureString")


def provision_application(clients: Any, names: Names, image: ImageRef) -> None:
    """The Beanstalk application, `image`'s version, and blue (production) + green (staging) running it."""
    label = image.tag
    key = f"{names.application}/{label}.zip"
    clients.elasticbeanstalk.create_application(ApplicationName=names.application)
    clients.s3.put_object(Bucket=names.bucket, Key=key, Body=build_bundle(image))
    clients.elasticbeanstalk.create_application_version(
        ApplicationName=names.application,
        VersionLabel=label,
        SourceBundle={"S3Bucket": names.bucket, "S3Key": key},
        Description=f"image {image}",
    )
    for env_name, prefix in names.environments.items():
        clients.elasticbeanstalk.create_environment(
            ApplicationName=names.application,
            EnvironmentName=env_name,
            CNAMEPrefix=prefix,
            VersionLabel=label,
            SolutionStackName=SOLUTION_STACK,
        )


def table_definition(template: Path) -> dict[str, Any]:
    """create_table arguments (keys and indexes) from the template's DynamoDB table, else the default."""
    properties = _resource_properties(template, "AWS::DynamoDB::Table")
    if properties is None:
        return dict(DEFAULT_TABLE)
    table = {key: properties[key] for key in _TABLE_KEYS if key in properties}
    if properties.get("BillingMode") == "PAY_PER_REQUEST" or "ProvisionedThroughput" not in properties:
        table["BillingMode"] = "PAY_PER_REQUEST"
    else:
        table["ProvisionedThroughput"] = properties["ProvisionedThroughput"]
    return table


def queue_definitions(template: Path) -> tuple[dict[str, str], dict[str, str] | None, int]:
    """(reconcile queue attributes, dead-letter queue attributes or None, maxReceiveCount) from the
    template: the queue with a RedrivePolicy is the reconcile queue, the one it names its dead letters."""
    queues = _resources(template, "AWS::SQS::Queue")
    main = next((q for q in queues.values() if "RedrivePolicy" in q), None)
    if main is None:
        return (_queue_attributes(next(iter(queues.values()))) if queues else {}), None, 0
    redrive = main["RedrivePolicy"]
    target = redrive.get("deadLetterTargetArn", {}).get("Fn::GetAtt", [None])[0]
    dead_letter = queues.get(target) if isinstance(target, str) else None
    max_receive = int(redrive.get("maxReceiveCount", 5))
    dead_letter_attributes = None if dead_letter is None else _queue_attributes(dead_letter)
    return _queue_attributes(main), dead_letter_attributes, max_receive


def _queue_attributes(properties: dict[str, Any]) -> dict[str, str]:
    plain = ("VisibilityTimeout", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds", "DelaySeconds")
    return {key: str(properties[key]) for key in plain if isinstance(properties.get(key), int | str)}


def _resource_properties(template: Path, resource_type: str) -> dict[str, Any] | None:
    return next(iter(_resources(template, resource_type).values()), None)


def _resources(template: Path, resource_type: str) -> dict[str, dict[str, Any]]:
    """Logical id -> Properties of the template's resources of that type (none without a template)."""
    try:
        document = json.loads(template.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    resources = document.get("Resources", {}) if isinstance(document, dict) else {}
    return {
        logical_id: resource.get("Properties", {})
        for logical_id, resource in resources.items()
        if isinstance(resource, dict) and resource.get("Type") == resource_type
    }
