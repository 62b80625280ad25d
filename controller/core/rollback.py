"""`POST /deployments/{id}/rollback` decided (pure): swap production back, when that is still safe."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from controller.core import topology
from controller.core.actions import SwapCNAMEs
from controller.core.config import Config
from controller.core.decision import Decision
from controller.core.mixed_versions import mixed_versions
from controller.core.model import Deployment, Status, status_phrase
from controller.core.observation import EnvironmentView, InstanceView, LeaseView


def decide_rollback(
    d: Deployment,
    lease: LeaseView,
    environments: tuple[EnvironmentView, ...],
    now: datetime,
    config: Config,
    previous_instances: tuple[InstanceView, ...] = (),
) -> Decision | str:
    """Swap production back to the previous environment, or the reason it is refused. A previous
    environment whose instances do not all run its version (`previous_instances`: a failed or aborted
    update since) is no rollback target until a full deployment."""
    if d.status is not Status.SUCCEEDED:
        return f"deployment {d.id} {status_phrase(d.status)}; only a succeeded deployment can be rolled back"
    if lease.last_succeeded_id is None:
        return (
            f"deployment {d.id} is not the latest succeeded deployment, and none can be rolled back now "
            "(the latest one was rolled back already)"
        )
    if lease.last_succeeded_id != d.id:
        return f"only the latest succeeded deployment ({lease.last_succeeded_id}) can be rolled back"
    if lease.held_by_other(d.id, now):
        return f"deployment {lease.holder} is running"
    previous, current = topology.find(environments, d.prod_env), topology.find(environments, d.preprod_env)
    if previous is None or current is None:
        return f"environment {d.prod_env if previous is None else d.preprod_env} is gone"
    owner = topology.production_owner(environments, config.prod_cname_prefix, config.region)
    if owner is None or owner.name != current.name:
        return f"production CNAME is not on {current.name} any more"
    if previous.status != "Ready" or current.status != "Ready":
        return f"{previous.name} is {previous.status}, {current.name} is {current.status}; both must be Ready"
    if previous.version_label != d.previous_label:
        return f"{previous.name} runs {previous.version_label}, not the previous version {d.previous_label}"
    mixed = mixed_versions(previous, previous_instances)
    if mixed is not None:
        return f"{previous.name} is no rollback target: {mixed}"
    rolled = dataclasses.replace(
        d,
        status=Status.ROLLED_BACK,
        updated_at=now,
        error=f"rolled back by request: production swapped back to {previous.name} ({d.previous_label})",
        swap_requested_at=now,
    )
    return Decision(rolled, (SwapCNAMEs(previous.name, current.name),))


def rollback_refused(d: Deployment, now: datetime, message: str) -> Deployment:
    """Beanstalk refused the rollback swap: the deployment is succeeded again, with the reason."""
    return dataclasses.replace(
        d, status=Status.SUCCEEDED, updated_at=now, error=f"rollback refused: {message}"
    )


def rollback_unanswered(d: Deployment, now: datetime, message: str) -> Deployment:
    """The swap's answer was lost: it may have happened, so the deployment stays rolled back, and says so."""
    return dataclasses.replace(
        d,
        updated_at=now,
        error=f"{d.error}; Beanstalk's answer to the swap was lost ({message}): check that production "
        f"moved to {d.prod_env}",
    )
