"""One structured JSON log line per event (step transitions carry the deployment id).

Every AWS call the controller makes is one line too (`aws_call`: service, operation, HTTP status or the
error, and the deployment a tick was working on), so what a deployment cost in calls can be read back from
the function's logs (CloudWatch Logs Insights, `python -m rehearsal`).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
from collections.abc import Iterator
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


_deployment: contextvars.ContextVar[str | None] = contextvars.ContextVar("deployment", default=None)


def emit(event: str, **fields: Any) -> None:
    _log.info(json.dumps({"event": event, **fields}, default=str, separators=(",", ":")))


@contextlib.contextmanager
def about(deployment_id: str) -> Iterator[None]:
    """AWS calls made inside are logged as this deployment's."""
    token = _deployment.set(deployment_id)
    try:
        yield
    finally:
        _deployment.reset(token)


def aws_call(service: str, operation: str, status: int | str) -> None:
    """One AWS call: its HTTP status, or the name of the error that kept it from being answered."""
    emit("aws_call", service=service, operation=operation, status=status, deployment_id=_deployment.get())


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
