"""Every store adapter runs the shared contract; adapter-specific behaviour (outages, encoding) below."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import stat
import subprocess
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import mongomock
import pymongo
import pytest
from store_contract import StoreContract, deploy

from tests.prerequisites import unavailable
from webapp.store.base import Store, StoreUnavailable
from webapp.store.memory import MemoryStore
from webapp.store.mongo import MongoStore, decode_key, encode_key
from webapp.store.sqlite import SqliteStore


class TestSqliteStore(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Store]:
        store = SqliteStore.open(tmp_path / "data" / "webapp.sqlite3", timeout_s=5)
        yield store
        store.close()

    def reopen(self, store: Store) -> Store:
        assert isinstance(store, SqliteStore)
        return SqliteStore.open(store._path, timeout_s=5)

    def environment_of(self, store: Store) -> dict[str, str]:
        assert isinstance(store, SqliteStore)
        return {"SQLITE_PATH": str(store._path), "STORE_TIMEOUT_S": "10"}


class TestMongoStore(StoreContract):
    """Against the MongoDB at MONGODB_URI when it is set, else against mongomock."""

    @pytest.fixture
    def store(self) -> Iterator[Store]:
        name = f"webapp_test_{uuid.uuid4().hex[:12]}"
        uri = os.environ.get("MONGODB_URI")
        client: Any = (
            pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000) if uri else mongomock.MongoClient()
        )
        self._client = client
        store = MongoStore(client[name])
        yield store
        client.drop_database(name)
        client.close()

    def reopen(self, store: Store) -> Store:
        assert isinstance(store, MongoStore)
        return MongoStore(self._client[store._database.name])

    def environment_of(self, store: Store) -> dict[str, str]:
        assert isinstance(store, MongoStore)
        uri = os.environ.get("MONGODB_URI")
        if not uri:
            pytest.skip(
                "mongomock's database lives inside one process: this case runs against a real MongoDB "
                "(MONGODB_URI, as CircleCI's mongo:7 service)"
            )
        return {"MONGODB_URI": urlunsplit(urlsplit(uri)._replace(path=f"/{store._database.name}"))}


class TestMemoryStore(StoreContract):
    durable = False

    def environment_of(self, store: Store) -> dict[str, str]:
        pytest.skip("this adapter keeps its state in one process by design")

    @pytest.fixture
    def store(self) -> Store:
        return MemoryStore()


# -- SQLite: outages and recovery ------------------------------------------------------------------------


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore.open(tmp_path / "data" / "webapp.sqlite3", timeout_s=1)
    yield store
    store.close()


def test_sqlite_store_moved_away_is_unavailable_then_recovers(
    sqlite_store: SqliteStore, tmp_path: Path
) -> None:
    sqlite_store.count_call("1.0.0")
    (tmp_path / "data").rename(tmp_path / "unmounted")
    for operation in (
        lambda: sqlite_store.count_call("1.0.0"),
        sqlite_store.read_state,
        sqlite_store.probe_write,
    ):
        with pytest.raises(StoreUnavailable, match=r"webapp\.sqlite3"):
            operation()
    assert not (tmp_path / "data").exists(), "a missing database must never be recreated empty"
    (tmp_path / "unmounted").rename(tmp_path / "data")
    assert sqlite_store.count_call("1.0.0").calls == 2


def test_sqlite_store_replaced_by_a_directory_is_unavailable(
    sqlite_store: SqliteStore, tmp_path: Path
) -> None:
    sqlite_store.count_call("1.0.0")
    db = tmp_path / "data" / "webapp.sqlite3"
    db.rename(tmp_path / "saved.sqlite3")
    db.mkdir()
    with pytest.raises(StoreUnavailable, match="not a regular file"):
        sqlite_store.count_call("1.0.0")
    db.rmdir()
    (tmp_path / "saved.sqlite3").rename(db)
    assert sqlite_store.count_call("1.0.0").calls == 2


def test_sqlite_store_reads_the_file_now_at_the_path(sqlite_store: SqliteStore, tmp_path: Path) -> None:
    """A swapped-in copy (a restored backup, a re-attached volume) is what counts, not a stale handle."""
    sqlite_store.count_call("1.0.0")
    db = tmp_path / "data" / "webapp.sqlite3"
    other = SqliteStore.open(tmp_path / "other" / "webapp.sqlite3", timeout_s=1)
    for _ in range(5):
        other.count_call("9.9.9")
    other.close()
    shutil.rmtree(tmp_path / "data")
    (tmp_path / "other").rename(tmp_path / "data")
    assert sqlite_store.count_call("1.0.0").calls_by_version == {"9.9.9": 5, "1.0.0": 1}
    assert db.exists()


def test_sqlite_open_fails_clearly_when_the_path_cannot_hold_a_database(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    with pytest.raises(StoreUnavailable, match="cannot open SQLite database"):
        SqliteStore.open(tmp_path / "a-file" / "webapp.sqlite3", timeout_s=1)


def test_sqlite_store_on_a_corrupt_file_is_unavailable(tmp_path: Path) -> None:
    db = tmp_path / "webapp.sqlite3"
    store = SqliteStore.open(db, timeout_s=1)
    store.count_call("1.0.0")
    store.close()
    db.write_bytes(b"this is not a database" * 500)
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    with pytest.raises(StoreUnavailable):
        store.count_call("1.0.0")


def test_two_sqlite_stores_on_one_file_count_exactly(tmp_path: Path) -> None:
    """Two servers (blue and green) each with their own connections to one file."""
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path / "webapp.sqlite3"
    blue, green = SqliteStore.open(path, timeout_s=5), SqliteStore.open(path, timeout_s=5)

    def work(index: int) -> int:
        store, version = (blue, "blue") if index % 2 else (green, "green")
        return max(store.count_call(version).calls for _ in range(40))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(8)))
    assert blue.read_state().calls_by_version == {"blue": 160, "green": 160}
    blue.close()
    green.close()


# -- MongoDB: outages and key encoding --------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens here once the socket is closed


def test_mongo_store_unreachable_is_unavailable_for_every_operation() -> None:
    store = MongoStore.connect(f"mongodb://127.0.0.1:{closed_port()}/webapp_test", timeout_s=0.2)
    try:
        operations = (
            lambda: store.count_call("1.0.0"),
            lambda: store.record_deploy(deploy("1.0.0")),
            store.read_state,
            store.probe_write,
        )
        for operation in operations:
            with pytest.raises(StoreUnavailable, match="MongoDB: cannot"):
                operation()
    finally:
        store.close()


def test_mongo_store_uses_the_database_named_in_the_uri() -> None:
    store = MongoStore.connect(f"mongodb://127.0.0.1:{closed_port()}/named_db", timeout_s=0.2)
    assert store._database.name == "named_db"
    store.close()
    store = MongoStore.connect(f"mongodb://127.0.0.1:{closed_port()}/", timeout_s=0.2)
    assert store._database.name == "deliverypipeline"
    store.close()


class Recording:
    """A collection that records the calls made to it, then makes them."""

    def __init__(self, collection: Any) -> None:
        self._collection = collection
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._collection, name)

        def recorded(*args: Any, **kwargs: Any) -> Any:
            with self.lock:
                self.calls.append((name, args, kwargs))
            return method(*args, **kwargs)

        return recorded


@pytest.fixture
def mongo_store() -> Iterator[MongoStore]:
    """On the MongoDB at MONGODB_URI when it is set, else on mongomock."""
    uri = os.environ.get("MONGODB_URI")
    client: Any = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000) if uri else mongomock.MongoClient()
    name = f"webapp_test_{uuid.uuid4().hex[:12]}"
    yield MongoStore(client[name])
    client.drop_database(name)
    client.close()


def test_mongo_writes_wait_for_a_journaled_majority(mongo_store: MongoStore) -> None:
    """A 200 means stored: every collection the store writes asks for w=majority, j=true."""
    for collection in (mongo_store._counters, mongo_store._deploys, mongo_store._health):
        assert collection.write_concern.document == {"w": "majority", "j": True}, collection.name


def test_mongo_concurrent_calls_are_counted_by_atomic_incs_only(mongo_store: MongoStore) -> None:
    """Counting is MongoDB's $inc on one document, never a read-modify-write in Python: every write to the
    counters is a find_one_and_update whose only operator is $inc, and their increments add up to the calls;
    concurrent callers share writes (a batch is one $inc), and each still gets its own exact total."""
    recording = Recording(mongo_store._counters)
    mongo_store._counters = recording
    threads, per_thread = 8, 25

    def work(index: int) -> list[int]:
        return [mongo_store.count_call(f"1.0.{index % 2}").calls for _ in range(per_thread)]

    with ThreadPoolExecutor(threads) as pool:
        seen = sorted(calls for result in pool.map(work, range(threads)) for calls in result)
    total = threads * per_thread
    assert seen == list(range(1, total + 1))
    assert {name for name, _, _ in recording.calls} == {"find_one_and_update"}
    incremented = 0
    for _, (query, update), options in recording.calls:
        assert query == {"_id": "calls"} and list(update) == ["$inc"]
        assert options["upsert"] is True and options["return_document"] == pymongo.ReturnDocument.AFTER
        incremented += sum(update["$inc"].values())
    assert incremented == total
    assert len(recording.calls) <= total
    assert mongo_store.read_state().calls_by_version == {"1.0.0": total // 2, "1.0.1": total // 2}


def test_mongo_writes_carry_the_write_concern_to_the_server() -> None:
    """On the wire, against a real MongoDB (CircleCI's mongo:7): each write command's writeConcern."""
    uri = os.environ.get("MONGODB_URI")
    if not uri:
        pytest.skip("needs a real MongoDB (MONGODB_URI, as on CircleCI): mongomock sends no commands")
    from pymongo import monitoring

    class Writes(monitoring.CommandListener):
        def __init__(self) -> None:
            self.concerns: dict[str, list[Any]] = {}

        def started(self, event: monitoring.CommandStartedEvent) -> None:
            if event.command_name in ("findAndModify", "update", "insert"):
                concern = event.command.get("writeConcern")
                self.concerns.setdefault(event.command_name, []).append(concern)

        def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
            pass

        def failed(self, event: monitoring.CommandFailedEvent) -> None:
            pass

    writes = Writes()
    client: Any = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000, event_listeners=[writes])
    name = f"webapp_test_{uuid.uuid4().hex[:12]}"
    try:
        store = MongoStore(client[name])
        store.count_call("1.0.0")
        store.record_deploy(deploy("1.0.0"))
        store.probe_write()
    finally:
        client.drop_database(name)
        client.close()
    assert set(writes.concerns) == {"findAndModify", "update"}
    for concerns in writes.concerns.values():
        assert concerns and all(c == {"w": "majority", "j": True} for c in concerns), writes.concerns


@pytest.mark.parametrize("label", ["1.0.42", "$set", "%2E", "a%b.c$d", "plain"])
def test_mongo_keys_hold_no_dots_or_dollars_and_decode_back(label: str) -> None:
    key = encode_key(label)
    assert "." not in key and "$" not in key
    assert decode_key(key) == label


def test_sqlite_store_waits_while_another_writer_holds_the_lock(tmp_path: Path) -> None:
    """Blue and green (or two workers) on one file: a call that finds the write lock taken waits for it."""
    db = tmp_path / "webapp.sqlite3"
    store = SqliteStore.open(db, timeout_s=5)
    other = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO calls_by_version (version, calls) VALUES ('green', 7)")
    releasing = threading.Timer(0.3, lambda: other.execute("COMMIT"))
    releasing.start()
    try:
        assert store.count_call("blue").calls_by_version == {"green": 7, "blue": 1}
    finally:
        releasing.join()
        other.close()
        store.close()


def test_sqlite_store_unavailable_when_the_lock_stays_taken_past_the_timeout(tmp_path: Path) -> None:
    db = tmp_path / "webapp.sqlite3"
    store = SqliteStore.open(db, timeout_s=0.3)
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreUnavailable, match="database is locked"):
            store.count_call("blue")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert store.count_call("blue").calls == 1, "nothing was counted while the lock was taken"
    store.close()


def test_sqlite_full_answers_only_after_syncing_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FULL syncs the write-ahead log after the commit (outside the write lock), before the answer."""
    db = tmp_path / "webapp.sqlite3"
    synced: list[int] = []
    real_fdatasync = os.fdatasync

    def fdatasync(fd: int) -> None:
        synced.append(os.fstat(fd).st_ino)
        real_fdatasync(fd)

    monkeypatch.setattr("webapp.store.wal_sync.os.fdatasync", fdatasync)
    full = SqliteStore.open(db, timeout_s=5)
    assert full.count_call("1.0.0").calls == 1
    assert synced == [os.stat(f"{db}-wal").st_ino], "the log was synced once, before the answer"
    full.close()
    normal = SqliteStore.open(db, timeout_s=5, synchronous="NORMAL")
    assert normal.count_call("1.0.0").calls == 2
    assert len(synced) == 1, "NORMAL does not sync"
    normal.close()


def test_sqlite_a_failed_log_sync_hands_the_process_over_and_refuses_everything_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a failed sync of the log, what this process committed can no longer be vouched for: the store
    calls its hook (the server's ends the process without answering) and refuses every later operation, so
    no later call is answered 200 on top of a log that may have a hole. A new process reads the file."""
    db = tmp_path / "webapp.sqlite3"
    lost: list[str] = []
    store = SqliteStore.open(db, timeout_s=5, on_lost_durability=lost.append)
    store.count_call("1.0.0")

    def failing(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr("webapp.store.wal_sync.os.fdatasync", failing)
    with pytest.raises(StoreUnavailable, match="the log's sync failed after a commit: Input/output error"):
        store.count_call("1.0.0")
    assert len(lost) == 1 and "Input/output error" in lost[0]
    monkeypatch.undo()  # the disk works again: this process still refuses
    operations = (
        lambda: store.count_call("1.0.0"),
        store.read_state,
        store.probe_write,
        lambda: store.record_deploy(deploy("1.0.0")),
    )
    for operation in operations:
        with pytest.raises(StoreUnavailable, match="unavailable until this process restarts"):
            operation()
    assert len(lost) == 1
    restarted = SqliteStore.open(db, timeout_s=5)
    assert restarted.count_call("1.0.0").calls == 3, "the batch whose sync failed was committed"
    restarted.close()


def test_sqlite_a_failed_health_probe_sync_is_a_lost_durability_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lost: list[str] = []
    store = SqliteStore.open(tmp_path / "webapp.sqlite3", timeout_s=5, on_lost_durability=lost.append)

    def failing(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("webapp.store.wal_sync.os.fdatasync", failing)
    with pytest.raises(StoreUnavailable, match="No space left on device"):
        store.probe_write()
    assert len(lost) == 1


def test_sqlite_the_logs_directory_is_synced_once_not_per_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The log's name must survive a power loss as well as its content: its directory is synced when the
    log is first synced, and only then (a directory sync per commit would double the cost of each)."""
    db = tmp_path / "data" / "webapp.sqlite3"
    store = SqliteStore.open(db, timeout_s=5)
    directory = os.stat(db.parent).st_ino
    synced_directories: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            synced_directories.append(info.st_ino)
        real_fsync(fd)

    monkeypatch.setattr("webapp.store.wal_sync.os.fsync", fsync)
    for _ in range(5):
        store.count_call("1.0.0")
    store.probe_write()
    assert synced_directories == [directory]
    store.close()


def test_sqlite_a_deleted_file_reads_as_down_and_is_never_recreated_empty(tmp_path: Path) -> None:
    db = tmp_path / "webapp.sqlite3"
    store = SqliteStore.open(db, timeout_s=1)
    store.count_call("1.0.0")
    store.close()  # the log is checkpointed into the file and removed with the last connection
    saved = tmp_path / "saved.sqlite3"
    db.rename(saved)
    for operation in (lambda: store.count_call("1.0.0"), store.read_state, store.probe_write):
        with pytest.raises(StoreUnavailable, match="No such file or directory"):
            operation()
    assert not db.exists(), "a missing database must never be recreated empty"
    saved.rename(db)
    assert store.count_call("1.0.0").calls == 2
    store.close()


def test_sqlite_a_new_connection_waits_while_the_database_is_busy(tmp_path: Path) -> None:
    """A worker's first statements on a new connection find the database busy while another connection
    holds it (recovering the log, or in exclusive mode); they are retried like any other statement, not
    answered 503 just after the worker starts (the flaky first-starts test on main)."""
    db = tmp_path / "webapp.sqlite3"
    SqliteStore.open(db, timeout_s=5).close()
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")  # nobody else can even read until this connection closes
    releasing = threading.Timer(0.3, holder.close)
    store = SqliteStore(db, timeout_s=5)
    releasing.start()
    try:
        store.record_deploy(deploy("1.0.0"))
        assert store.count_call("1.0.0").calls == 1
    finally:
        releasing.join()
        store.close()


def test_sqlite_a_call_withdrawn_from_the_queue_is_never_counted_afterwards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call that waits past the store timeout behind a slow commit is answered 503 and must never be
    committed later, by the next batch or any other."""
    db = tmp_path / "webapp.sqlite3"
    store = SqliteStore.open(db, timeout_s=0.2)
    entered, release = threading.Event(), threading.Event()
    real_fdatasync = os.fdatasync

    def slow(fd: int) -> None:
        entered.set()
        release.wait(5)
        real_fdatasync(fd)

    monkeypatch.setattr("webapp.store.wal_sync.os.fdatasync", slow)
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(store.count_call, "1.0.0")
        assert entered.wait(5)
        with pytest.raises(StoreUnavailable, match=r"waited more than 0\.2s for a commit"):
            store.count_call("1.0.0")  # queued behind the first, which is still syncing
        release.set()
        assert first.result(5).calls == 1
    monkeypatch.undo()
    for expected in (2, 3):
        assert store.count_call("1.0.0").calls == expected
    assert store.read_state().calls_by_version == {"1.0.0": 3}
    store.close()


def test_sqlite_a_shm_file_turned_unwritable_answers_unavailable_then_recovers(tmp_path: Path) -> None:
    """SQLite writes the log's index (-shm) through a memory map: written once it is immutable, the process
    would die of SIGBUS. The store checks it first and refuses instead, and carries on once it is writable."""
    if os.geteuid() != 0:
        pytest.skip("making a file immutable needs root (chattr +i)")
    db = tmp_path / "webapp.sqlite3"
    store = SqliteStore.open(db, timeout_s=1)
    store.count_call("1.0.0")
    shm = Path(f"{db}-shm")
    made = subprocess.run(["chattr", "+i", str(shm)], capture_output=True, text=True)
    if made.returncode != 0:
        unavailable(f"chattr +i does not work here: {made.stderr.strip()}")
    try:
        for operation in (lambda: store.count_call("1.0.0"), store.read_state, store.probe_write):
            with pytest.raises(StoreUnavailable, match=r"webapp\.sqlite3-shm is not writable"):
                operation()
    finally:
        subprocess.run(["chattr", "-i", str(shm)], check=True)
    assert store.count_call("1.0.0").calls == 2
    store.close()


def test_sqlite_a_shm_file_another_process_creates_again_during_the_check_is_not_unwritable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process's last connection removes -shm and the next one creates it again at any moment: a
    check that found it missing, then present, must not refuse the call (CI counted calls in several
    processes and one got "webapp.sqlite3-shm is not writable" from that race)."""
    db = tmp_path / "webapp.sqlite3"
    store = SqliteStore.open(db, timeout_s=1)
    store.count_call("1.0.0")
    shm = f"{db}-shm"
    assert Path(shm).exists()
    real_access = os.access
    raced: list[str] = []

    def access_while_it_was_missing(path: Any, mode: int, **kwargs: Any) -> bool:
        if str(path) == shm and not raced:
            raced.append(str(path))
            return False  # what access() answers for a file that is not there at that instant
        return real_access(path, mode, **kwargs)

    monkeypatch.setattr(os, "access", access_while_it_was_missing)
    assert store.count_call("1.0.0").calls == 2
    assert raced == [shm]
    store.close()
