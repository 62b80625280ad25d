"""A stack whose resource is refused rolls back, as CloudFormation does; each resource's DeletionPolicy holds.

moto creates a stack's resources inside CreateStack (and ExecuteChangeSet) and lets a refused resource fail
the request itself, leaving a half-made stack behind. On AWS the request succeeds and the stack fails later:
the resource is CREATE_FAILED with the service's message, the stack goes ROLLBACK_IN_PROGRESS and deletes
what it had created, and ends ROLLBACK_COMPLETE; DescribeStackEvents tells the story. A stack in that state
can only be deleted (then created again).

DeletionPolicy (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/
aws-attribute-deletionpolicy.html), when rolling a create back and on DeleteStack:
- `Delete` (the default; `Snapshot` is the same here): deleted both times;
- `Retain`: kept both times - a rolled-back first create leaves it behind, and the next create of the same
  fixed name fails with "already exists";
- `RetainExceptOnCreate`: "behaves like Retain for stack operations, except for the stack operation that
  initially created the resource. If the stack operation that created the resource is rolled back,
  CloudFormation deletes the resource." So deleted on the rollback of its create, kept by DeleteStack.

The failing resource's reason has the shape CloudFormation's resource handlers give (recorded, e.g.
github.com/awslabs/fhir-works-on-aws-deployment/issues/691):
    Resource handler returned message: "<the service's message> (Service: Lambda, Status Code: 400,
    Request ID: ...)" (RequestToken: ..., HandlerErrorCode: InvalidRequest)
and a name another resource already holds: "Resource of type 'AWS::DynamoDB::Table' with identifier 'x'
already exists." (HandlerErrorCode AlreadyExists).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.models import CloudFormationBackend, Stack
from moto.cloudformation.parsing import OutputMap

from moto_ext.cloudformation.resource_events import append_resource_event

RETAINED_ON_DELETE = frozenset({"Retain", "RetainExceptOnCreate"})
RETAINED_ON_ROLLBACK = frozenset({"Retain"})
_CREATED = "_emulation_created"  # the ResourceMap's logical ids in the order they were created


class ResourceFailed(Exception):
    """A resource the service refused while its stack was being created."""

    def __init__(self, logical_id: str, resource_type: str, reason: str) -> None:
        super().__init__(reason)
        self.logical_id = logical_id
        self.resource_type = resource_type
        self.reason = reason


def install() -> None:
    parsing.parse_and_create_resource = _recording(parsing.parse_and_create_resource)
    Stack.create_resources = _rolling_back_create(Stack.create_resources)  # type: ignore[method-assign,assignment]
    CloudFormationBackend.create_stack = _creating_with_rollback(CloudFormationBackend.create_stack)  # type: ignore[method-assign]
    CloudFormationBackend.execute_change_set = _executing_with_rollback(  # type: ignore[method-assign]
        CloudFormationBackend.execute_change_set
    )
    parsing.ResourceMap.delete = _keeping_retained(parsing.ResourceMap.delete)  # type: ignore[method-assign,assignment]


def reason_for(error: Exception, resource_type: str, physical_name: str | None) -> str:
    """What CloudFormation says about a resource the service refused with `error`."""
    message = str(getattr(error, "message", "") or error)
    if "already exist" in message.lower() and physical_name:
        return f"Resource of type '{resource_type}' with identifier '{physical_name}' already exists."
    service = resource_type.split("::")[1] if resource_type.count("::") == 2 else "CloudFormation"
    status = int(getattr(error, "status_code", 400))
    handler_code = str(getattr(error, "handler_error_code", "InvalidRequest"))
    return (
        f'Resource handler returned message: "{message} (Service: {service}, Status Code: {status}, '
        f'Request ID: {uuid.uuid4()})" (RequestToken: {uuid.uuid4()}, HandlerErrorCode: {handler_code})'
    )


# ----- creating, and rolling a failed create back --------------------------------------------------------


def _recording(original: Callable[..., Any]) -> Callable[..., Any]:
    def parse_and_create_resource(
        logical_id: str, resource_json: dict[str, Any], resources_map: Any, account_id: str, region_name: str
    ) -> Any:
        try:
            created = original(logical_id, resource_json, resources_map, account_id, region_name)
        except ResourceFailed:
            raise
        except Exception as error:
            resource_type = str(resource_json.get("Type", ""))
            name = _physical_name(logical_id, resource_json, resources_map)
            raise ResourceFailed(logical_id, resource_type, reason_for(error, resource_type, name)) from error
        if created is not None:
            resources_map.__dict__.setdefault(_CREATED, []).append(logical_id)
        return created

    return parse_and_create_resource


def _physical_name(logical_id: str, resource_json: dict[str, Any], resources_map: Any) -> str | None:
    """The name the resource was to be created with (its name property), when the template gives one."""
    try:
        _, _, name = parsing.parse_resource_and_generate_name(logical_id, resource_json, resources_map)
    except Exception:  # the name only improves the message; the failure is reported anyway
        return None
    return str(name) if name else None


def _rolling_back_create(original: Callable[[Stack], None]) -> Callable[[Stack], None]:
    def create_resources(self: Stack) -> None:
        try:
            original(self)
        except ResourceFailed as failure:
            roll_back(self, failure)

    return create_resources


def roll_back(stack: Stack, failure: ResourceFailed) -> None:
    """CREATE_FAILED for the resource, then every resource this create made is deleted in reverse order,
    unless its DeletionPolicy is Retain; the stack ends ROLLBACK_COMPLETE."""
    append_resource_event(
        stack, failure.logical_id, failure.resource_type, None, "CREATE_FAILED", failure.reason
    )
    stack.status = "CREATE_FAILED"
    stack._add_stack_event(
        "ROLLBACK_IN_PROGRESS",
        resource_status_reason=(
            f"The following resource(s) failed to create: [{failure.logical_id}]. Rollback requested by user."
        ),
    )
    stack.status = "ROLLBACK_IN_PROGRESS"
    resources = stack.resource_map
    templates = resources._resource_json_map
    retained = {}
    for logical_id in reversed(resources.__dict__.get(_CREATED, [])):
        created = resources._parsed_resources.get(logical_id)
        resource_json = templates.get(logical_id, {})
        if created is None or isinstance(created, str):
            continue
        resource_type = str(resource_json.get("Type", ""))
        physical = str(getattr(created, "physical_resource_id", logical_id))
        if resource_json.get("DeletionPolicy") in RETAINED_ON_ROLLBACK:
            retained[logical_id] = resource_json
            append_resource_event(stack, logical_id, resource_type, physical, "DELETE_SKIPPED", None)
            continue
        try:
            resources._delete_resource(created, resource_json)
        except Exception as error:  # reported as CloudFormation reports it: DELETE_FAILED
            failed = reason_for(error, resource_type, physical)
            retained[logical_id] = resource_json
            append_resource_event(stack, logical_id, resource_type, physical, "DELETE_FAILED", failed)
            continue
        resources._parsed_resources.pop(logical_id, None)
        append_resource_event(stack, logical_id, resource_type, physical, "DELETE_COMPLETE", None)
    resources.__dict__[_CREATED] = []
    # moto's maps create a resource the moment something names it (DescribeStacks' outputs,
    # ListStackResources): a rolled-back stack has no outputs and holds only what it retained.
    resources._resource_json_map = retained
    stack.output_map = OutputMap(resources, {"Outputs": {}}, stack.stack_id)
    ended = (
        "ROLLBACK_FAILED"
        if any(e.resource_status == "DELETE_FAILED" for e in stack.events)
        else "ROLLBACK_COMPLETE"
    )
    stack._add_stack_event(ended)
    stack.status = ended


def _creating_with_rollback(original: Callable[..., Stack]) -> Callable[..., Stack]:
    """CreateStack answers the new stack even when a resource is refused (the stack then rolls back). moto
    resolves a stack's exports before creating its resources, which creates those the outputs name: a
    refusal can come from there too. A rolled-back stack exports nothing."""

    def create_stack(self: CloudFormationBackend, name: str, *args: Any, **kwargs: Any) -> Stack:
        try:
            stack = original(self, name, *args, **kwargs)
        except ResourceFailed as failure:
            stack = next(s for s in self.stacks.values() if s.name == name and s.status == "CREATE_PENDING")
            stack._add_stack_event("CREATE_IN_PROGRESS", resource_status_reason="User Initiated")
            stack.status = "CREATE_IN_PROGRESS"
            roll_back(stack, failure)
        if stack.status.startswith("ROLLBACK_"):
            _drop_exports(self, stack)
        return stack

    return create_stack


def _drop_exports(backend: CloudFormationBackend, stack: Stack) -> None:
    for name, export in list(backend.exports.items()):
        if export.exporting_stack_id == stack.stack_id:
            del backend.exports[name]


def _executing_with_rollback(original: Callable[..., None]) -> Callable[..., None]:
    """ExecuteChangeSet of a CREATE change set (what `aws cloudformation deploy` does for a new stack)."""

    def execute_change_set(
        self: CloudFormationBackend, change_set_name: str, stack_name: str | None = None
    ) -> None:
        change_set = self.change_sets.get(change_set_name) or next(
            (cs for cs in self.change_sets.values() if cs.change_set_name == change_set_name), None
        )
        if change_set is None or change_set.change_set_type != "CREATE":
            original(self, change_set_name, stack_name)
            return
        stack = self.stacks[change_set.stack_id]
        try:
            original(self, change_set_name, stack_name)
        except ResourceFailed as failure:
            stack.template = change_set.template
            roll_back(stack, failure)
            change_set.execution_status = "EXECUTE_FAILED"
            _drop_exports(self, stack)

    return execute_change_set


# ----- deleting a stack ----------------------------------------------------------------------------------


def _keeping_retained(original: Callable[[Any], None]) -> Callable[[Any], None]:
    """DeleteStack keeps RetainExceptOnCreate resources as it keeps Retain ones (moto knows only Retain)."""

    def delete(self: Any) -> None:
        templates = self._resource_json_map
        self._resource_json_map = {
            logical_id: (
                {**resource_json, "DeletionPolicy": "Retain"}
                if resource_json.get("DeletionPolicy") in RETAINED_ON_DELETE
                else resource_json
            )
            for logical_id, resource_json in templates.items()
        }
        try:
            original(self)
        finally:
            self._resource_json_map = templates

    return delete
