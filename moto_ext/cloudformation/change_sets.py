"""A stack a change set creates or updates answers its outputs and publishes its exports, as any stack does.

moto builds a stack's outputs when the stack object is made - for a change set, before it has a template -
and never again, so a stack made by `aws cloudformation deploy` (CreateChangeSet, ExecuteChangeSet) showed
no outputs and exported nothing that another stack could import. Here an executed change set gives its
stack the change set's template: description, outputs, exports.
"""

from __future__ import annotations

from collections.abc import Callable

from moto.cloudformation.models import CloudFormationBackend


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
