"""Whether the standby can take production back, and what `GET /environments` shows (pure).

The standby is `rollback_ready` only when it is Ready, its health is within ACCEPTED_HEALTH, it runs the
version production ran before (the previous version of the latest succeeded deployment, on the environment
that deployment took production from), and no deployment is under way. Managed platform updates, scaling and
drift can break any of these silently; `why` says which one did. A rollback uses the same rule
(`rollback_readiness`), unless the request says `"force": true`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from controller.core import topology
from controller.core.config import Config
from controller.core.model import Deployment
from controller.core.observation import EnvironmentView


@dataclass(frozen=True)
class Readiness:
    ready: bool
    why: str | None = None


def rollback_readiness(
    standby: EnvironmentView | None, latest: Deployment | None, running: str | None, config: Config
) -> Readiness:
    """Whether `standby` can take production back from `latest` (the latest succeeded deployment) now;
    `running`: the deployment holding the application's lease, if another one does."""
    if latest is None:
        return Readiness(
            False, "no succeeded deployment to roll back (none yet, or the last was rolled back)"
        )
    if standby is None:
        return Readiness(False, f"no standby environment (expected {latest.prod_env})")
    if standby.name != latest.prod_env:
        return Readiness(
            False, f"{latest.id} took production from {latest.prod_env}, but the standby is {standby.name}"
        )
    if running is not None:
        return Readiness(False, f"deployment {running} is in progress")
    if standby.busy:
        return Readiness(False, f"{standby.name} is {standby.status}: an operation is under way")
    if standby.status != "Ready":
        return Readiness(False, f"{standby.name} is {standby.status}")
    if standby.health not in config.accepted_health:
        accepted = ",".join(sorted(config.accepted_health, key=len))
        return Readiness(False, f"{standby.name} health is {standby.health} (ACCEPTED_HEALTH={accepted})")
    if standby.version_label != latest.previous_label:
        return Readiness(
            False,
            f"{standby.name} runs {standby.version_label}, not {latest.previous_label}, the version "
            f"production ran before {latest.version_label}",
        )
    return Readiness(True)


def environments_view(
    environments: tuple[EnvironmentView, ...], latest: Deployment | None, running: str | None, config: Config
) -> dict[str, Any]:
    """The `GET /environments` body: production, and the standby with its readiness."""
    pair = topology.resolve(
        environments, config.prod_cname_prefix, config.region, config.preprod_cname_prefix
    )
    if isinstance(pair, str):
        production = topology.production_owner(environments, config.prod_cname_prefix, config.region)
        standby: dict[str, Any] = {**_described(None), "rollback_ready": False, "why": pair}
        return {"production": _described(production), "standby": standby, "latest_succeeded": _id(latest)}
    readiness = rollback_readiness(pair.preproduction, latest, running, config)
    return {
        "production": _described(pair.production),
        "standby": {
            **_described(pair.preproduction),
            "rollback_ready": readiness.ready,
            "why": readiness.why,
        },
        "latest_succeeded": _id(latest),
    }


def _described(env: EnvironmentView | None) -> dict[str, Any]:
    if env is None:
        return {"name": None, "version": None, "health": None, "status": None, "cname": None, "url": None}
    return {
        "name": env.name,
        "version": env.version_label,
        "health": env.health,
        "status": env.status,
        "cname": env.cname,
        "url": f"http://{env.cname}/",
    }


def _id(latest: Deployment | None) -> str | None:
    return None if latest is None else latest.id
