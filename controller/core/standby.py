"""Whether the standby can take production back, and what `GET /environments` shows (pure).

The standby is `rollback_ready` only when it is Ready, its health is within ACCEPTED_HEALTH, it runs the
version production ran before (the previous version of the latest succeeded deployment, on the environment
that deployment took production from) on every instance (not left mixed by a failed or aborted update), and
no deployment is under way. Managed platform updates, scaling and
drift can break any of these silently; `why` says which one did. A rollback uses the same rule
(`rollback_readiness`), unless the request says `"force": true`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from controller.core import topology
from controller.core.config import Config
from controller.core.mixed_versions import mixed_versions
from controller.core.model import Deployment
from controller.core.observation import EnvironmentView, InstanceView


@dataclass(frozen=True)
class Readiness:
    ready: bool
    why: str | None = None


def rollback_readiness(
    standby: EnvironmentView | None,
    latest: Deployment | None,
    running: str | None,
    config: Config,
    instances: Sequence[InstanceView] = (),
) -> Readiness:
    """Whether `standby` can take production back from `latest` (the latest succeeded deployment) now;
    `running`: the deployment holding the application's lease, if another one does; `instances`: the
    standby's, as its health shows them (one a failed or aborted update left on another version than the
    environment names is no rollback target: core.mixed_versions). `why` gives every reason it cannot, the
    standby's own state first."""
    if standby is None:
        expected = f" (expected {latest.prod_env})" if latest is not None else ""
        return Readiness(False, f"no standby environment{expected}")
    mixed = mixed_versions(standby, instances)
    reasons = [
        *_state(standby, config),
        *([f"{standby.name} is no rollback target: {mixed}"] if mixed is not None else []),
        *_version(standby, latest),
        *([f"deployment {running} is in progress"] if running is not None else []),
    ]
    return Readiness(not reasons, "; ".join(reasons) or None)


def _state(standby: EnvironmentView, config: Config) -> list[str]:
    if standby.busy:
        return [f"{standby.name} is {standby.status}: an operation is under way"]
    if standby.status != "Ready":
        return [f"{standby.name} is {standby.status}"]
    if standby.health not in config.accepted_health:
        accepted = ",".join(sorted(config.accepted_health, key=len))
        return [f"{standby.name} health is {standby.health} (ACCEPTED_HEALTH={accepted})"]
    return []


def _version(standby: EnvironmentView, latest: Deployment | None) -> list[str]:
    if latest is None:
        return ["no succeeded deployment to roll back (none yet, or the last was rolled back)"]
    if standby.name != latest.prod_env:
        return [f"{latest.id} took production from {latest.prod_env}, but the standby is {standby.name}"]
    if standby.version_label != latest.previous_label:
        return [
            f"{standby.name} runs {standby.version_label}, not {latest.previous_label}, the version "
            f"production ran before {latest.version_label}"
        ]
    return []


def environments_view(
    environments: tuple[EnvironmentView, ...],
    latest: Deployment | None,
    running: str | None,
    config: Config,
    standby_instances: Sequence[InstanceView] = (),
) -> dict[str, Any]:
    """The `GET /environments` body: production, and the standby with its readiness."""
    pair = topology.resolve(
        environments, config.prod_cname_prefix, config.region, config.preprod_cname_prefix
    )
    if isinstance(pair, str):
        production = topology.production_owner(environments, config.prod_cname_prefix, config.region)
        standby: dict[str, Any] = {**_described(None), "rollback_ready": False, "why": pair}
        return {"production": _described(production), "standby": standby, "latest_succeeded": _id(latest)}
    readiness = rollback_readiness(pair.preproduction, latest, running, config, standby_instances)
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
