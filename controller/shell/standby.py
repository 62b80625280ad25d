"""`GET /environments`: production and the standby as Beanstalk shows them now, with the standby's
readiness to take production back (core.standby), read from Beanstalk (the environments, the standby's
instances) and the deployments' records."""

from __future__ import annotations

from typing import Any

from controller.core import topology
from controller.core.standby import environments_view
from controller.shell import observe
from controller.shell.runtime import Runtime


def describe(rt: Runtime) -> dict[str, Any]:
    lease = rt.store.lease(rt.config.eb_application)
    latest = rt.store.get(lease.last_succeeded_id) if lease.last_succeeded_id else None
    running = lease.holder if lease.held_by_other("", rt.clock()) else None
    environments = observe.environments(rt)
    pair = topology.resolve(
        environments, rt.config.prod_cname_prefix, rt.config.region, rt.config.preprod_cname_prefix
    )
    instances = () if isinstance(pair, str) else observe.instances(pair.preproduction.name, rt)
    return environments_view(environments, latest, running, rt.config, instances)
