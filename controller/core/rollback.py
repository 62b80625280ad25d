"""`POST /deployments/{id}/rollback` decided (pure): swap production back, when that is still safe.

Only the latest succeeded deployment can be rolled back, with no other deployment running, production on
the environment it deployed to, and the standby `rollback_ready` (core.standby), unless the request says
`force` (then only what Beanstalk needs to swap: both environments Ready). The decision is the swap back of
steps.swap, by request: the deployment runs again (holding the application's lease) until production's name
answers the previous version, and only then reads `rolled_back`.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from controller.core import topology
from controller.core.actions import ReleaseLease, SwapCNAMEs
from controller.core.config import Config
from controller.core.decision import Decision, RequeueAfter
from controller.core.model import Deployment, Status, SwapBack, status_phrase
from controller.core.observation import EnvironmentView, InstanceView, LeaseView
from controller.core.standby import rollback_readiness


def decide_rollback(
    d: Deployment,
    lease: LeaseView,
    environments: tuple[EnvironmentView, ...],
    now: datetime,
    config: Config,
    force: bool = False,
    previous_instances: tuple[InstanceView, ...] = (),
) -> Decision | str:
    """Swap production back to the previous environment, or the reason it is refused. The previous
    environment must be rollback_ready (core.standby; with `previous_instances`, its instances all run its
    version: one a failed or aborted update left mixed is no rollback target until a full deployment),
    unless `force`."""
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
    if not force:
        readiness = rollback_readiness(previous, d, None, config, previous_instances)
        if not readiness.ready:
            force_it = '(send {"force": true} to roll back anyway)'
            return f"the standby is not rollback_ready: {readiness.why} {force_it}"
    if previous.status != "Ready" or current.status != "Ready":
        return f"{previous.name} is {previous.status}, {current.name} is {current.status}; both must be Ready"
    forced = " (forced)" if force else ""
    back = SwapBack(
        reason=f"production swapped back to {previous.name} ({d.previous_label}){forced}",
        started_at=now,
        requested_at=now,
        by_request=True,
    )
    rolling = dataclasses.replace(d, status=Status.RUNNING, updated_at=now, swap_back=back, error=None)
    return Decision(rolling, (SwapCNAMEs(previous.name, current.name),), RequeueAfter(config.poll_interval_s))


def rollback_refused(d: Deployment, now: datetime, message: str) -> Deployment:
    """Beanstalk refused the rollback swap: the deployment is succeeded again, with the reason."""
    return dataclasses.replace(
        d, status=Status.SUCCEEDED, swap_back=None, updated_at=now, error=f"rollback refused: {message}"
    )


def rollback_unverified(d: Deployment, now: datetime, error: str) -> Decision:
    """The swap was requested but no tick could be queued to verify it: the deployment ends rolled_back,
    saying it was not verified, and releases the lease."""
    assert d.swap_back is not None
    done = dataclasses.replace(
        d,
        status=Status.ROLLED_BACK,
        updated_at=now,
        error=(
            f"rolled back by request: {d.swap_back.reason}; not verified (its check could not be queued: "
            f"{error}): make sure production moved to {d.prod_env}"
        ),
    )
    return Decision(done, (ReleaseLease(d.id, succeeded=False),))
