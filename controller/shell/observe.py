"""Fetch one kind of observation from AWS or HTTP (the shell's read side). Errors propagate to the tick,
which classifies them (aws_errors). An HTTP check starts only when its timeout fits in the invocation's
deadline (AWS calls ask it themselves, clients.py)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from controller.core import reconcile
from controller.core.analysis.checks import alarm_names
from controller.core.decision import health_problem
from controller.core.failure_events import EVENT_SKEW
from controller.core.model import Deployment
from controller.core.observation import (
    EnvironmentView,
    EventView,
    HttpCheck,
    InstanceView,
    Need,
    Observed,
    PastUpdate,
    VersionView,
)
from controller.core.steps.checks import SMOKE_PASSES, direct_url, public_url, smoke_url
from controller.shell import aws_errors, bundle, cloudwatch, deadline, http_check
from controller.shell.runtime import Runtime

MAX_EVENTS = 50
HISTORY_RECORDS = 10


def fetch(need: Need, d: Deployment, observed: Observed, rt: Runtime, now: datetime) -> Observed:
    """`observed` with the observation `need` added, as the step deciding at `now` asks for it."""
    match need:
        case Need.LEASE:
            return dataclasses.replace(observed, lease=rt.store.lease(d.application))
        case Need.VERSION:
            return dataclasses.replace(observed, version=version(d, rt))
        case Need.ENVIRONMENTS:
            return dataclasses.replace(observed, environments=environments(rt))
        case Need.EVENTS:
            return dataclasses.replace(observed, events=events(d, rt))
        case Need.HISTORY:
            return dataclasses.replace(observed, history=history(d, rt))
        case Need.INSTANCES:
            assert d.preprod_env is not None
            return dataclasses.replace(observed, instances=instances(d.preprod_env, rt))
        case Need.SMOKE:
            deadline.require(SMOKE_PASSES * http_check.TIMEOUT_S, "the smoke test's round of checks")
            return dataclasses.replace(observed, smoke=smoke_round(d, rt))
        case Need.DIRECT:
            deadline.require(http_check.TIMEOUT_S, "a check of the new environment")
            return dataclasses.replace(observed, direct=rt.http_get(direct_url(d)))
        case Need.PUBLIC:
            deadline.require(http_check.TIMEOUT_S, "a check of the production name")
            return dataclasses.replace(observed, public=rt.http_get(public_url(d)))
        case Need.LOAD_BALANCERS:
            names = reconcile.wanted_load_balancers(d, observed, rt.config)
            return dataclasses.replace(observed, load_balancers=cloudwatch.load_balancers(names, rt))
        case Need.METRICS:
            request = reconcile.metric_request(d, observed, now, rt.config)
            assert request is not None, f"{need} asked with no request to make ({d.current_step})"
            return dataclasses.replace(observed, metrics=cloudwatch.metrics(request, rt))
        case Need.ALARMS:
            names = alarm_names(rt.config.analysis_checks)
            return dataclasses.replace(observed, alarms=cloudwatch.alarms(names, rt))


def smoke_round(d: Deployment, rt: Runtime) -> tuple[HttpCheck, ...]:
    """SMOKE_PASSES checks of pre-production one after the other (each a new connection, so a load
    balancer spreads them over its instances), ending at the first that does not pass."""
    checks: list[HttpCheck] = []
    for _ in range(SMOKE_PASSES):
        checks.append(rt.http_get(smoke_url(d)))
        if health_problem(checks[-1], d.version_label) is not None:
            break
    return tuple(checks)


def version(d: Deployment, rt: Runtime) -> VersionView:
    found = rt.eb.describe_application_versions(
        ApplicationName=rt.config.eb_application, VersionLabels=[d.version_label]
    )["ApplicationVersions"]
    if not found:
        return VersionView(exists=False)
    return VersionView(exists=True, image=_image_of(found[0], rt))


def _image_of(version: dict[str, Any], rt: Runtime) -> str | None:
    """What an existing version runs: its bundle's Dockerrun image (authoritative), else its description."""
    source = version.get("SourceBundle") or {}
    if source.get("S3Bucket") and source.get("S3Key"):
        try:
            body = rt.s3.get_object(Bucket=source["S3Bucket"], Key=source["S3Key"])["Body"].read()
        except Exception as error:
            classified = aws_errors.classify(error, "GetObject")
            if classified is None or classified.transient:
                raise
            body = b""  # no such bundle, or not ours to read: the description is all there is
        image = bundle.image_of(body)
        if image is not None:
            return image
    description = version.get("Description")
    return description if isinstance(description, str) else None


def history(d: Deployment, rt: Runtime) -> tuple[PastUpdate, ...]:
    """What the updates of the application's last HISTORY_RECORDS deployments took (newest first): one
    query of the records."""
    return tuple(
        PastUpdate(past.preprod_env, past.update_s)
        for past in rt.store.recent(d.application, HISTORY_RECORDS)
        if past.id != d.id and past.preprod_env is not None and past.update_s is not None
    )


def instances(environment: str, rt: Runtime) -> tuple[InstanceView, ...]:
    """The environment's instances and the version each runs (DescribeInstancesHealth, enhanced health)."""
    found: list[InstanceView] = []
    query: dict[str, Any] = {"EnvironmentName": environment, "AttributeNames": ["Deployment"]}
    while True:
        answer = rt.eb.describe_instances_health(**query)
        for instance in answer.get("InstanceHealthList", []):
            deployment = instance.get("Deployment") or {}
            found.append(
                InstanceView(
                    instance_id=instance.get("InstanceId", ""),
                    version_label=deployment.get("VersionLabel"),
                    deployment_status=deployment.get("Status"),
                )
            )
        if not answer.get("NextToken"):
            return tuple(found)
        query["NextToken"] = answer["NextToken"]


def environments(rt: Runtime) -> tuple[EnvironmentView, ...]:
    found = rt.eb.describe_environments(ApplicationName=rt.config.eb_application, IncludeDeleted=False)
    return tuple(
        EnvironmentView(
            name=e["EnvironmentName"],
            id=e.get("EnvironmentId", ""),
            cname=e.get("CNAME", ""),
            status=e.get("Status", ""),
            health=e.get("Health", "Grey"),
            version_label=e.get("VersionLabel"),
            date_updated=e.get("DateUpdated"),
            endpoint_url=e.get("EndpointURL", ""),
            tier=(e.get("Tier") or {}).get("Name", "WebServer"),
        )
        for e in found["Environments"]
    )


def events(d: Deployment, rt: Runtime) -> tuple[EventView, ...]:
    """ERROR and FATAL events of pre-production since the update was requested (one call): only those of
    the update's request when its RequestId is known."""
    assert d.deploy_requested_at is not None and d.preprod_env is not None
    query: dict[str, Any] = {
        "ApplicationName": rt.config.eb_application,
        "EnvironmentName": d.preprod_env,
        "StartTime": d.deploy_requested_at - EVENT_SKEW,
        "Severity": "ERROR",
        "MaxRecords": MAX_EVENTS,
    }
    if d.update_request_id is not None:
        query["RequestId"] = d.update_request_id
    found = rt.eb.describe_events(**query)
    return tuple(
        EventView(
            date=e["EventDate"],
            severity=e.get("Severity", "INFO"),
            message=e.get("Message", ""),
            environment_name=e.get("EnvironmentName"),
            version_label=e.get("VersionLabel"),
            request_id=e.get("RequestId"),
        )
        for e in found["Events"]
    )
