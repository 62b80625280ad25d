"""Fetch one kind of observation from AWS or HTTP (the shell's read side)."""

from __future__ import annotations

import dataclasses
from typing import Any

from controller import bundle
from controller.model import Deployment
from controller.observation import EnvironmentView, EventView, Need, Observed, VersionView
from controller.reconcile import EVENT_SKEW
from controller.runtime import Runtime


def fetch(need: Need, d: Deployment, observed: Observed, rt: Runtime) -> Observed:
    if need is Need.LEASE:
        return dataclasses.replace(observed, lease=rt.store.lease(d.application))
    if need is Need.VERSION:
        return dataclasses.replace(observed, version=version(d, rt))
    if need is Need.ENVIRONMENTS:
        return dataclasses.replace(observed, environments=environments(rt))
    if need is Need.EVENTS:
        return dataclasses.replace(observed, events=events(d, rt))
    if need is Need.SMOKE:
        return dataclasses.replace(observed, smoke=rt.http_get(f"http://{d.preprod_cname}/health"))
    return dataclasses.replace(observed, verify=rt.http_get(f"http://{d.prod_cname}/health"))


def version(d: Deployment, rt: Runtime) -> VersionView:
    found = rt.eb.describe_application_versions(
        ApplicationName=rt.config.eb_application, VersionLabels=[d.version_label]
    )["ApplicationVersions"]
    if not found:
        return VersionView(exists=False)
    return VersionView(exists=True, image=_image_of(found[0], rt))


def _image_of(version: dict[str, Any], rt: Runtime) -> str | None:
    """What an existing version runs: its bundle's Dockerrun image (authoritative), else its description."""
    from botocore.exceptions import ClientError

    source = version.get("SourceBundle") or {}
    if source.get("S3Bucket") and source.get("S3Key"):
        try:
            body = rt.s3.get_object(Bucket=source["S3Bucket"], Key=source["S3Key"])["Body"].read()
        except ClientError:
            body = b""
        image = bundle.image_of(body)
        if image is not None:
            return image
    description = version.get("Description")
    return description if isinstance(description, str) else None


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
        )
        for e in found["Environments"]
    )


def events(d: Deployment, rt: Runtime) -> tuple[EventView, ...]:
    """ERROR and FATAL events of pre-production since the update was requested (one call, ≤ 50 events)."""
    assert d.deploy_requested_at is not None
    found = rt.eb.describe_events(
        ApplicationName=rt.config.eb_application,
        EnvironmentName=d.preprod_env,
        StartTime=d.deploy_requested_at - EVENT_SKEW,
        Severity="ERROR",
        MaxRecords=50,
    )
    return tuple(
        EventView(
            date=e["EventDate"],
            severity=e.get("Severity", "INFO"),
            message=e.get("Message", ""),
            environment_name=e.get("EnvironmentName"),
            version_label=e.get("VersionLabel"),
        )
        for e in found["Events"]
    )
