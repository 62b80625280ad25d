"""The MongoDB adapter of the store port (pymongo; MongoDB Atlas in production).

Atomicity: all counts live in one document, `counters/{_id: "calls"}`, as `by_version.<key>: n`. The calls of
one process that arrive while a write is in flight are counted together by the next (group commit, as for
SQLite: `group_commit.py`): one `find_one_and_update` whose `$inc` adds each version's calls (upserting the
document on the very first call), which MongoDB applies atomically to the single document and which answers
with the document after it. No other increment falls between a batch's, so each caller gets the exact
state right after its own (`base.each_callers_state`). A batch is one round trip however many calls it
holds: the journaled majority write takes milliseconds on Atlas, so one call per write would cap a process
at a few hundred calls a second. Retryable writes (pymongo's default on replica sets such as Atlas) make a
retried increment apply once, never twice.
The health probe (`probe_write`) sets `health/{_id: "probe"}` with the same write concern: never counted.

Version labels may contain `.` or `$`, which MongoDB field names cannot hold, so a label is stored under a
percent-encoded key and decoded on the way out.

Durability: writes use `w="majority", j=True`: the answer comes after the write is journaled on a majority.
A `503` means the write failed or its answer did not come within the store timeout; in the second case
MongoDB may have applied it (the answer was lost, not the write), so that call may be counted: the one `503`
that can count (`base.py`).

Outages: pymongo reconnects by itself; every operation is bounded by the store timeout (server selection,
connect and socket), and any failure surfaces as StoreUnavailable.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any, TypeVar

import pymongo
from pymongo import ReturnDocument, WriteConcern
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, PyMongoError

from webapp.store.base import MAX_DEPLOYS, Deploy, State, StoreUnavailable, each_callers_state
from webapp.store.group_commit import GroupCommit, QueueTimeout

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_DATABASE = "deliverypipeline"
COUNTERS_ID = "calls"
HEALTH_PROBE_ID = "probe"
DURABLE = WriteConcern(w="majority", j=True)

Document = Mapping[str, Any]


class MongoStore:
    """The store in a MongoDB database: collections `counters` and `deploys`."""

    @classmethod
    def connect(cls, uri: str, timeout_s: float) -> MongoStore:
        """A store on the database named in the URI (else `deliverypipeline`); connects on first use, so the
        supervisor can create it and fork its workers (pymongo's advice for pre-fork servers)."""
        timeout_ms = int(timeout_s * 1000)
        client: pymongo.MongoClient[Document] = pymongo.MongoClient(
            uri,
            serverSelectionTimeoutMS=timeout_ms,
            connectTimeoutMS=timeout_ms,
            socketTimeoutMS=timeout_ms,
            tz_aware=True,
            appname="deliverypipeline-webapp",
            connect=False,  # no connection or monitor thread before the first operation: safe to fork
        )
        return cls(client.get_default_database(default=DEFAULT_DATABASE), timeout_s, close=client.close)

    def __init__(
        self, database: Database[Document], timeout_s: float = 5.0, close: Callable[[], None] = lambda: None
    ) -> None:
        """`timeout_s`: the longest a call waits for its batch to be sent (then 503, never counted)."""
        self._counters = database.get_collection("counters", write_concern=DURABLE)
        self._deploys = database.get_collection("deploys", write_concern=DURABLE)
        self._health = database.get_collection("health", write_concern=DURABLE)
        self._database = database
        self._close = close
        self._counts: GroupCommit[str, State] = GroupCommit(self._count_batch, timeout_s)

    def count_call(self, version: str) -> State:
        try:
            return self._counts.submit(version)
        except QueueTimeout as error:
            raise StoreUnavailable(f"MongoDB: cannot count a call: {error}") from error

    def _count_batch(self, versions: list[str]) -> list[State]:
        increments = {f"by_version.{encode_key(v)}": n for v, n in Counter(versions).items()}

        def count() -> State:
            try:
                counters = self._increment(increments)
            except DuplicateKeyError:
                # Two first-ever calls upserted at once and this one lost; nothing was written, so retry on
                # the document the other created (MongoDB >= 4.2 does this retry itself).
                counters = self._increment(increments)
            return State(calls_by_version=_calls_by_version(counters), deploys=self._read_deploys())

        after = self._run("count a call", count)
        return [state for state in each_callers_state(after, versions) if state is not None]

    def _increment(self, increments: dict[str, int]) -> Document | None:
        return self._counters.find_one_and_update(
            {"_id": COUNTERS_ID},
            {"$inc": increments},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )

    def record_deploy(self, deploy: Deploy) -> None:
        def record() -> None:
            # DuplicateKeyError: another instance of this version upserted at the same moment - recorded once.
            with suppress(DuplicateKeyError):
                self._deploys.update_one(
                    {"_id": deploy.version},
                    {"$setOnInsert": {"hostname": deploy.hostname, "deployed_at": deploy.deployed_at}},
                    upsert=True,
                )

        self._run("record a deploy", record)

    def read_state(self) -> State:
        def read() -> State:
            counters = self._counters.find_one({"_id": COUNTERS_ID})
            return State(calls_by_version=_calls_by_version(counters), deploys=self._read_deploys())

        return self._run("read the state", read)

    def probe_write(self) -> None:
        self._run(
            "write the health probe",
            lambda: self._health.update_one(
                {"_id": HEALTH_PROBE_ID}, {"$set": {"probed_at": datetime.now(UTC)}}, upsert=True
            ),
        )

    def close(self) -> None:
        self._close()

    def _read_deploys(self) -> tuple[Deploy, ...]:
        cursor = self._deploys.find().sort([("deployed_at", -1), ("_id", -1)]).limit(MAX_DEPLOYS)
        return tuple(
            Deploy(version=doc["_id"], hostname=doc["hostname"], deployed_at=_utc(doc["deployed_at"]))
            for doc in cursor
        )

    def _run(self, what: str, operation: Callable[[], T]) -> T:
        try:
            return operation()
        except PyMongoError as error:
            raise StoreUnavailable(f"MongoDB: cannot {what}: {error}") from error


def encode_key(version: str) -> str:
    """A MongoDB-safe field name for a version label (`.`, `$` and `%` percent-encoded; reversible)."""
    return version.replace("%", "%25").replace(".", "%2E").replace("$", "%24")


def decode_key(key: str) -> str:
    return key.replace("%24", "$").replace("%2E", ".").replace("%25", "%")


def _calls_by_version(counters: Document | None) -> dict[str, int]:
    if counters is None:
        return {}
    return {decode_key(key): int(count) for key, count in counters.get("by_version", {}).items()}


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
