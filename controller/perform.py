"""Perform one Beanstalk action (the shell's write side). A refusal by AWS comes back as a value; transient
errors (throttling beyond the adaptive retries, 5xx, network) propagate so SQS redelivers the tick."""

from __future__ import annotations

import dataclasses

from controller import bundle
from controller.actions import AbortUpdate, Action, CreateVersion, SwapCNAMEs, UpdateEnvironment
from controller.logline import emit
from controller.model import Deployment
from controller.observation import ActionFailure, Observed, VersionView
from controller.runtime import Runtime

TRANSIENT_CODES = frozenset(
    {"Throttling", "ThrottlingException", "RequestLimitExceeded", "ServiceUnavailable", "InternalFailure"}
)


def perform(action: Action, d: Deployment, observed: Observed, rt: Runtime) -> Observed:
    """Run the action; the returned observation includes what the action itself revealed."""
    from botocore.exceptions import ClientError

    name = type(action).__name__
    emit("action", deployment_id=d.id, action=name, **dataclasses.asdict(action))
    try:
        if isinstance(action, CreateVersion):
            return dataclasses.replace(observed, version=_create_version(action, rt))
        if isinstance(action, UpdateEnvironment):
            rt.eb.update_environment(
                EnvironmentName=action.environment_name, VersionLabel=action.version_label
            )
        elif isinstance(action, SwapCNAMEs):
            rt.eb.swap_environment_cnames(
                SourceEnvironmentName=action.source_environment,
                DestinationEnvironmentName=action.destination_environment,
            )
        elif isinstance(action, AbortUpdate):
            _abort(action, rt)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
        if code in TRANSIENT_CODES or status >= 500:
            raise
        message = error.response.get("Error", {}).get("Message", str(error))
        return dataclasses.replace(observed, action_failure=ActionFailure(name, f"{code}: {message}"))
    return observed


def _create_version(action: CreateVersion, rt: Runtime) -> VersionView:
    """Upload the bundle and create the version; an existing version is reported, not overwritten."""
    from botocore.exceptions import ClientError

    application = rt.config.eb_application
    key = bundle.bundle_key(application, action.version_label)
    rt.s3.put_object(
        Bucket=rt.config.artifact_bucket, Key=key, Body=bundle.source_bundle(action.image, action.tag)
    )
    try:
        rt.eb.create_application_version(
            ApplicationName=application,
            VersionLabel=action.version_label,
            Description=f"{action.image}:{action.tag}",
            SourceBundle={"S3Bucket": rt.config.artifact_bucket, "S3Key": key},
            Process=False,
        )
    except ClientError as error:
        if "already exists" not in str(error):
            raise
        found = rt.eb.describe_application_versions(
            ApplicationName=application, VersionLabels=[action.version_label]
        )["ApplicationVersions"]
        return VersionView(exists=bool(found), image=found[0].get("Description") if found else None)
    return VersionView(exists=True, image=f"{action.image}:{action.tag}")


def _abort(action: AbortUpdate, rt: Runtime) -> None:
    """Abort is best effort: the update may have finished between the observation and now."""
    from botocore.exceptions import ClientError

    try:
        rt.eb.abort_environment_update(EnvironmentName=action.environment_name)
    except ClientError as error:
        emit("abort_skipped", environment=action.environment_name, reason=str(error))
