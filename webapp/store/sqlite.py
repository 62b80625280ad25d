"""The SQLite adapter of the store port: one embedded database file, shared safely by processes.

Atomicity: calls are counted by an upsert (`calls = calls + n`) inside a `BEGIN IMMEDIATE` transaction, which
holds SQLite's single write lock; the state is read inside that same transaction. Several threads, processes
and servers on one file never lose or double a count: the database does every increment under its lock.

Durability, answer by answer (the docs' "What an answer means" repeats this):
- `200` (with `synchronous="FULL"`, the default): the transaction holding the call has committed and the
  write-ahead log holding it has been synced to the device (`fdatasync`; the log's directory was synced
  once, when this process first synced the log). It survives a crash of the process, of the machine, and a
  power loss, as far as the device honours a flush. With `"NORMAL"` no sync: it survives a crash of the
  process, not necessarily of the machine.
- `503`: the call was not committed, and never will be: the statement failed before the commit (disk full,
  file-size limit, the file missing, moved or unwritable, the write lock taken past the store timeout), or
  the call waited past the timeout for a commit and was withdrawn from the queue (`group_commit.py`).
- no answer (the connection closes): the log's sync failed *after* the commit. The calls of that batch are
  already visible to every other connection, but Linux may have dropped the log's dirty pages and reports
  the error only once, so nothing this process commits can be vouched for any more. The store calls its
  `on_lost_durability` hook, which in the server ends the worker at once (as PostgreSQL panics on a failed
  fsync); the supervisor starts another, whose new connection reads what SQLite finds in the files. Those
  calls may or may not have survived; none of them was answered, and no later call is answered by this
  process. (A hook that returns, as in tests, leaves the store refusing every operation.)

SQLite syncs the log itself with FULL, but inside the commit, holding the write lock, so every other
process's writer waits for that fsync too. Here connections run SQLite's NORMAL and `WalSync` syncs the log
right after the commit, before anyone is answered (`wal_sync.py`): the same durability, with the lock free
for the next writer meanwhile.

Throughput: the calls of one process that arrive while a commit is in progress are committed together in
the next transaction (group commit): one fsync for the batch instead of one per call. Each call still
answers the exact state after its own increment: the batch's increments are applied in order to the state
read inside the transaction. A batch is four statements whatever its size: one upsert for all its versions,
one SELECT for the whole state as two JSON values (the deploys are parsed again only when they changed).
Each process has one connection, used by the thread leading the current commit (and by `record_deploy` and
`read_state`, under a lock): its threads never contend for SQLite's file lock.

Waiting for the write lock another process holds: SQLite's busy handler sleeps 1, 2, 5, 10, 15... ms between
attempts, so a writer that finds the lock taken for a fraction of a millisecond sleeps for several, while
the holder's next batch may take the lock again. Connections here have no busy handler; `_run` retries a
statement that found the database busy after 50 us, doubling up to 1 ms, until the store timeout - a new
connection's first statements included, which find the database busy while another connection recovers
the log.

Outages: the connection is checked against the file on disk before each use; when the file is gone, moved
or replaced (a volume unmounted or swapped), the connection is dropped and the call answers
StoreUnavailable. Reopening never creates a database (`mode=rw`): a missing file must read as "down", not as
an empty store that starts counting from zero. Only `SqliteStore.open` creates the file and its schema.

The one case answered by a crash instead of a 503: SQLite maps the `-shm` file (the log's index) into
memory and writes to it on every transaction; if that file turns read-only or immutable under a running
process, the kernel kills the process with SIGBUS on its next write there, and the supervisor starts
another. Before each use the connection checks that `-shm` can still be written and answers 503 when it
cannot, so only a change within the microseconds between that check and SQLite's write still ends in a
SIGBUS. No memory map of the database file itself is used (`mmap_size = 0`).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from webapp.store.base import MAX_DEPLOYS, Deploy, State, StoreUnavailable, each_callers_state
from webapp.store.group_commit import GroupCommit, QueueTimeout
from webapp.store.wal_sync import WalSync

log = logging.getLogger(__name__)

T = TypeVar("T")

# Pauses between attempts while another connection holds the lock a statement needs (see "Waiting").
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
    # What /health writes when no call came lately: one row, never counted.
    """CREATE TABLE IF NOT EXISTS health_probe (
           id        INTEGER PRIMARY KEY CHECK (id = 1),
           probed_at TEXT NOT NULL
       )""",
)

# The whole state in one row: the calls as {version: n}, the deploys as [[version, hostname, at, id], ...].
READ_STATE = """SELECT
    (SELECT json_group_object(version, calls) FROM calls_by_version),
    (SELECT json_group_array(json_array(version, hostname, deployed_at, id)) FROM (
        SELECT version, hostname, deployed_at, id FROM deploys
        ORDER BY deployed_at DESC, id DESC LIMIT ?))"""
# Adds the calls of a batch, given as one JSON object {version: n}, whatever the number of versions.
COUNT_CALLS = """INSERT INTO calls_by_version (version, calls) SELECT key, value FROM json_each(?) WHERE true
    ON CONFLICT (version) DO UPDATE SET calls = calls + excluded.calls"""
RECORD_DEPLOY = "INSERT OR IGNORE INTO deploys (version, hostname, deployed_at) VALUES (?, ?, ?)"
WRITE_PROBE = """INSERT INTO health_probe (id, probed_at) VALUES (1, ?)
    ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at"""

LostDurability = Callable[[str], None]


class SqliteStore:
    """The store in one SQLite file; safe to share between threads, processes and servers."""

    @classmethod
    def open(
        cls,
        path: Path,
        timeout_s: float,
        synchronous: str = "FULL",
        on_lost_durability: LostDurability | None = None,
    ) -> SqliteStore:
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
        return cls(path, timeout_s, synchronous, on_lost_durability)

    def __init__(
        self,
        path: Path,
        timeout_s: float,
        synchronous: str = "FULL",
        on_lost_durability: LostDurability | None = None,
    ) -> None:
        """`on_lost_durability(reason)` is called when the log's sync fails after a commit; the server's
        ends the process without answering (module docstring). Without one, the store refuses every
        operation from then on."""
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"synchronous must be FULL or NORMAL, got {synchronous!r}")
        self._synchronous = synchronous
        self._path = path
        self._uri = path.absolute().as_uri() + "?mode=rw"
        self._shm = Path(f"{os.path.realpath(path)}-shm")
        self._timeout_s = timeout_s
        self._on_lost_durability = on_lost_durability
        self._lost: str | None = None
        self._lock = threading.Lock()  # the connection, used by one thread at a time
        self._conn: sqlite3.Connection | None = None
        self._identity: tuple[int, int] | None = None
        self._owner_pid = 0
        self._wal: WalSync | None = None
        self._deploys: tuple[str, tuple[Deploy, ...]] = ("[]", ())
        # A batch's items: the version of each counted call, None for each health probe.
        self._writes: GroupCommit[str | None, State | None] = GroupCommit(self._commit_batch, timeout_s)

    def count_call(self, version: str) -> State:
        state = self._submit("count a call", version)
        assert state is not None
        return state

    def probe_write(self) -> None:
        self._submit("write the health probe", None)

    def record_deploy(self, deploy: Deploy) -> None:
        at = deploy.deployed_at.astimezone(UTC).isoformat(timespec="microseconds")
        self._run(
            "record a deploy",
            lambda conn: conn.execute(RECORD_DEPLOY, (deploy.version, deploy.hostname, at)),
        )

    def read_state(self) -> State:
        return self._run("read the state", self._read_state)  # one statement: one snapshot

    def close(self) -> None:
        with self._lock:
            self._drop_connection()

    # -- the write path ------------------------------------------------------------------------------------

    def _submit(self, what: str, item: str | None) -> State | None:
        try:
            return self._writes.submit(item)
        except QueueTimeout as error:
            raise StoreUnavailable(f"SQLite {self._path}: cannot {what}: {error}") from error

    def _commit_batch(self, items: list[str | None]) -> list[State | None]:
        """One transaction for the batch; each call answers the state right after its own increment."""
        versions = [item for item in items if item is not None]
        probed = len(versions) < len(items)
        counts = Counter(versions)

        def commit(conn: sqlite3.Connection) -> State | None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                if counts:
                    conn.execute(COUNT_CALLS, (json.dumps(counts),))
                if probed:
                    conn.execute(WRITE_PROBE, (datetime.now(UTC).isoformat(),))
                after = self._read_state(conn) if counts else None
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise
            if self._synchronous == "FULL":
                self._sync_log()  # after the commit, outside SQLite's write lock, before anyone is answered
            return after

        after = self._run("count a call" if counts else "write the health probe", commit)
        return [None] * len(items) if after is None else each_callers_state(after, items)

    def _sync_log(self) -> None:
        """The committed batch reaches the disk before anyone is answered; if it cannot, the durability of
        what this process committed is lost (module docstring)."""
        try:
            assert self._wal is not None
            self._wal.sync()
        except OSError as error:
            reason = f"SQLite {self._path}: the log's sync failed after a commit: {error.strerror or error}"
            self._lost = reason
            log.critical("%s; this process can no longer vouch for what it committed", reason)
            if self._on_lost_durability is not None:
                self._on_lost_durability(reason)
            raise StoreUnavailable(reason) from error

    def _read_state(self, conn: sqlite3.Connection) -> State:
        ((calls_json, deploys_json),) = conn.execute(READ_STATE, (MAX_DEPLOYS,)).fetchall()
        if deploys_json != self._deploys[0]:  # deploys change with a new version only: parse them then
            self._deploys = (deploys_json, _deploys(deploys_json))
        return State(calls_by_version=json.loads(calls_json), deploys=self._deploys[1])

    # -- the connection ------------------------------------------------------------------------------------

    def _run(self, what: str, operation: Callable[[sqlite3.Connection], T]) -> T:
        """`operation` on this process's connection, retried while the database is busy (pauses of 50 us
        doubling up to 1 ms, until the store timeout); StoreUnavailable otherwise."""
        deadline = time.monotonic() + self._timeout_s
        pause = BUSY_FIRST_PAUSE_S
        while True:
            with self._lock:
                try:
                    return operation(self._connection(what))
                except sqlite3.Error as error:
                    busy = _busy(error)
                    if not busy:
                        self._drop_connection()
                    if not busy or time.monotonic() + pause >= deadline:
                        raise StoreUnavailable(f"SQLite {self._path}: cannot {what}: {error}") from error
            time.sleep(pause)
            pause = min(pause * 2, BUSY_LONGEST_PAUSE_S)

    def _connection(self, what: str) -> sqlite3.Connection:
        """The connection to the file now at the path, (re)opened when the file changed; its first
        statements run here, so a busy database is retried by `_run` like any other statement."""
        if self._lost is not None:
            raise StoreUnavailable(f"{self._lost}; unavailable until this process restarts")
        try:
            identity = _file_identity(self._path)
        except OSError as error:
            self._drop_connection()
            raise StoreUnavailable(
                f"SQLite {self._path}: cannot {what}: {error.strerror or error}"
            ) from error
        if _unwritable(self._shm):
            # Not dropped: closing runs a checkpoint, which writes to -shm as well (module docstring).
            raise StoreUnavailable(f"SQLite {self._path}: cannot {what}: {self._shm.name} is not writable")
        if self._conn is not None and self._identity == identity and self._owner_pid == os.getpid():
            return self._conn
        self._drop_connection()
        # No busy handler (timeout=0): SQLite's sleeps 1, 2, 5, 10... ms; _run retries much sooner.
        conn = sqlite3.connect(self._uri, uri=True, timeout=0, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA synchronous = NORMAL")  # FULL's log sync is WalSync's, after the commit
            conn.execute("PRAGMA mmap_size = 0")
        except BaseException:
            conn.close()
            raise
        self._conn, self._identity, self._owner_pid = conn, identity, os.getpid()
        self._wal = WalSync(self._path)
        log.debug("opened SQLite connection to %s", self._path)
        return conn

    def _drop_connection(self) -> None:
        conn, wal, self._conn, self._wal = self._conn, self._wal, None, None
        if conn is not None and self._owner_pid == os.getpid():  # a parent's connection is never closed
            try:
                conn.close()
            except sqlite3.Error:
                log.warning("closing a broken SQLite connection to %s failed", self._path, exc_info=True)
        if wal is not None:
            wal.close()


def _unwritable(shm: Path) -> bool:
    """The -shm file exists and cannot be written (read-only, immutable). A missing one is fine: SQLite
    creates it. Another process's last connection removes it and the next one creates it again at any
    moment, so a failed check counts only if the file is there and the check fails once more. (Not tested
    by opening it: closing any descriptor of the file would release SQLite's POSIX locks on it here.)"""
    if os.access(shm, os.W_OK):
        return False
    return shm.exists() and not os.access(shm, os.W_OK)


def _busy(error: sqlite3.Error) -> bool:
    """Another connection holds the lock this statement needs (SQLITE_BUSY and its extended codes)."""
    return getattr(error, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY


def _file_identity(path: Path) -> tuple[int, int]:
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise IsADirectoryError(0, "not a regular file")
    return info.st_dev, info.st_ino


def _deploys(deploys_json: str) -> tuple[Deploy, ...]:
    newest_first = sorted(json.loads(deploys_json), key=lambda deploy: (deploy[2], deploy[3]), reverse=True)
    return tuple(
        Deploy(version=version, hostname=hostname, deployed_at=datetime.fromisoformat(at))
        for version, hostname, at, _ in newest_first
    )


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            log.warning("rollback failed", exc_info=True)
