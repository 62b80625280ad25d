"""Hooking the resource types and the transform into moto's CloudFormation."""

from __future__ import annotations

import threading

from moto.cloudformation import parsing

_lock = threading.Lock()
_installed: list[bool] = []


def install() -> None:
    """Make moto's CloudFormation know this package's resource types and the serverless transform, report a
    stack complete once its slower resources are, and roll a failed create back as CloudFormation does."""
    with _lock:
        if _installed:
            return
        # Importing the modules defines the CloudFormationModel subclasses moto looks resource types up in.
        from . import (
            apigateway_resources,
            beanstalk_resources,
            change_sets,
            permissions,
            queue_policy_resources,
            readiness,
            resource_events,
            rollback,
            secret_resources,
            serverless_transform,
        )

        del apigateway_resources, beanstalk_resources, queue_policy_resources, secret_resources
        for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
            cached.cache_clear()
        serverless_transform.install()
        readiness.install()
        resource_events.install()  # before rollback, which wraps it: a refused resource is CREATE_FAILED
        change_sets.install()
        permissions.install()  # before rollback, which wraps both: a refused resource rolls back
        rollback.install()
        _installed.append(True)
