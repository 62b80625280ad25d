"""Perform one Beanstalk action (the shell's write side) and say what AWS answered, as a value.

Calls that change Beanstalk go through the single-attempt client (`rt.eb_once`): an error is never
re-sent blindly; it is classified (aws_errors) and handed back to the reconcile step, which decides.
"""

from __future__ import annotations

import dataclasses

from controller.core.actions import AbortUpdate, Action, CreateVersion, SwapCNAMEs, UpdateEnvironment
from controller.core.model import Deployment
from controller.core.observation import ActionOutcome, ActionResult
from controller.shell import aws_errors, bundle
from controller.shell.aws_errors import ErrorKind
from controller.shell.logline import emit
from controller.shell.runtime import Runtime

OUTCOMES = {
    ErrorKind.THROTTLED: ActionOutcome.NOT_DONE,
    ErrorKind.BUSY: ActionOutcome.NOT_DONE,
    ErrorKind.UNKNOWN: ActionOutcome.UNKNOWN,
    ErrorKind.REFUSED: ActionOutcome.REFUSED,
    ErrorKind.OUT_OF_TIME: ActionOutcome.NOT_DONE,  # never sent
}
OPERATIONS = {
    CreateVersion: "CreateApplicationVersion",
    UpdateEnvironment: "UpdateEnvironment",
    SwapCNAMEs: "SwapEnvironmentCNAMEs",
    AbortUpdate: "AbortEnvironmentUpdate",
}


def perform(action: Action, d: Deployment, rt: Runtime) -> ActionResult:
    operation = OPERATIONS.get(type(action), type(action).__name__)
    emit("action", deployment_id=d.id, action=operation, **dataclasses.asdict(action))
    try:
        request_id = _call(action, rt)
    except Exception as error:
        classified = aws_errors.classify(error, operation)
        if classified is None:
            raise
        emit(
            "action_error",
            deployment_id=d.id,
            action=operation,
            kind=classified.kind.value,
            error=str(classified),
        )
        return ActionResult(action, OUTCOMES[classified.kind], f"{classified.code}: {classified.message}")
    return ActionResult(action, ActionOutcome.DONE, request_id=request_id)


def _call(action: Action, rt: Runtime) -> str | None:
    """Make the call; the RequestId of its answer."""
    if isinstance(action, CreateVersion):
        application = rt.config.eb_application
        key = bundle.bundle_key(application, action.version_label)
        auth = rt.config.registry_auth_key
        body = bundle.source_bundle(
            action.image, action.tag, None if auth is None else (rt.config.artifact_bucket, auth)
        )
        rt.s3.put_object(Bucket=rt.config.artifact_bucket, Key=key, Body=body)  # same bytes: safe to retry
        answer = rt.eb_once.create_application_version(
            ApplicationName=application,
            VersionLabel=action.version_label,
            Description=bundle.version_description(action.image, action.tag),
            SourceBundle={"S3Bucket": rt.config.artifact_bucket, "S3Key": key},
            Process=False,
        )
    elif isinstance(action, UpdateEnvironment):
        answer = rt.eb_once.update_environment(
            EnvironmentName=action.environment_name, VersionLabel=action.version_label
        )
    elif isinstance(action, SwapCNAMEs):
        answer = rt.eb_once.swap_environment_cnames(
            SourceEnvironmentName=action.source_environment,
            DestinationEnvironmentName=action.destination_environment,
        )
    elif isinstance(action, AbortUpdate):
        answer = rt.eb_once.abort_environment_update(EnvironmentName=action.environment_name)
    else:
        raise TypeError(f"not a Beanstalk action: {action!r}")
    request_id = answer.get("ResponseMetadata", {}).get("RequestId")
    return str(request_id) if request_id else None
