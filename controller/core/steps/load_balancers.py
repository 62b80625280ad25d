"""The environments' load balancers, as the record remembers them (pure): DescribeEnvironmentResources is
asked once per environment and deployment (an environment keeps its load balancer for its life)."""

from __future__ import annotations

import dataclasses

from controller.core.model import Deployment
from controller.core.observation import Observed


def remember(d: Deployment, observed: Observed) -> Deployment:
    """The record with the load balancers just observed added (the same record when nothing is new)."""
    known = dict(d.load_balancers)
    new = {name: dimension for name, dimension in observed.load_balancers or () if name not in known}
    if not new:
        return d
    return dataclasses.replace(d, load_balancers=tuple(sorted({**known, **new}.items())))


def missing(d: Deployment, environments: tuple[str | None, ...]) -> tuple[str, ...]:
    """The environments among these whose load balancer the record does not know."""
    return tuple(name for name in environments if name is not None and d.load_balancer(name) is None)
