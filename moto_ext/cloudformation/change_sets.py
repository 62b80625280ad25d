"""A stack made or changed through a change set imports other stacks' exports and ends with the template's
Outputs and exports, as one made by CreateStack does.

`aws cloudformation deploy` (what `make provision` and `make deploy-controller` run) creates a change set
and executes it. moto builds a CREATE change set's stack from an empty template and, executing it, creates
the resources but keeps the empty template's (empty) outputs, and registers no exports: DescribeStacks then
shows no Outputs where CreateStack with the same template shows them all. Nor could the template import
another stack's export (`Fn::ImportValue`, as the controller's stack imports the provisioning stack's):
moto gives a change set's new stack none to look in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.cloudformation.models import CloudFormationBackend, Stack


def install() -> None:
    CloudFormationBackend.execute_change_set = _with_outputs(  # type: ignore[method-assign]
        CloudFormationBackend.execute_change_set
    )


def _with_outputs(original: Callable[..., None]) -> Callable[..., None]:
    def execute_change_set(
        self: CloudFormationBackend, change_set_name: str, stack_name: str | None = None
    ) -> None:
        change_set = self.change_sets.get(change_set_name) or next(
            (cs for cs in self.change_sets.values() if cs.change_set_name == change_set_name), None
        )
        if change_set is not None:
            _see_exports(self, self.stacks.get(change_set.stack_id))
        original(self, change_set_name, stack_name)
        if change_set is None:
            return
        stack = self.stacks.get(change_set.stack_id)
        if isinstance(stack, Stack) and stack.status in {"CREATE_COMPLETE", "UPDATE_COMPLETE"}:
            _take_template(self, stack, change_set.template)

    return execute_change_set


def _see_exports(backend: CloudFormationBackend, stack: Any) -> None:
    if isinstance(stack, Stack):
        stack.cross_stack_resources = backend.exports
        stack.resource_map.cross_stack_resources = backend.exports


def _take_template(backend: CloudFormationBackend, stack: Stack, template: Any) -> None:
    """The stack now answers the change set's template: its description, Outputs and exports."""
    stack.template = template
    stack._parse_template()
    stack.description = stack.template_dict.get("Description")
    stack.output_map = stack._create_output_map()
    for export in stack.exports:
        backend.exports[export.name] = export
