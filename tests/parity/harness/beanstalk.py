"""The Elastic Beanstalk stage the parity tests act on, shaped like the product's: one application, a
bundle bucket, and two load-balanced Docker environments (production and pre-production CNAMEs) on the
newest Docker platform of the AL2023 branch, one t3.micro instance each.

On AWS the environments need an instance profile and (for enhanced health, which `eb health` reads) a
service role; the stage makes both under the run's prefix. A deployment that fails is a bundle whose image
does not exist (AWS cannot pull it); the emulation cannot pull images, so there the same deployment is
told to fail through its controls. Nothing else differs between the targets.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .ledger import Ledger, gone_if_missing
from .observations import server_time
from .targets import Target
from .waiting import wait_until

PLATFORM_BRANCH = "Docker running on 64bit Amazon Linux 2023"
GOOD_IMAGE = "public.ecr.aws/nginx/nginx:stable-alpine"  # answers on port 80
BROKEN_IMAGE = "public.ecr.aws/deliverypipeline-parity/no-such-image:0"  # a pull that fails
EC2_POLICIES = ("arn:aws:iam::aws:policy/AWSElasticBeanstalkWebTier",)
SERVICE_POLICIES = ("arn:aws:iam::aws:policy/service-role/AWSElasticBeanstalkEnhancedHealth",)


def bundle(image: str) -> bytes:
    """A source bundle running `image` (Dockerrun.aws.json v1, as the controller writes them)."""
    dockerrun = {
        "AWSEBDockerrunVersion": "1",
        "Image": {"Name": image, "Update": "true"},
        "Ports": [{"ContainerPort": "80"}],
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("Dockerrun.aws.json", json.dumps(dockerrun, indent=2))
    return out.getvalue()


@dataclass
class Stage:
    target: Target
    ledger: Ledger
    app: str
    bucket: str
    blue: str
    green: str
    solution_stack: str = ""
    option_settings: list[dict[str, str]] = field(default_factory=list)
    launches: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> CreateEnvironment's answer
    labels: set[str] = field(default_factory=set)

    @classmethod
    def build(cls, target: Target, ledger: Ledger) -> Stage:
        stage = cls(
            target=target,
            ledger=ledger,
            app=ledger.name("app"),
            bucket=ledger.name("bundles"),
            blue=ledger.name("blue"),
            green=ledger.name("green"),
        )
        stage._arrange()
        return stage

    # ----- clients ------------------------------------------------------------------------------------

    @property
    def eb(self) -> Any:
        """Elastic Beanstalk as it answers (one attempt: a refusal is seen as it is)."""
        return self.target.client("elasticbeanstalk")

    @property
    def eb_patient(self) -> Any:
        """Elastic Beanstalk for arranging and polling (throttling retried)."""
        return self.target.client("elasticbeanstalk", attempts=8)

    # ----- arranging ----------------------------------------------------------------------------------

    def _arrange(self) -> None:
        s3 = self.target.client("s3", attempts=5)
        self.ledger.will_create(f"S3 bucket {self.bucket}", lambda: _empty_and_delete_bucket(s3, self.bucket))
        location = (
            {}
            if self.target.region == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": self.target.region}}
        )
        s3.create_bucket(Bucket=self.bucket, **location)
        s3.put_bucket_tagging(Bucket=self.bucket, Tagging={"TagSet": self.ledger.tags})
        self.ledger.will_create(
            f"Beanstalk application {self.app} (and its environments and versions)",
            lambda: self._delete_application(),
        )
        self.eb_patient.create_application(
            ApplicationName=self.app, Tags=self.ledger.tags, Description="deliverypipeline parity run"
        )
        self.solution_stack = self.newest_docker_stack()
        self.option_settings = self._environment_options()
        self.version("v1")
        self.version("v2")
        self.version("broken", BROKEN_IMAGE)

    def newest_docker_stack(self) -> str:
        """The solution stack name of the newest Ready version of the AL2023 Docker branch."""
        summaries = self.eb_patient.list_platform_versions(
            Filters=[
                {"Type": "PlatformBranchName", "Operator": "=", "Values": [PLATFORM_BRANCH]},
                {"Type": "PlatformStatus", "Operator": "=", "Values": ["Ready"]},
            ]
        )["PlatformSummaryList"]
        if not summaries:
            raise AssertionError(
                f"{self.target.kind} lists no Ready platform of the branch {PLATFORM_BRANCH}"
            )
        newest = max(summaries, key=lambda s: tuple(int(p) for p in s["PlatformVersion"].split(".")))
        described = self.eb_patient.describe_platform_version(PlatformArn=newest["PlatformArn"])
        return str(described["PlatformDescription"]["SolutionStackName"])

    def _environment_options(self) -> list[dict[str, str]]:
        profile = self._instance_profile()
        service_role = self._service_role()

        def option(namespace: str, name: str, value: str) -> dict[str, str]:
            return {"Namespace": namespace, "OptionName": name, "Value": value}

        return [
            option("aws:autoscaling:launchconfiguration", "IamInstanceProfile", profile),
            option("aws:autoscaling:launchconfiguration", "InstanceType", "t3.micro"),
            option("aws:autoscaling:asg", "MinSize", "1"),
            option("aws:autoscaling:asg", "MaxSize", "1"),
            option("aws:elasticbeanstalk:environment", "EnvironmentType", "LoadBalanced"),
            option("aws:elasticbeanstalk:environment", "LoadBalancerType", "application"),
            option("aws:elasticbeanstalk:environment", "ServiceRole", service_role),
            option("aws:elasticbeanstalk:healthreporting:system", "SystemType", "enhanced"),
        ]

    def _instance_profile(self) -> str:
        iam = self.target.client("iam", attempts=5)
        name = self.ledger.name("ec2")
        trust = _trust("ec2.amazonaws.com")
        self.ledger.will_create(f"IAM role and instance profile {name}", lambda: _delete_profile(iam, name))
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust, Tags=self.ledger.tags)
        for arn in EC2_POLICIES:
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)
        iam.create_instance_profile(InstanceProfileName=name, Tags=self.ledger.tags)
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
        return name

    def _service_role(self) -> str:
        iam = self.target.client("iam", attempts=5)
        name = self.ledger.name("eb-service")
        self.ledger.will_create(f"IAM role {name}", lambda: _delete_role(iam, name))
        role = iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=_trust("elasticbeanstalk.amazonaws.com"),
            Tags=self.ledger.tags,
        )
        for arn in SERVICE_POLICIES:
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)
        return str(role["Role"]["Arn"])

    def version(self, label: str, image: str = GOOD_IMAGE) -> dict[str, Any]:
        """Upload a bundle for `image` and register it as `label`; CreateApplicationVersion's answer."""
        key = f"{self.app}/{label}.zip"
        self.target.client("s3", attempts=5).put_object(Bucket=self.bucket, Key=key, Body=bundle(image))
        created = self.eb_patient.create_application_version(
            ApplicationName=self.app,
            VersionLabel=label,
            Description=f"parity {label}: {image}",
            SourceBundle={"S3Bucket": self.bucket, "S3Key": key},
        )
        self.labels.add(label)
        return dict(created)

    def launch(self, name: str, cname_prefix: str, label: str = "v1") -> dict[str, Any]:
        """CreateEnvironment (boto3); its answer. `wait_ready` waits for the launch."""
        self.ledger.will_create(f"Beanstalk environment {name}", lambda: self.terminate(name))
        created = self.eb_patient.create_environment(
            ApplicationName=self.app,
            EnvironmentName=name,
            CNAMEPrefix=cname_prefix,
            VersionLabel=label,
            SolutionStackName=self.solution_stack,
            OptionSettings=self.option_settings,
            Tags=self.ledger.tags,
        )
        self.launches[name] = dict(created)
        return dict(created)

    def launch_pair(self) -> None:
        self.launch(self.blue, self.ledger.name("prod"))
        self.launch(self.green, self.ledger.name("pre"))
        for name in (self.blue, self.green):
            self.wait_ready(name)

    # ----- observing -----------------------------------------------------------------------------------

    def describe(self, name: str) -> dict[str, Any]:
        found = self.eb_patient.describe_environments(
            ApplicationName=self.app, EnvironmentNames=[name], IncludeDeleted=False
        )["Environments"]
        if not found:
            raise AssertionError(f"no live environment {name}")
        return dict(found[0])

    def wait_ready(self, name: str) -> dict[str, Any]:
        """Until `name` is Ready with no operation in progress."""
        return wait_until(
            lambda: self.describe(name),
            lambda env: env["Status"] == "Ready" and not env.get("AbortableOperationInProgress"),
            f"{name} to be Ready",
            self.target.patience_s,
            self.target.poll_s,
        )

    def events(self, since: datetime, **query: Any) -> list[dict[str, Any]]:
        """DescribeEvents of the application from `since` (the target's clock), newest first."""
        found: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = self.eb_patient.describe_events(
                ApplicationName=self.app,
                StartTime=since,
                **query,
                **({"NextToken": token} if token else {}),
            )
            found.extend(page["Events"])
            token = page.get("NextToken")
            if not token:
                return found

    def events_until(self, since: datetime, last_message: str, **query: Any) -> list[dict[str, Any]]:
        """Events from `since` once one whose message starts with `last_message` is among them (AWS writes
        an operation's events as it goes; the last ones can trail the status)."""
        return wait_until(
            lambda: self.events(since, **query),
            lambda events: any(str(e.get("Message", "")).startswith(last_message) for e in events),
            f"the event {last_message!r}",
            self.target.patience_s,
            self.target.poll_s,
        )

    def operation_events(
        self, environment: str, since: datetime, first: str, last: str, request_id: str | None = None
    ) -> tuple[list[dict[str, Any]], datetime]:
        """The events of one operation on `environment`, newest first, and when it began: from the latest
        event whose message starts with `first` (carrying `request_id`, when given) to now, once one
        starting with `last` is among them. Earlier operations' events are left out even when they fall
        within the same second (the target's clock is read to the second)."""

        def began(events: list[dict[str, Any]]) -> dict[str, Any] | None:
            return next(
                (
                    event
                    for event in events  # newest first: the latest such event
                    if str(event.get("Message", "")).startswith(first)
                    and (request_id is None or event.get("RequestId") == request_id)
                ),
                None,
            )

        def look() -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
            events = self.events(since, EnvironmentName=environment)
            start = began(events)
            if start is None:
                return [], None
            index = events.index(start)
            return events[: index + 1], start

        found, start = wait_until(
            look,
            lambda seen: (
                seen[1] is not None and any(str(e.get("Message", "")).startswith(last) for e in seen[0])
            ),
            f"the events from {first!r} to {last!r} of {environment}",
            self.target.patience_s,
            self.target.poll_s,
        )
        assert start is not None
        return found, start["EventDate"]

    def now(self) -> datetime:
        """The target's clock, a second early (events of the second a call was made are included)."""
        answered = self.eb_patient.describe_applications(ApplicationNames=[self.app])
        return server_time(answered) - timedelta(seconds=1)

    # ----- what only the emulation needs told ------------------------------------------------------------

    def next_update_fails(self, name: str) -> None:
        """The next update of `name` fails: on AWS its bundle's image does not exist; the emulation is
        told."""
        if self.target.controls is not None:
            self.target.controls.outcome(name, "Red")

    def next_update_stays(self, name: str) -> None:
        """The next update of `name` stays in progress long enough to abort it (AWS: any real deployment)."""
        if self.target.controls is not None:
            self.target.controls.outcome(name, "Stuck")

    def next_updates_succeed(self, name: str) -> None:
        if self.target.controls is not None:
            self.target.controls.outcome(name, "Green")

    def deploy(self, name: str, label: str) -> dict[str, Any]:
        """UpdateEnvironment to `label` and wait until it has settled; the update's answer."""
        self.wait_ready(name)
        answered = self.eb_patient.update_environment(EnvironmentName=name, VersionLabel=label)
        self.wait_ready(name)
        return dict(answered)

    # ----- deleting ------------------------------------------------------------------------------------

    def terminate(self, name: str) -> None:
        """Terminate `name` (an update in progress too) and wait until it is gone: the roles it runs with
        are deleted after it."""
        live = self.eb_patient.describe_environments(
            ApplicationName=self.app, EnvironmentNames=[name], IncludeDeleted=False
        )["Environments"]
        if not live:
            return
        if live[0]["Status"] != "Terminating":
            gone_if_missing(
                lambda: self.eb_patient.terminate_environment(EnvironmentName=name, ForceTerminate=True)
            )
        wait_until(
            lambda: self.eb_patient.describe_environments(
                ApplicationName=self.app, EnvironmentNames=[name], IncludeDeleted=False
            )["Environments"],
            lambda found: not found or found[0]["Status"] == "Terminated",
            f"{name} to be terminated",
            self.target.patience_s,
            self.target.poll_s,
        )

    def _delete_application(self) -> None:
        eb = self.eb_patient
        gone_if_missing(lambda: eb.delete_application(ApplicationName=self.app, TerminateEnvByForce=True))


def _trust(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
    )


def _delete_role(iam: Any, name: str) -> None:
    def detach_all() -> None:
        for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=name, PolicyArn=attached["PolicyArn"])

    gone_if_missing(detach_all, "NoSuchEntity")
    gone_if_missing(lambda: iam.delete_role(RoleName=name), "NoSuchEntity")


def _delete_profile(iam: Any, name: str) -> None:
    gone_if_missing(
        lambda: iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=name), "NoSuchEntity"
    )
    gone_if_missing(lambda: iam.delete_instance_profile(InstanceProfileName=name), "NoSuchEntity")
    _delete_role(iam, name)


def _empty_and_delete_bucket(s3: Any, bucket: str) -> None:
    def empty() -> None:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            doomed = [
                {"Key": item["Key"], "VersionId": item["VersionId"]}
                for item in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if doomed:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed})

    gone_if_missing(empty, "NoSuchBucket")
    gone_if_missing(lambda: s3.delete_bucket(Bucket=bucket), "NoSuchBucket")


Arranger = Callable[[Stage], None]
