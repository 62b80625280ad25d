"""What a test or a sandbox decides about a deployment: its outcome, and the hook that decides it."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass


class Outcome(enum.Enum):
    """How an environment update ends.

    GREEN: Ready/Green on the new version (the default).
    RED: Ready/Red with "Failed to deploy application."; the version falls back to the previous one.
    YELLOW: Ready/Yellow on the new version.
    STUCK: stays Updating until AbortEnvironmentUpdate.
    SILENT_ROLLBACK: Ready/Green, no error event, but still on the previous version.
    """

    GREEN = "Green"
    RED = "Red"
    YELLOW = "Yellow"
    STUCK = "Stuck"
    SILENT_ROLLBACK = "SilentRollback"


@dataclass(frozen=True)
class DeployRequest:
    """What a deploy hook gets: the environment and the version being deployed to it."""

    environment_name: str
    environment_id: str
    cname: str
    version_label: str
    previous_version_label: str | None
    source_bundle: bytes  # the zip from S3; empty for the sample application


@dataclass(frozen=True)
class DeployResult:
    """What a deploy hook answers; `message` becomes the ERROR event text of a failed deployment."""

    outcome: Outcome
    message: str | None = None


DeployHook = Callable[[DeployRequest], DeployResult]


def answer(hook: DeployHook, request: DeployRequest) -> DeployResult:
    """The hook's answer; a hook that raises has failed the deployment (RED with the error)."""
    try:
        return hook(request)
    except Exception as error:
        return DeployResult(Outcome.RED, f"Deployment hook failed: {error}")
