"""The SQLite adapter of the store port: one embedded database file, shared safely by processes.

Atomicity: calls are counted by an upsert (`calls = calls + n`) inside a `BEGIN IMMEDIATE` transaction, which
holds SQLite's single write lock; the state is read inside that same transaction. Several threads, processes
and servers on one file never lose or double a count: the database does every increment under its lock.

Durability: WAL, and with `synchronous="FULL"` (the default) no call is answered before the log holding it is
synced to disk, so a call answered `200` survives a crash of the process *and* of the machine. SQLite's own
FULL syncs inside the commit, holding the write lock; here connections run SQLite's NORMAL and `WalSync`
syncs the log right after the commit, before the answer (`wal_sync.py`): the same durability, with the lock
free for the next writer meanwhile. If that sync fails the calls answer 503, although their commit is
visible: the disk failed, and whether the count survives it is the disk's to say. `"NORMAL"` skips the sync:
faster, survives `kill -9`, but may lose the last commits on power loss - and the contract promises that a
`200` is stored, so FULL is the default.

Throughput: the calls of one process that arrive while a commit is in progress are committed together in
the next transaction (group commit, `group_commit.py`): one fsync for the batch instead of one per call, and
the threads of one process never contend for SQLite's file lock. Each call still answers the exact state
after its own increment: the batch's increments are applied in order to the state read inside the
transaction. A batch is four statements whatever its size and however many versions and deploys there are:
one upsert for all its versions, one SELECT for the whole state as one JSON value. The committing thread
gives up the GIL for every SQLite step (each statement, each row read), and each time it waits behind the
request threads to get it back (README, "Throughput").

Waiting for the write lock another process holds: SQLite's busy handler sleeps 1, 2, 5, 10, 15... ms between
attempts, so a writer that finds the lock taken for a fraction of a millisecond sleeps for several, while
the holder's next batch may take the lock again. Connections here have no busy handler; `_run` retries a
statement that found the lock taken after 50 us, doubling up to 1 ms, until the store timeout. With two
worker processes on one file this doubled throughput and cut p99 latency tenfold (README, "Throughput").

Outages: every thread keeps its own connection, checked against the file on disk before each use; when the
file is gone, moved or replaced (a volume unmounted or swapped), the connection is dropped and the call
answers StoreUnavailable. Reopening never creates a database: a missing file must read as "down", not as
an empty store that starts counting from zero. Only `SqliteStore.open` creates the file and its schema.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import stat
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from webapp.store.base import MAX_DEPLOYS, Deploy, State, StoreUnavailable
from webapp.store.group_commit import GroupCommit, QueueTimeout
from webapp.store.wal_sync import WalSync

log = logging.getLogger(__name__)

T = TypeVar("T")

# Pauses between attempts while another connection holds the write lock (see "Waiting for the write lock").
BUSY_FIRST_PAUSE_S = 0.00005
BUSY_LONGEST_PAUSE_S = 0.001

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS calls_by_version (
           version TEXT PRIMARY KEY,
           calls   INTEGER NOT NULL CHECK (calls >= 0)
       ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS deploys (
           id          INTEGER PRIMARY KEY AUTOINCREMENT,
           version     TEXT NOT NULL UNIQUE,
           hostname    TEXT NOT NULL,
           deployed_at TEXT NOT NULL
       )""",
    "CREATE INDEX IF NOT EXISTS deploys_newest ON deploys (deployed_at DESC, id DESC)",
)

# The whole state in one JSON value: {"calls": {version: n}, "deploys": [[version, hostname, at, id], ...]}.
READ_STATE = """SELECT json_object(
    'calls', (SELECT json_group_object(version, calls) FROM calls_by_version),
    'deploys', (SELECT json_group_array(json_array(version, hostname, deployed_at, id)) FROM (
        SELECT version, hostname, deployed_at, id FROM deploys
        ORDER BY deployed_at DESC, id DESC LIMIT ?)))"""
# Adds the calls of a batch, given as one JSON object {version: n}, whatever the number of versions.
COUNT_CALLS = """INSERT INTO calls_by_version (version, calls) SELECT key, value FROM json_each(?) WHERE true
    ON CONFLICT (version) DO UPDATE SET calls = calls + excluded.calls"""
RECORD_DEPLOY = "INSERT OR IGNORE INTO deploys (version, hostname, deployed_at) VALUES (?, ?, ?)"


