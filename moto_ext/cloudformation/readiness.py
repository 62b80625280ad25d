"""A stack leaves CREATE_IN_PROGRESS once every resource is created, as CloudFormation reports it on AWS.

moto creates a stack's resources inside CreateStack and looks at their `is_created()` only then (and when a
custom resource answers). A resource that takes time (an Elastic Beanstalk environment is complete when it
is Ready, after its launch) would leave the stack CREATE_IN_PROGRESS for good. Here readiness is looked at
again whenever a stack is described, lazily, the way the Beanstalk emulation settles its operations.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation.models import CloudFormationBackend

from . import resource_events


def install() -> None:
    original = CloudFormationBackend.describe_stacks

    def describe_stacks(self: CloudFormationBackend, name_or_stack_id: str) -> list[Any]:
        stacks = original(self, name_or_stack_id)
        for stack in stacks:
            if stack.status == "CREATE_IN_PROGRESS":
                resource_events.report_completed(stack)
                stack.verify_readiness()
        return stacks

    CloudFormationBackend.describe_stacks = describe_stacks  # type: ignore[method-assign]
