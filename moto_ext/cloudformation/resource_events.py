"""Each resource's own stack events, as CloudFormation writes them on AWS.

moto writes only the stack's events. AWS's event history example (docs.aws.amazon.com/AWSCloudFormation/
latest/UserGuide/using-cfn-listing-event-history.html) shows, for each resource: CREATE_IN_PROGRESS (no
physical id yet), CREATE_IN_PROGRESS "Resource creation Initiated", then CREATE_COMPLETE once the resource
is created. A resource that takes time (a Beanstalk environment, complete once it is Ready) gets its
CREATE_COMPLETE when the stack next sees it created (readiness.py looks when the stack is described).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.models import Event, Stack, cloudformation_backends

INITIATED = "Resource creation Initiated"
_PENDING = "_emulation_pending_creation"  # on a Stack: logical id -> the resource still being created


def install() -> None:
    parsing.parse_and_create_resource = _reporting(parsing.parse_and_create_resource)
    Stack._add_stack_event = _once_begun(Stack._add_stack_event)  # type: ignore[method-assign]


def _once_begun(original: Callable[..., None]) -> Callable[..., None]:
    """The stack's CREATE_IN_PROGRESS "User Initiated" is written once: first, before any resource's event.
    moto writes it after resolving the stack's exports, which creates the resources its outputs name."""

    def add_stack_event(self: Stack, resource_status: str, *args: Any, **kwargs: Any) -> None:
        if resource_status == "CREATE_IN_PROGRESS" and _begun(self):
            return
        original(self, resource_status, *args, **kwargs)

    return add_stack_event


def _begun(stack: Stack) -> bool:
    return any(
        event.logical_resource_id == stack.name and event.resource_status == "CREATE_IN_PROGRESS"
        for event in stack.events
    )


def report_completed(stack: Stack) -> None:
    """CREATE_COMPLETE for each resource of `stack` that has finished being created since it began."""
    pending: dict[str, Any] = stack.__dict__.get(_PENDING, {})
    if not stack.status.startswith("CREATE_"):  # rolled back or deleted meanwhile: nothing completes now
        pending.clear()
        return
    for logical_id, resource in list(pending.items()):
        if resource.is_created():
            del pending[logical_id]
            _event(
                stack, logical_id, resource.cf_resource_type, resource.physical_resource_id, "CREATE_COMPLETE"
            )


def _reporting(original: Callable[..., Any]) -> Callable[..., Any]:
    def parse_and_create_resource(
        logical_id: str, resource_json: dict[str, Any], resources_map: Any, account_id: str, region_name: str
    ) -> Any:
        stack = _stack_of(resources_map, account_id, region_name)
        resource_type = str(resource_json.get("Type", ""))
        if stack is not None:
            _event(stack, logical_id, resource_type, None, "CREATE_IN_PROGRESS")
        created = original(logical_id, resource_json, resources_map, account_id, region_name)
        if stack is None or created is None:
            return created
        physical = getattr(created, "physical_resource_id", None)
        _event(stack, logical_id, resource_type, physical, "CREATE_IN_PROGRESS", INITIATED)
        if created.is_created():
            _event(stack, logical_id, resource_type, physical, "CREATE_COMPLETE")
        else:
            stack.__dict__.setdefault(_PENDING, {})[logical_id] = created
        return created

    return parse_and_create_resource


def _stack_of(resources_map: Any, account_id: str, region_name: str) -> Stack | None:
    stack_id = str(getattr(resources_map, "stack_id", ""))
    found = cloudformation_backends[account_id][region_name].stacks.get(stack_id)
    return found if isinstance(found, Stack) else None


def _event(
    stack: Stack,
    logical_id: str,
    resource_type: str,
    physical: str | None,
    status: str,
    reason: str | None = None,
) -> None:
    if stack.status == "CREATE_PENDING" and not _begun(stack):
        stack._add_stack_event("CREATE_IN_PROGRESS", resource_status_reason="User Initiated")
    append_resource_event(stack, logical_id, resource_type, physical, status, reason)


def append_resource_event(
    stack: Stack, logical_id: str, resource_type: str, physical: str | None, status: str, reason: str | None
) -> None:
    """One resource's event in the stack's list (a resource without a physical id yet shows an empty one)."""
    stack.events.append(
        Event(
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_resource_id=logical_id,
            physical_resource_id=physical or "",
            resource_type=resource_type,
            resource_status=status,
            resource_status_reason=reason,
            resource_properties=None,
        )
    )
