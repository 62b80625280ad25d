"""Everything a rehearsal with a given prefix creates, written down (before any of it exists) so that one
list deletes it: at the end of a run, after a failure or Ctrl-C, and by `python -m rehearsal --remove
PREFIX` after `--keep`. Each deleter accepts that its resource may not exist."""

from __future__ import annotations

from typing import Any

from . import capture
from .provisioning import delete_infra_stack, delete_stack_and_what_it_kept
from .teardown import Teardown


def everything(prefix: str, clients: Any, teardown: Teardown) -> Teardown:
    """Deleted newest first: the controller's stack (and the table it keeps), the provisioning stack (and
    its bucket), then the event capture."""
    infra, controller = prefix, f"{prefix}-controller"
    named = capture.names(prefix)
    teardown.will_create(f"log group {named.log_group}", lambda: capture.delete(prefix, clients, "log group"))
    teardown.will_create(
        f"log resource policy {named.policy}", lambda: capture.delete(prefix, clients, "policy")
    )
    teardown.will_create(f"EventBridge rule {named.rule}", lambda: capture.delete(prefix, clients, "rule"))
    teardown.will_create(
        f"stack {infra} (and its artifact bucket)",
        lambda: delete_infra_stack(infra, clients.client("cloudformation"), clients.client("s3")),
    )
    teardown.will_create(
        f"stack {controller} (and its table, which the stack keeps)",
        lambda: delete_stack_and_what_it_kept(controller, clients),
    )
    return teardown


def how_to_remove(prefix: str, endpoint_url: str | None) -> str:
    endpoint = f" --endpoint-url {endpoint_url} --front URL" if endpoint_url else ""
    return f"python -m rehearsal --remove {prefix}{endpoint}"
