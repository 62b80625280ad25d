"""Deployment records and the per-application lease in one DynamoDB table (conditional writes only).

Items (partition key `pk`):
- `deployment#<id>`: `doc` (the record as JSON), `record_version` (optimistic lock), and `application` +
  `created_at` for the `by_application` index (newest first listing).
- `application#<name>`: the lease (`holder`, `lease_expires_at` epoch s), `newest_id`/`newest_created_at`
  (the latest notification: only it may start) and `last_succeeded_id` (what rollback may undo).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from controller import records
from controller.model import Deployment
from controller.observation import LeaseView

INDEX = "by_application"


class StaleRecord(Exception):
    """Another tick saved this deployment first: the caller must not act on its decision."""


class LeaseLost(Exception):
    """The deployment no longer holds its application's lease."""


@dataclass(frozen=True)
class LeaseChange:
    kind: str  # "acquire" | "renew" | "release" | "forget_success"
    succeeded: bool = False


class DeploymentStore:
    def __init__(self, dynamodb: Any, table: str, lease_ttl_s: int) -> None:
        self._db = dynamodb
        self._table = table
        self._lease_ttl_s = lease_ttl_s

    # --- reads --------------------------------------------------------------------------------------

    def get(self, deployment_id: str) -> Deployment | None:
        item = self._db.get_item(
            TableName=self._table, Key={"pk": {"S": f"deployment#{deployment_id}"}}, ConsistentRead=True
        ).get("Item")
        return None if item is None else _deployment(item)

    def lease(self, application: str) -> LeaseView:
        item = (
            self._db.get_item(
                TableName=self._table, Key={"pk": {"S": f"application#{application}"}}, ConsistentRead=True
            ).get("Item")
            or {}
        )
        expires = item.get("lease_expires_at")
        return LeaseView(
            holder=_s(item, "holder"),
            expires_at=None if expires is None else datetime.fromtimestamp(float(expires["N"]), UTC),
            newest_id=_s(item, "newest_id"),
            last_succeeded_id=_s(item, "last_succeeded_id"),
        )

    def recent(self, application: str, limit: int) -> list[Deployment]:
        items = self._db.query(
            TableName=self._table,
            IndexName=INDEX,
            KeyConditionExpression="application = :a",
            ExpressionAttributeValues={":a": {"S": application}},
            ScanIndexForward=False,
            Limit=limit,
        )["Items"]
        return [_deployment(item) for item in items]

    # --- writes -------------------------------------------------------------------------------------

    def create(self, d: Deployment) -> Deployment | None:
        """Store a new deployment and mark it the application's newest; None when the id already exists."""
        created = records.iso(d.created_at)
        put = {"Put": self._put(d, 1, condition="attribute_not_exists(pk)")}
        newest = {
            "Update": {
                "TableName": self._table,
                "Key": {"pk": {"S": f"application#{d.application}"}},
                "UpdateExpression": "SET newest_id = :id, newest_created_at = :c",
                "ConditionExpression": "attribute_not_exists(newest_created_at) OR newest_created_at <= :c",
                "ExpressionAttributeValues": {":id": {"S": d.id}, ":c": {"S": created}},
            }
        }
        try:
            self._db.transact_write_items(TransactItems=[put, newest])
        except self._db.exceptions.TransactionCanceledException as error:
            if _record_condition_failed(error):
                return None
            # A newer notification is already recorded: store this one anyway; it will end superseded.
            try:
                self._db.put_item(**self._put(d, 1, condition="attribute_not_exists(pk)"))
            except self._db.exceptions.ConditionalCheckFailedException:
                return None
        return dataclasses.replace(d, record_version=1)

    def save(self, d: Deployment, now: datetime, lease: LeaseChange | None = None) -> Deployment:
        """Write `d` if nobody saved since it was loaded; with the lease change in the same transaction."""
        version = d.record_version
        put = self._put(d, version + 1, condition="record_version = :v", values={":v": {"N": str(version)}})
        if lease is None:
            try:
                self._db.put_item(**put)
            except self._db.exceptions.ConditionalCheckFailedException:
                raise StaleRecord(d.id) from None
        else:
            try:
                self._db.transact_write_items(
                    TransactItems=[{"Put": put}, {"Update": self._lease(d, now, lease)}]
                )
            except self._db.exceptions.TransactionCanceledException as error:
                if _record_condition_failed(error):
                    raise StaleRecord(d.id) from None
                raise LeaseLost(d.id) from None
        return dataclasses.replace(d, record_version=version + 1)

    # --- details ------------------------------------------------------------------------------------

    def _put(
        self, d: Deployment, version: int, condition: str, values: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        item = {
            "pk": {"S": f"deployment#{d.id}"},
            "application": {"S": d.application},
            "created_at": {"S": records.iso(d.created_at)},
            "status": {"S": d.status.value},
            "record_version": {"N": str(version)},
            "doc": {"S": json.dumps(records.to_document(d), separators=(",", ":"))},
        }
        put: dict[str, Any] = {"TableName": self._table, "Item": item, "ConditionExpression": condition}
        if values:
            put["ExpressionAttributeValues"] = values
        return put

    def _lease(self, d: Deployment, now: datetime, change: LeaseChange) -> dict[str, Any]:
        key = {"pk": {"S": f"application#{d.application}"}}
        me = {":id": {"S": d.id}}
        expires = {":exp": {"N": str(int(now.timestamp()) + self._lease_ttl_s)}}
        if change.kind == "acquire":
            return {
                "TableName": self._table,
                "Key": key,
                "UpdateExpression": "SET holder = :id, lease_expires_at = :exp",
                "ConditionExpression": (
                    "(attribute_not_exists(holder) OR holder = :id OR lease_expires_at < :now)"
                    " AND (attribute_not_exists(newest_id) OR newest_id = :id)"
                ),
                "ExpressionAttributeValues": {**me, **expires, ":now": {"N": str(int(now.timestamp()))}},
            }
        if change.kind == "renew":
            return {
                "TableName": self._table,
                "Key": key,
                "UpdateExpression": "SET lease_expires_at = :exp",
                "ConditionExpression": "holder = :id",
                "ExpressionAttributeValues": {**me, **expires},
            }
        if change.kind == "release":
            update = "REMOVE holder, lease_expires_at"
            if change.succeeded:
                update = "SET last_succeeded_id = :id " + update
            return {
                "TableName": self._table,
                "Key": key,
                "UpdateExpression": update,
                "ConditionExpression": "holder = :id",
                "ExpressionAttributeValues": me,
            }
        # forget_success: a rolled-back deployment is no longer the one a rollback may undo
        return {
            "TableName": self._table,
            "Key": key,
            "UpdateExpression": "REMOVE last_succeeded_id",
            "ConditionExpression": "last_succeeded_id = :id",
            "ExpressionAttributeValues": me,
        }


def _record_condition_failed(error: Any) -> bool:
    """Whether a cancelled transaction failed on its first item, the deployment record's own conditional put
    (rather than on the application item that comes second)."""
    reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
    return bool(reasons) and reasons[0] == "ConditionalCheckFailed"


def _deployment(item: dict[str, Any]) -> Deployment:
    return records.from_document(json.loads(item["doc"]["S"]), int(item["record_version"]["N"]))


def _s(item: dict[str, Any], name: str) -> str | None:
    value = item.get(name)
    return None if value is None else str(value["S"])
