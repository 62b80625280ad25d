"""A store that reads but cannot write, as a real `python -m webapp` meets it: a full disk, the file-size
limit, a log sync that fails, the log's index turned immutable. `/health` must say so (Beanstalk and the
smoke test trust it), no call answered 503 may be counted, and the instance recovers by itself."""

from __future__ import annotations

import errno
import http.client
import os
import re
import resource
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from webapp_process import REPO, Response, WebappProcess, start_webapp, wait_for_health, wait_gone

from tests.prerequisites import unavailable
from webapp.health import FRESH_S
from webapp.store.sqlite import SqliteStore

FAILING_SYNC = Path(__file__).with_name("failing_sync.py")

pytestmark = pytest.mark.slow


@pytest.fixture
def servers() -> Iterator[list[WebappProcess]]:
    started: list[WebappProcess] = []
    yield started
    for server in started:
        server.kill()


def stored_calls(db: Path) -> int:
    store = SqliteStore.open(db, timeout_s=5)
    try:
        return store.read_state().calls
    finally:
        store.close()


def count_until_refused(server: WebappProcess, attempts: int = 200) -> tuple[int, Response]:
    """GET / until the first answer that is not 200: (how many 200s came first, that answer)."""
    for oks in range(attempts):
        answer = server.get("/")
        if answer.status != 200:
            return oks, answer
    raise AssertionError(f"{attempts} calls were all counted: the write never failed")


def assert_refuses_while_broken_and_recovers(
    server: WebappProcess, db: Path, counted: int, repair: object
) -> None:
    """While writes fail: GET / and /health answer 503, also once /health has to probe (no call for a
    second). After `repair()`: /health recovers by itself and only the 200s were counted."""
    assert server.get("/").status == 503
    health = server.get("/health")
    assert health.status == 503 and health.json()["status"] == "unavailable", health.body
    time.sleep(FRESH_S * 1.2)  # no call for a while: /health writes its probe, which fails too
    assert server.get("/health").status == 503
    assert server.get("/", accept="application/json").status == 503
    assert callable(repair)
    repair()
    wait_for_health(server, 200)
    after = server.get("/")
    assert after.status == 200
    assert after.json()["calls"] == counted + 1, "a call answered 503 was counted"
    assert stored_calls(db) == counted + 1


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs, mounted for the test (root only)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; the file-size limit test covers the same path")
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mountpoint)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        unavailable(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def fill(directory: Path) -> Path:
    """A file taking every free byte of `directory`'s file system."""
    filler = directory / f"filler-{len(list(directory.glob('filler*')))}"
    with filler.open("wb", buffering=0) as out:
        chunk = b"\0" * 65536
        try:
            while True:
                out.write(chunk)
        except OSError as error:
            assert error.errno == errno.ENOSPC, error
        try:
            while True:
                out.write(b"\0")
        except OSError as error:
            assert error.errno == errno.ENOSPC, error
    return filler


def test_a_full_disk_answers_503_on_get_and_health_and_recovers(
    tmp_path: Path, small_disk: Path, servers: list
) -> None:
    db = small_disk / "webapp.sqlite3"
    server = start_webapp(tmp_path, sqlite_path=db, processes=1, store_timeout_s=1)
    servers.append(server)
    assert server.get("/").status == 200
    fill(small_disk)
    oks, refused = count_until_refused(server)
    assert refused.status == 503 and "full" in refused.json()["error"], refused.body
    # The store dropped its connection, and SQLite checkpointed and removed the log as it closed: the
    # space that freed is taken too, so the disk stays full.
    fill(small_disk)

    def free_space() -> None:
        for file in small_disk.glob("filler*"):
            file.unlink()

    assert_refuses_while_broken_and_recovers(server, db, 1 + oks, free_space)
    assert server.proc.poll() is None and "Traceback" not in server.log()


def test_the_file_size_limit_answers_503_on_get_and_health_and_recovers(
    tmp_path: Path, servers: list
) -> None:
    """RLIMIT_FSIZE on the worker (writes past it fail with EFBIG): the log cannot grow any more."""
    db = tmp_path / "webapp.sqlite3"
    server = start_webapp(tmp_path, sqlite_path=db, processes=1, store_timeout_s=1)
    servers.append(server)
    assert server.get("/").status == 200
    (worker,) = server.workers()
    # One page: no write past it, in the log (which already holds a frame beyond) or in the database file
    # (so the checkpoint as a failed connection closes cannot free the log either). The worker's own log
    # lines are lost meanwhile: its stdout is a file past that size.
    _, hard = resource.prlimit(worker, resource.RLIMIT_FSIZE)
    resource.prlimit(worker, resource.RLIMIT_FSIZE, (4096, hard))
    oks, refused = count_until_refused(server)
    assert (oks, refused.status) == (0, 503), refused.body

    def lift() -> None:
        resource.prlimit(worker, resource.RLIMIT_FSIZE, (hard, hard))

    assert_refuses_while_broken_and_recovers(server, db, 1 + oks, lift)
    assert server.workers() == [worker], "the worker kept running"


def test_a_failed_log_sync_ends_the_worker_without_answering_and_the_supervisor_restarts_it(
    tmp_path: Path, servers: list
) -> None:
    """The batch whose sync failed is committed but may not be on disk: its calls get no answer at all
    (never a 503 that counts, never a 200 that may be lost), the worker ends (exit 3), and the one the
    supervisor starts in its place reads the file afresh."""
    db = tmp_path / "webapp.sqlite3"
    flag = tmp_path / "fail-syncs"
    server = start_webapp(
        tmp_path, sqlite_path=db, processes=1, program=(str(FAILING_SYNC), str(flag)), PYTHONPATH=REPO
    )
    servers.append(server)
    assert server.get("/").json()["calls"] == 1
    (worker,) = server.workers()
    flag.touch()
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
        server.get("/")
    wait_gone([worker])
    flag.unlink()
    deadline = time.monotonic() + 20
    while not (workers := server.workers()) or workers == [worker]:
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.05)
    answer = wait_for_health(server, 200)
    assert answer.json()["status"] == "ok"
    assert server.get("/").json()["calls"] == 3, "the unanswered call was committed before its sync failed"
    log = server.log()
    assert "the log's sync failed after a commit: Input/output error" in log
    assert re.search(rf"worker 0 \(pid {worker}\) exited with code 3 .*starting another", log), log
    assert '"GET / HTTP/1.1" 503' not in log


