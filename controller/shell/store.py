"""Deployment records and the per-application lease in one DynamoDB table (conditional writes only).

Items (partition key `pk`):
- `deployment#<id>`: `doc` (the record as JSON), `record_version` (optimistic lock), and `application` +
  `created_at` for the `by_application` index (newest first listing).
- `application#<name>`: the lease (`holder`, `lease_expires_at` epoch s), `newest_id`/`newest_created_at`
  (the latest notification: only it may start) and `last_succeeded_id` (what rollback may undo).
- `used#<id>`: a single-use capability that was used (a signed mutating request's signature, a one-click
  link's nonce), written once with a conditional put; `expires_at` (epoch s, the table's TTL attribute) is
  past the time the capability could be used at all, so DynamoDB deletes it afterwards.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, assert_never

from controller.core import records
from controller.core.model import Deployment
from controller.core.observation import LeaseView

INDEX = "by_application"
# A transaction cancelled for another reason than a condition (TransactionConflict with a concurrent writer,
# throttling) changed nothing: it is tried again this many times in all, then the error propagates
# (a transient one: the tick retries later, a route answers 503).
TRANSACTION_ATTEMPTS = 3
CONFLICT_PAUSE_S = 0.05
CONDITION_FAILED = "ConditionalCheckFailed"
NO_NEWER = "(attribute_not_exists(newest_id) OR newest_id = :id)"  # no later notification is waiting


class StaleRecord(Exception):
    """Another tick saved this deployment first: the caller must not act on its decision."""


class LeaseLost(Exception):
    """The deployment no longer holds its application's lease."""


class LeaseKind(StrEnum):
    ACQUIRE = "acquire"  # take the lease: free, expired or ours, and we are the newest notification
    RENEW = "renew"  # push the expiry on while we hold it
    RELEASE = "release"  # give it up (a success also becomes what a rollback may undo)
    ROLLBACK = "rollback"  # a rollback takes the free lease; its deployment is no longer what one may undo
    ROLLBACK_UNDONE = "rollback_undone"  # ... unless Beanstalk refused its swap: both as they were


