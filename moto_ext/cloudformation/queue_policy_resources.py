"""`AWS::SQS::QueuePolicy` for moto's CloudFormation: the policy document becomes each queue's `Policy`
attribute in moto's SQS backend (what GetQueueAttributes shows), as on AWS.

The controller's stack gives the reconcile queue one, letting its EventBridge rule send Beanstalk's events
to it. moto's own CloudFormation skips the type with a warning; moto's EventBridge delivers to SQS targets
without looking at the policy either way, so this is for fidelity, not delivery.
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.sqs.models import sqs_backends

from .resource_type import ResourceType


class CloudFormationQueuePolicy(ResourceType, CloudFormationModel):
    """Ref is a generated id (AWS returns one too); the queues are named by their URLs."""

    TYPE = "AWS::SQS::QueuePolicy"

    def __init__(self, physical_id: str, queues: tuple[str, ...] = ()) -> None:
        super().__init__(physical_id)
        self.queues = queues  # their names, resolved when the policy was created

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CloudFormationQueuePolicy:
        properties = cloudformation_json.get("Properties", {})
        policy = json.dumps(properties["PolicyDocument"])
        backend = sqs_backends[account_id][region_name]
        queues = tuple(_queue_name(url) for url in properties["Queues"])
        for name in queues:
            backend.set_queue_attributes(name, {"Policy": policy})
        return cls(resource_name, queues)

    def delete(self, account_id: str, region_name: str) -> None:
        """DeleteStack: the queues lose the policy (moto hands a class-level delete the template's
        unresolved Refs, so the instance keeps the names it resolved)."""
        backend = sqs_backends[account_id][region_name]
        for name in self.queues:
            if name in backend.queues:
                backend.set_queue_attributes(name, {"Policy": ""})


def _queue_name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]