def test_the_logs_index_turned_immutable_answers_503_instead_of_a_crash(
    tmp_path: Path, servers: list
) -> None:
    """SQLite writes -shm through a memory map: a write to it once immutable kills the worker with SIGBUS
    (its in-flight requests unanswered). The store checks it before each use and answers 503 instead."""
    if os.geteuid() != 0:
        pytest.skip("making a file immutable needs root (chattr +i)")
    db = tmp_path / "webapp.sqlite3"
    server = start_webapp(tmp_path, sqlite_path=db, processes=1, store_timeout_s=1)
    servers.append(server)
    assert server.get("/").status == 200
    (worker,) = server.workers()
    shm = Path(f"{db}-shm")
    fd = os.open(shm, os.O_RDONLY)
    os.fsync(fd)  # its pages written back: the worker's next write to the map faults, and would SIGBUS
    os.close(fd)
    made = subprocess.run(["chattr", "+i", str(shm)], capture_output=True, text=True)
    if made.returncode != 0:
        unavailable(f"chattr +i does not work here: {made.stderr.strip()}")
    try:
        down = server.get("/")
        assert down.status == 503 and "webapp.sqlite3-shm is not writable" in down.json()["error"]
        assert server.get("/health").status == 503
        assert server.get("/", method="HEAD").status == 503
    finally:
        subprocess.run(["chattr", "-i", str(shm)], check=True)
    wait_for_health(server, 200)
    assert server.get("/").json()["calls"] == 2
    assert server.workers() == [worker], "the worker was not killed"


def test_a_worker_killed_by_sigbus_is_replaced_and_counting_goes_on(tmp_path: Path, servers: list) -> None:
    """The one case left to a crash: -shm turning immutable in the microseconds between the store's check
    and SQLite's write. The supervisor replaces the worker; no answered call is lost."""
    db = tmp_path / "webapp.sqlite3"
    server = start_webapp(tmp_path, sqlite_path=db, processes=2)
    servers.append(server)
    for expected in (1, 2):
        assert server.get("/").json()["calls"] == expected
    first, second = server.workers()
    os.kill(first, signal.SIGBUS)
    wait_gone([first])
    deadline = time.monotonic() + 20
    while len(workers := server.workers()) != 2 or first in workers:
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.05)
    assert second in workers
    assert re.search(rf"worker \d \(pid {first}\) was killed by SIGBUS .*starting another", server.log())
    for expected in (3, 4, 5):
        assert server.get("/").json()["calls"] == expected
    assert server.stop() == 0


def test_calls_that_waited_past_the_store_timeout_are_answered_503_and_never_counted(
    tmp_path: Path, servers: list
) -> None:
    """Another writer (green's, a backup) holds the database's write lock past STORE_TIMEOUT_S: every call
    meanwhile answers 503 - the one leading a commit gives up, those queued behind it are withdrawn - and
    none of them is counted once the lock is free."""
    import sqlite3
    from concurrent.futures import ThreadPoolExecutor

    db = tmp_path / "webapp.sqlite3"
    server = start_webapp(tmp_path, sqlite_path=db, processes=1, threads=8, store_timeout_s=0.3)
    servers.append(server)
    assert server.get("/").json()["calls"] == 1
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with ThreadPoolExecutor(6) as pool:
            statuses = list(pool.map(lambda _: server.get("/").status, range(12)))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert statuses == [503] * 12
    time.sleep(0.5)  # anything left in a queue would be committed by now
    assert stored_calls(db) == 1
    assert server.get("/").json()["calls"] == 2
