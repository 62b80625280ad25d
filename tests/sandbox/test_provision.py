"""The sandbox creates the controller's table and queues as the deployment template declares them."""

from __future__ import annotations

import json
from pathlib import Path

from sandbox.provision import DEFAULT_TABLE, RESOURCES_TEMPLATE, queue_definitions, table_definition


def test_the_table_follows_the_template() -> None:
    template = json.loads(RESOURCES_TEMPLATE.read_text())
    declared = template["Resources"]["DeploymentsTable"]["Properties"]

    table = table_definition(RESOURCES_TEMPLATE)

    assert table["KeySchema"] == declared["KeySchema"]
    assert table["GlobalSecondaryIndexes"] == declared["GlobalSecondaryIndexes"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"


def test_the_reconcile_queue_keeps_its_visibility_timeout_and_dead_letter_queue() -> None:
    declared = json.loads(RESOURCES_TEMPLATE.read_text())["Resources"]["ReconcileQueue"]["Properties"]

    queue, dead_letter, max_receive = queue_definitions(RESOURCES_TEMPLATE)

    assert queue == {"VisibilityTimeout": str(declared["VisibilityTimeout"])}
    assert dead_letter is not None
    assert max_receive == declared["RedrivePolicy"]["maxReceiveCount"]


def test_without_a_template_the_store_schema_is_used(tmp_path: Path) -> None:
    missing = tmp_path / "resources.json"

    assert table_definition(missing) == DEFAULT_TABLE
    assert queue_definitions(missing) == ({}, None, 0)
