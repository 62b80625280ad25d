"""Making SQLite's write-ahead log durable after the commit, outside the write lock.

In WAL mode SQLite's `synchronous=FULL` is `NORMAL` plus one sync of the log after each commit (SQLite's
documentation of PRAGMA synchronous), done while the commit still holds the database's single write lock, so
every other process's writer waits for that fsync too. `WalSync` does the same sync right after the commit,
once the lock is free: the caller answers only after `sync()` returns, so what it answers is as durable as
with FULL, while the next writer (another worker process) already commits, and the syncs overlap.

The log file is opened read-only next to the real database file (SQLite resolves symbolic links); SQLite
deletes it only when the last connection to the database closes, and the connection this belongs to stays
open as long as it does. Opening it also syncs its directory once, as SQLite does for a log it creates with
FULL, so that the log's name survives a power loss as well as its content.
"""

from __future__ import annotations

import os
from pathlib import Path


class WalSync:
    """The log of the database at `database`, synced on demand; one per SQLite connection."""

    def __init__(self, database: Path) -> None:
        self._log = Path(os.path.realpath(database) + "-wal")
        self._fd: int | None = None

    def sync(self) -> None:
        """Flushes everything written to the log so far to disk; OSError when the disk cannot."""
        if self._fd is None:
            self._fd = os.open(self._log, os.O_RDONLY | os.O_CLOEXEC)
            _sync_directory(self._log.parent)
        os.fdatasync(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