class SqliteStore:
    """The store in one SQLite file; safe to share between threads, processes and servers."""

    @classmethod
    def open(cls, path: Path, timeout_s: float, synchronous: str = "FULL") -> SqliteStore:
        """Creates the file (and its directory) and schema when missing; StoreUnavailable when it cannot."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=timeout_s, isolation_level=None)
            try:
                conn.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("BEGIN IMMEDIATE")
                for statement in SCHEMA:
                    conn.execute(statement)
                conn.execute("COMMIT")
            finally:
                conn.close()
        except (OSError, sqlite3.Error) as error:
            raise StoreUnavailable(f"cannot open SQLite database {str(path)!r}: {error}") from error
        return cls(path, timeout_s, synchronous)

    def __init__(self, path: Path, timeout_s: float, synchronous: str = "FULL") -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"synchronous must be FULL or NORMAL, got {synchronous!r}")
        self._synchronous = synchronous
        self._path = path
        self._uri = path.absolute().as_uri() + "?mode=rw"
        self._timeout_s = timeout_s
        self._local = threading.local()
        self._lock = threading.Lock()
        self._counts = GroupCommit(self._count_batch, timeout_s)
        self._connections: dict[sqlite3.Connection, WalSync] = {}

    def count_call(self, version: str) -> State:
        try:
            return self._counts.submit(version)
        except QueueTimeout as error:
            raise StoreUnavailable(f"SQLite {self._path}: cannot count a call: {error}") from error

    def record_deploy(self, deploy: Deploy) -> None:
        at = deploy.deployed_at.astimezone(UTC).isoformat(timespec="microseconds")
        self._run(
            "record a deploy",
            lambda conn: conn.execute(RECORD_DEPLOY, (deploy.version, deploy.hostname, at)),
        )

    def read_state(self) -> State:
        return self._run("read the state", _read_state)  # one statement: one snapshot

    def ping(self) -> None:
        """Answers when a call could be counted now: the database can be read *and* written."""
        self._run("ping", _probe_write)

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, {}
        for conn, wal in connections.items():
            conn.close()
            wal.close()

    def _count_batch(self, versions: list[str]) -> list[State]:
        """One transaction for the batch; each call answers the state right after its own increment."""

        counts = json.dumps(Counter(versions))

        def count(conn: sqlite3.Connection) -> State:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(COUNT_CALLS, (counts,))
                state = _read_state(conn)
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise
            if self._synchronous == "FULL":
                self._local.wal.sync()  # outside the write lock, before anyone is answered
            return state

        after = self._run("count a call", count)
        calls = dict(after.calls_by_version)
        for version in versions:
            calls[version] -= 1
        answers = []
        for version in versions:
            calls[version] += 1
            answers.append(State(calls_by_version=dict(calls), deploys=after.deploys))
        return answers

    # -- connections ---------------------------------------------------------------------------------------

    def _run(self, what: str, operation: Callable[[sqlite3.Connection], T]) -> T:
        """`operation` on this thread's connection; retried while another connection holds the write lock
        (with pauses of 50 us doubling up to 1 ms, until the store timeout), StoreUnavailable otherwise."""
        deadline = time.monotonic() + self._timeout_s
        pause = BUSY_FIRST_PAUSE_S
        while True:
            conn = self._connection(what)
            try:
                return operation(conn)
            except sqlite3.Error as error:
                if _busy(error) and time.monotonic() + pause < deadline:
                    time.sleep(pause)
                    pause = min(pause * 2, BUSY_LONGEST_PAUSE_S)
                    continue
                self._drop_connection()
                raise StoreUnavailable(f"SQLite {self._path}: cannot {what}: {error}") from error
            except OSError as error:  # syncing the log
                self._drop_connection()
                reason = error.strerror or error
                raise StoreUnavailable(
                    f"SQLite {self._path}: cannot {what}: log sync: {reason}"
                ) from error

    def _connection(self, what: str) -> sqlite3.Connection:
        """This thread's connection to the file now at the path; reopened when the file changed."""
        try:
            identity = _file_identity(self._path)
        except OSError as error:
            self._drop_connection()
            reason = error.strerror or error
            raise StoreUnavailable(f"SQLite {self._path}: cannot {what}: {reason}") from error
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and self._local.identity == identity:
            return conn
        self._drop_connection()
        try:
            # No busy handler (timeout=0): SQLite's sleeps 1, 2, 5, 10... ms; _run retries much sooner.
            conn = sqlite3.connect(
                self._uri, uri=True, timeout=0, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA synchronous = NORMAL")  # FULL's log sync is WalSync's, after the commit
        except sqlite3.Error as error:
            raise StoreUnavailable(f"SQLite {self._path}: cannot {what}: {error}") from error
        wal = WalSync(self._path)
        self._local.conn, self._local.identity, self._local.wal = conn, identity, wal
        with self._lock:
            self._connections[conn] = wal
        log.debug("opened SQLite connection to %s", self._path)
        return conn

    def _drop_connection(self) -> None:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            return
        self._local.conn = None
        with self._lock:
            wal = self._connections.pop(conn, None)
        try:
            conn.close()
        except sqlite3.Error:
            log.warning("closing a broken SQLite connection to %s failed", self._path, exc_info=True)
        if wal is not None:
            wal.close()


def _busy(error: sqlite3.Error) -> bool:
    """Another connection holds the lock this statement needs (SQLITE_BUSY and its extended codes)."""
    return getattr(error, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY


def _file_identity(path: Path) -> tuple[int, int]:
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise IsADirectoryError(0, "not a regular file")
    return info.st_dev, info.st_ino


def _read_state(conn: sqlite3.Connection) -> State:
    ((state_json,),) = conn.execute(READ_STATE, (MAX_DEPLOYS,)).fetchall()
    document = json.loads(state_json)
    newest_first = sorted(document["deploys"], key=lambda deploy: (deploy[2], deploy[3]), reverse=True)
    deploys = tuple(
        Deploy(version=version, hostname=hostname, deployed_at=datetime.fromisoformat(at))
        for version, hostname, at, _ in newest_first
    )
    return State(calls_by_version=document["calls"], deploys=deploys)


def _probe_write(conn: sqlite3.Connection) -> None:
    """Rewrites the header's user_version with its own value and rolls back: SQLITE_READONLY when the file or
    its log cannot be written (SQLite then opens the database read-only); nothing changes otherwise."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        ((version,),) = conn.execute("PRAGMA user_version").fetchall()
        conn.execute(f"PRAGMA user_version = {int(version)}")
    finally:
        _rollback(conn)


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            log.warning("rollback failed", exc_info=True)
