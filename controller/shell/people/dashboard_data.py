"""What the dashboard shows, read for one look: production and pre-production (environment, version,
health, URL), the latest deployments, and which actions each allows now, each as a fresh one-click link."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from controller.client import capability
from controller.core import topology
from controller.core.model import Deployment, Status
from controller.core.observation import EnvironmentView
from controller.core.steps import promotion
from controller.shell import observe
from controller.shell.runtime import Runtime

RECENT = 20
ACTION_LINK_TTL_S = 3600


@dataclass(frozen=True)
class Environment:
    role: str  # production | pre-production
    view: EnvironmentView

    @property
    def url(self) -> str:
        return f"http://{self.view.cname}/"


@dataclass(frozen=True)
class Dashboard:
    environments: tuple[Environment, ...]
    problem: str | None  # why the environments are not shown (resolved), if they are not
    deployments: tuple[Deployment, ...]
    actions: dict[str, dict[str, str]] = field(default_factory=dict)  # deployment id -> action -> token
    at: datetime | None = None


def read(rt: Runtime) -> Dashboard:
    config, now = rt.config, rt.clock()
    environments: tuple[Environment, ...] = ()
    pair = topology.resolve(
        observe.environments(rt), config.prod_cname_prefix, config.region, config.preprod_cname_prefix
    )
    problem = pair if isinstance(pair, str) else None
    if not isinstance(pair, str):
        environments = (
            Environment("production", pair.production),
            Environment("pre-production", pair.preproduction),
        )
    deployments = tuple(rt.store.recent(config.eb_application, RECENT))
    last_succeeded = rt.store.lease(config.eb_application).last_succeeded_id
    secret, expires = rt.signing_secret(), int(time.time()) + ACTION_LINK_TTL_S  # wall time, as signatures
    actions = {}
    for d in deployments:
        allowed = allowed_actions(d, last_succeeded, now)
        if allowed:
            actions[d.id] = {a: capability.mint(secret, a, d.id, expires) for a in allowed}
    return Dashboard(environments, problem, deployments, actions, now)


def allowed_actions(d: Deployment, last_succeeded: str | None, now: datetime) -> tuple[str, ...]:
    """The actions the state allows now (the API decides again when one is used)."""
    found = []
    if d.status is Status.AWAITING_PROMOTION and d.abort_requested_at is None:
        found.append("promote")
    abortable = isinstance(promotion.abort_requested(d, now), Deployment) and d.abort_requested_at is None
    if not d.finished and abortable:
        found.append("abort")
    if d.status is Status.SUCCEEDED and d.id == last_succeeded:
        found.append("rollback")
    return tuple(found)
