"""One structured JSON log line per event (step transitions carry the deployment id)."""

from __future__ import annotations

import json
import logging
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from controller.core.model import Deployment

LOGGER = "deliverypipeline.controller"


def _logger() -> logging.Logger:
    """Lines go to stdout as bare JSON (CloudWatch Logs Insights parses them), not through Chalice's
    `name - level - message` handler."""
    log = logging.getLogger(LOGGER)
    if not log.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    return log


_log = _logger()


def emit(event: str, **fields: Any) -> None:
    _log.info(json.dumps({"event": event, **fields}, default=str, separators=(",", ":")))


def transitions(before: Deployment, after: Deployment) -> None:
    """Log every step and status that changed between two versions of a deployment."""
    for old, new in zip(before.steps, after.steps, strict=True):
        if old.status is not new.status:
            emit(
                "step",
                deployment_id=after.id,
                step=new.name.value,
                status=new.status.value,
                detail=new.detail,
                version_label=after.version_label,
            )
    if before.status is not after.status:
        emit(
            "deployment",
            deployment_id=after.id,
            status=after.status.value,
            error=after.error,
            version_label=after.version_label,
        )
