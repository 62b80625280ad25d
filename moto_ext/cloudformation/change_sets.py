"""A stack a change set creates imports other stacks' exports, answers its outputs and publishes its own
exports, as any stack does.

moto makes a change set's new stack without the account's exports (Fn::ImportValue finds nothing) and builds
its outputs before it has a template, never again: a stack made by `aws cloudformation deploy`
(CreateChangeSet, ExecuteChangeSet) could import nothing, showed no outputs and exported nothing. Here a new
stack sees the account's exports, and an executed change set gives its stack the change set's template:
description, outputs, exports.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.cloudformation.models import CloudFormationBackend


def install() -> None:
    CloudFormationBackend.create_change_set = _seeing_exports(  # type: ignore[method-assign]
        CloudFormationBackend.create_change_set
    )
    CloudFormationBackend.execute_change_set = _with_outputs(  # type: ignore[method-assign]
        CloudFormationBackend.execute_change_set
    )


def _seeing_exports(original: Callable[..., tuple[str, str]]) -> Callable[..., tuple[str, str]]:
    def create_change_set(self: CloudFormationBackend, *args: Any, **kwargs: Any) -> tuple[str, str]:
        change_set_id, stack_id = original(self, *args, **kwargs)
        stack = self.stacks[stack_id]
        stack.cross_stack_resources = self.exports  # the live dict: exports made later are seen too
        stack.resource_map.cross_stack_resources = self.exports
        return change_set_id, stack_id

    return create_change_set


def _with_outputs(original: Callable[..., None]) -> Callable[..., None]:
    def execute_change_set(
        self: CloudFormationBackend, change_set_name: str, stack_name: str | None = None
    ) -> None:
        change_set = self.change_sets.get(change_set_name) or next(
            (cs for cs in self.change_sets.values() if cs.change_set_name == change_set_name), None
        )
        original(self, change_set_name, stack_name)
        if change_set is None:
            return
        stack = self.stacks[change_set.stack_id]
        stack.template_dict = change_set.template_dict
        stack.description = change_set.template_dict.get("Description")
        stack.output_map = stack._create_output_map()
        for name, export in list(self.exports.items()):
            if export.exporting_stack_id == stack.stack_id:
                del self.exports[name]
        self._validate_export_uniqueness(stack)
        for export in stack.exports:
            self.exports[export.name] = export

    return execute_change_set
