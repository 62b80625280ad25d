"""Elastic Beanstalk resources as the emulation holds them: environments, versions, pending operations."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moto.elasticbeanstalk.models import Application
from moto.elasticbeanstalk.utils import make_arn

from . import events as texts
from .deploy import DeployResult, Outcome
from .faults import MIXED_FLEET, MIXED_LEFT

DNS_SUFFIX = "elasticbeanstalk.com"
HEALTH_STATUS = {"Green": "Ok", "Yellow": "Warning", "Red": "Severe", "Grey": "Pending"}
WEB_TIER = {"Name": "WebServer", "Type": "Standard", "Version": "1.0"}
WORKER_TIER = {"Name": "Worker", "Type": "SQS/HTTP", "Version": "1.0"}
_ID_ALPHABET = string.ascii_lowercase + string.digits


def random_id(length: int, alphabet: str = _ID_ALPHABET) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def full_cname(prefix: str, region: str) -> str:
    return f"{prefix}.{region}.{DNS_SUFFIX}"


@dataclass
class Operation:
    """Something that has started and settles later: a launch, update, swap, termination, the processing
    of a version, or a health change. `request_id` is the API call's that started it (None for health)."""

    kind: str  # "launch" | "update" | "swap" | "terminate" | "process" | "health"
    started: datetime
    settle_after_s: float
    request_id: str | None = None
    outcome: Outcome = Outcome.GREEN
    version_label: str | None = None
    previous_version_label: str | None = None
    environments: list[Environment] = field(default_factory=list)
    version: ApplicationVersion | None = None
    health: str | None = None  # "health": the color it changes to
    hooked: bool = False
    hook_result: DeployResult | None = None
    option_settings: dict[tuple[str, str], str] | None = None  # "update": applied when it succeeds


class Environment:
    """An environment with the attributes AWS returns and a life cycle.

    It stands in moto's `Application.environments` next to what moto expects there (name, ARN, tags).
    """

    def __init__(
        self,
        application: Application,
        environment_name: str,
        solution_stack_name: str,
        tags: dict[str, str],
        *,
        platform_arn: str,
        tier: dict[str, str],
        cname: str,
        version_label: str | None,
        description: str | None,
        now: datetime,
        option_settings: dict[tuple[str, str], str] | None = None,
        operations_role: str | None = None,
    ) -> None:
        self.application_name: str = application.application_name
        self.account_id: str = application.account_id
        self.region: str = application.region
        self.environment_name = environment_name
        self.environment_id = "e-" + random_id(10)
        self.solution_stack_name = solution_stack_name
        self.platform_arn = platform_arn
        self.tags = tags
        self.tier = tier
        self.cname = cname  # "" for a worker environment
        # A web environment's Application Load Balancer (LoadBalancerType application): its name, its ARN's
        # id and its DNS name, the EndpointURL, as Beanstalk makes them.
        self.load_balancer_name = f"awseb-AWSEB-{random_id(12, string.ascii_uppercase + string.digits)}"
        self.load_balancer_id = random_id(16, string.hexdigits[:16])
        self.endpoint_url = (
            f"{self.load_balancer_name}-{random_id(10, string.digits)}.{self.region}.elb.amazonaws.com"
            if self.is_web
            else ""
        )
        self.version_label = version_label
        self.description = description
        self.status = "Launching"
        self.health = "Grey"
        self.abortable_operation_in_progress = False
        self.date_created = now
        self.date_updated = now
        self.pending: Operation | None = None
        self.deployed_at: datetime | None = None  # when an update last landed on a new version
        self.failing = False  # fails-after-swap: its version fails /health until the next deployment
        self.erroring = False  # errors-after-swap: its users meet 500s until the next deployment
        self.option_settings = dict(option_settings or {})  # its own and its template's (settings/options.py)
        self.operations_role = operations_role  # the role Beanstalk acts with downstream; None: the caller
        self.health_cause: str | None = None  # why health monitoring finds it Yellow or Red, when it says
        # events-before-state: what DescribeEnvironments still shows after an operation ended, and until when
        self.shown_before: tuple[dict[str, Any], datetime] | None = None
        self.deployment_id = 1  # each deployment of a version counts one (AWS's DeploymentId)
        self.expected_deployment = 1  # the last one that succeeded: what every instance should run
        self.stray_version: str | None = None  # mixed-versions: what a partway update left on some instances

    @property
    def is_web(self) -> bool:
        return self.tier["Name"] == "WebServer"

    @property
    def environment_arn(self) -> str:
        return make_arn(
            self.region, self.account_id, "environment", f"{self.application_name}/{self.environment_name}"
        )

    def mixed_cause(self) -> str | None:
        """The health cause of instances left on another version (mixed-versions), or None."""
        if self.stray_version is None:
            return None
        expected, deployment = self.version_label, self.expected_deployment
        return texts.INCORRECT_VERSIONS.format(
            left=MIXED_LEFT, fleet=MIXED_FLEET, expected=expected, deployment=deployment
        )

    @property
    def load_balancer_arn(self) -> str:
        """Its Application Load Balancer's ARN ("" for a worker environment: none)."""
        if not self.is_web:
            return ""
        resource = f"loadbalancer/app/{self.load_balancer_name}/{self.load_balancer_id}"
        return f"arn:aws:elasticloadbalancing:{self.region}:{self.account_id}:{resource}"

    @property
    def health_status(self) -> str:
        return HEALTH_STATUS[self.health]

    def describe(self) -> dict[str, Any]:
        """The EnvironmentDescription of this environment."""
        fields: dict[str, Any] = {
            "EnvironmentName": self.environment_name,
            "EnvironmentId": self.environment_id,
            "ApplicationName": self.application_name,
            "SolutionStackName": self.solution_stack_name,
            "PlatformArn": self.platform_arn,
            "EndpointURL": self.endpoint_url,
            "CNAME": self.cname,
            "DateCreated": self.date_created,
            "DateUpdated": self.date_updated,
            "Status": self.status,
            "AbortableOperationInProgress": self.abortable_operation_in_progress,
            "Health": self.health,
            "HealthStatus": self.health_status,
            "Tier": self.tier,
            "EnvironmentLinks": [],
            "EnvironmentArn": self.environment_arn,
        }
        if self.version_label is not None:
            fields["VersionLabel"] = self.version_label
        if self.description:
            fields["Description"] = self.description
        if self.operations_role:
            fields["OperationsRole"] = self.operations_role
        return fields


@dataclass
class ApplicationVersion:
    account_id: str
    region: str
    application_name: str
    version_label: str
    description: str | None
    source_bundle: tuple[str, str] | None  # (bucket, key)
    date_created: datetime
    status: str = "Unprocessed"  # Process=true: "Processing", then "Processed"
    date_updated: datetime | None = None

    @property
    def arn(self) -> str:
        return make_arn(
            self.region,
            self.account_id,
            "applicationversion",
            f"{self.application_name}/{self.version_label}",
        )

    def describe(self) -> dict[str, Any]:
        """The ApplicationVersionDescription of this version."""
        fields: dict[str, Any] = {
            "ApplicationVersionArn": self.arn,
            "ApplicationName": self.application_name,
            "VersionLabel": self.version_label,
            "DateCreated": self.date_created,
            "DateUpdated": self.date_updated or self.date_created,
            "Status": self.status,
        }
        if self.description:
            fields["Description"] = self.description
        if self.source_bundle is not None:
            fields["SourceBundle"] = {"S3Bucket": self.source_bundle[0], "S3Key": self.source_bundle[1]}
        return fields