@dataclass(frozen=True)
class LeaseChange:
    kind: LeaseKind
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

    def was_used(self, use_id: str) -> bool:
        """Whether the single-use capability `use_id` was used."""
        item = self._db.get_item(
            TableName=self._table, Key={"pk": {"S": f"used#{use_id}"}}, ConsistentRead=True
        ).get("Item")
        return item is not None

    # --- writes -------------------------------------------------------------------------------------

    def use_once(self, use_id: str, expires_at: int, **facts: str) -> bool:
        """Record the use of the single-use capability `use_id`; False when it was used before."""
        item = {
            "pk": {"S": f"used#{use_id}"},
            "expires_at": {"N": str(int(expires_at))},
            **{name: {"S": value} for name, value in facts.items()},
        }
        try:
            self._db.put_item(
                TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

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
        failed = self._transact([put, newest])
        if failed == 0:
            return None
        if failed == 1:
            # A newer notification is already recorded: store this one anyway; it will end superseded.
            try:
                self._db.put_item(**self._put(d, 1, condition="attribute_not_exists(pk)"))
            except self._db.exceptions.ConditionalCheckFailedException:
                return None
        return dataclasses.replace(d, record_version=1)

    def save(self, d: Deployment, now: datetime, lease: LeaseChange | None = None) -> Deployment:
        """Write `d` if nobody saved since it was loaded; with the lease change in the same transaction.

        StaleRecord: another writer saved the deployment first. LeaseLost: the lease condition failed."""
        version = d.record_version
        put = self._put(d, version + 1, condition="record_version = :v", values={":v": {"N": str(version)}})
        if lease is None:
            try:
                self._db.put_item(**put)
            except self._db.exceptions.ConditionalCheckFailedException:
                if not self._holds(d, version + 1):
                    raise StaleRecord(d.id) from None
        else:
            failed = self._transact([{"Put": put}, {"Update": self._lease(d, now, lease)}])
            if failed == 0:
                raise StaleRecord(d.id)
            if failed == 1:
                raise LeaseLost(d.id)
        return dataclasses.replace(d, record_version=version + 1)

    def claim(self, d: Deployment) -> Deployment:
        """Write `d` only if nobody saved since it was loaded, with no second look: unlike `save`, a write
        that fails its condition is never taken for our own (two ticks claiming the same announcement make
        the same record). StaleRecord when the condition failed, even when it was our own lost write: an
        announcement is then not sent (at most once)."""
        version = d.record_version
        put = self._put(d, version + 1, condition="record_version = :v", values={":v": {"N": str(version)}})
        try:
            self._db.put_item(**put)
        except self._db.exceptions.ConditionalCheckFailedException:
            raise StaleRecord(d.id) from None
        return dataclasses.replace(d, record_version=version + 1)

    def _transact(self, items: list[dict[str, Any]]) -> int | None:
        """Run the transaction; None when it committed, else the index of the item whose condition failed."""
        return self._transact_seeing(items)[0]

    def _transact_seeing(self, items: list[dict[str, Any]]) -> tuple[int | None, dict[str, Any]]:
        """Run the transaction; (None, {}) when it committed, else the index of the item whose condition
        failed and that item as it was (when the item asked for it with ReturnValuesOnConditionCheckFailure).
        Other cancellations (a conflicting concurrent transaction, throttling) are tried again; the last
        one propagates. botocore's own retries reuse one ClientRequestToken, so a retried commit is no
        second write."""
        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                self._db.transact_write_items(TransactItems=items)
                return None, {}
            except self._db.exceptions.TransactionCanceledException as error:
                reasons = error.response.get("CancellationReasons", [])
                codes = [r.get("Code") for r in reasons]
                if CONDITION_FAILED in codes:
                    index = codes.index(CONDITION_FAILED)
                    return index, dict(reasons[index].get("Item") or {})
                if attempt + 1 == TRANSACTION_ATTEMPTS:
                    raise
                time.sleep(CONFLICT_PAUSE_S * (attempt + 1))
        raise AssertionError("unreachable")

    def release(self, d: Deployment, now: datetime, succeeded: bool) -> tuple[Deployment, str | None]:
        """Save the finished deployment and give up the lease in one transaction; also the newest waiting
        notification, learnt from that same write (None when there is none): the lease is first released
        on the condition that no newer notification arrived, and a refusal hands back the lease item,
        which names it. Then it is released as `save` does. StaleRecord and LeaseLost as for `save`."""
        version = d.record_version
        put = self._put(d, version + 1, condition="record_version = :v", values={":v": {"N": str(version)}})
        release = self._lease(d, now, LeaseChange(LeaseKind.RELEASE, succeeded=succeeded))
        alone = {
            **release,
            "ConditionExpression": f"{release['ConditionExpression']} AND {NO_NEWER}",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        failed, lease = self._transact_seeing([{"Put": put}, {"Update": alone}])
        if failed is None:
            return dataclasses.replace(d, record_version=version + 1), None
        if failed == 0:
            raise StaleRecord(d.id)
        if _s(lease, "holder") != d.id:
            raise LeaseLost(d.id)
        return self.save(d, now, LeaseChange(LeaseKind.RELEASE, succeeded=succeeded)), _s(lease, "newest_id")

    def _holds(self, d: Deployment, version: int) -> bool:
        """Whether the stored record is exactly `d` at `version`: a put whose answer was lost and which
        botocore then sent again fails its own condition, though the write it made is ours."""
        item = self._db.get_item(
            TableName=self._table, Key={"pk": {"S": f"deployment#{d.id}"}}, ConsistentRead=True
        ).get("Item")
        return (
            item is not None and int(item["record_version"]["N"]) == version and item["doc"]["S"] == _doc(d)
        )

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
            "doc": {"S": _doc(d)},
        }
        put: dict[str, Any] = {"TableName": self._table, "Item": item, "ConditionExpression": condition}
        if values:
            put["ExpressionAttributeValues"] = values
        return put

    def _lease(self, d: Deployment, now: datetime, change: LeaseChange) -> dict[str, Any]:
        key = {"TableName": self._table, "Key": {"pk": {"S": f"application#{d.application}"}}}
        me = {":id": {"S": d.id}}
        expires = {":exp": {"N": str(int(now.timestamp()) + self._lease_ttl_s)}}
        match change.kind:
            case LeaseKind.ACQUIRE:
                return {
                    **key,
                    "UpdateExpression": "SET holder = :id, lease_expires_at = :exp",
                    "ConditionExpression": (
                        "(attribute_not_exists(holder) OR holder = :id OR lease_expires_at < :now)"
                        " AND (attribute_not_exists(newest_id) OR newest_id = :id)"
                    ),
                    "ExpressionAttributeValues": {**me, **expires, ":now": {"N": str(int(now.timestamp()))}},
                }
            case LeaseKind.RENEW:
                return {
                    **key,
                    "UpdateExpression": "SET lease_expires_at = :exp",
                    "ConditionExpression": "holder = :id",
                    "ExpressionAttributeValues": {**me, **expires},
                }
            case LeaseKind.RELEASE:
                update = "REMOVE holder, lease_expires_at"
                if change.succeeded:
                    update = "SET last_succeeded_id = :id " + update
                return {
                    **key,
                    "UpdateExpression": update,
                    "ConditionExpression": "holder = :id",
                    "ExpressionAttributeValues": me,
                }
            case LeaseKind.ROLLBACK:
                return {
                    **key,
                    "UpdateExpression": "SET holder = :id, lease_expires_at = :exp REMOVE last_succeeded_id",
                    "ConditionExpression": (
                        "(attribute_not_exists(holder) OR lease_expires_at < :now)"
                        " AND last_succeeded_id = :id"
                    ),
                    "ExpressionAttributeValues": {**me, **expires, ":now": {"N": str(int(now.timestamp()))}},
                }
            case LeaseKind.ROLLBACK_UNDONE:
                return {
                    **key,
                    "UpdateExpression": "SET last_succeeded_id = :id REMOVE holder, lease_expires_at",
                    "ConditionExpression": "holder = :id",
                    "ExpressionAttributeValues": me,
                }
            case _:
                assert_never(change.kind)


def _doc(d: Deployment) -> str:
    return json.dumps(records.to_document(d), separators=(",", ":"))


def _deployment(item: dict[str, Any]) -> Deployment:
    return records.from_document(json.loads(item["doc"]["S"]), int(item["record_version"]["N"]))


def _s(item: dict[str, Any], name: str) -> str | None:
    value = item.get(name)
    return None if value is None else str(value["S"])
