"""Hooking the resource types and the transform into moto's CloudFormation."""

from __future__ import annotations

import threading

from moto.cloudformation import parsing

_lock = threading.Lock()
_installed: list[bool] = []


def install() -> None:
    """Make moto's CloudFormation know this package's resource types and the serverless transform, and
    report a stack complete once its slower resources are."""
    with _lock:
        if _installed:
            return
        # Importing the modules defines the CloudFormationModel subclasses moto looks resource types up in.
        from . import (
            apigateway_resources,
            beanstalk_resources,
            change_sets,
            queue_policy_resources,
            readiness,
            resource_events,
            secret_resources,
            serverless_transform,
        )

        del apigateway_resources, beanstalk_resources, queue_policy_resources, secret_resources
        for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
            cached.cache_clear()
        serverless_transform.install()
        readiness.install()
        resource_events.install()
        change_sets.install()
        _installed.append(True)
