"""Exactness and durability under real load: real servers, real processes, one SQLite file (or, with
MONGODB_URI set, as on CircleCI, one real MongoDB)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pymongo
import pytest
from webapp_process import Response, WebappProcess, start_webapp, wait_for_health

from tests.prerequisites import unavailable
from webapp.store.sqlite import SqliteStore

HAMMER = Path(__file__).with_name("hammer.py")

pytestmark = pytest.mark.slow


def start_hammers(
    ports: list[int], processes: int, threads: int, requests: int
) -> list[subprocess.Popen[str]]:
    return [
        subprocess.Popen(
            [sys.executable, str(HAMMER), str(ports[i % len(ports)]), str(threads), str(requests)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(processes)
    ]


def results(hammers: list[subprocess.Popen[str]]) -> list[dict]:
    out = []
    for hammer in hammers:
        stdout, _ = hammer.communicate(timeout=120)
        assert hammer.returncode == 0
        out.append(json.loads(stdout))
    return out


def stored(db: Path) -> tuple[int, dict[str, int]]:
    store = SqliteStore.open(db, timeout_s=5)
    try:
        state = store.read_state()
        return state.calls, dict(state.calls_by_version)
    finally:
        store.close()


def oks(done: list[dict]) -> int:
    return sum(result["statuses"].get("200", 0) for result in done)


def seen(done: list[dict]) -> list[int]:
    return sorted(calls for result in done for calls in result["seen"])


def two_workers(tmp_path: Path, servers: list, **settings: str | float) -> tuple[WebappProcess, Path]:
    """A server of version 1.0.0 with WEB_PROCESSES=2 on a fresh SQLite file."""
    db = tmp_path / "webapp.sqlite3"
    server = start_webapp(tmp_path, version="1.0.0", sqlite_path=db, processes=2, **settings)
    servers.append(server)
    return server, db


@pytest.fixture
def servers() -> list[WebappProcess]:
    started: list[WebappProcess] = []
    yield started
    for server in started:
        server.kill()


def test_blue_and_green_on_one_file_never_lose_or_double_a_count(tmp_path: Path, servers: list) -> None:
    db = tmp_path / "webapp.sqlite3"
    blue = start_webapp(tmp_path, version="1.0.41-blue", sqlite_path=db)
    green = start_webapp(tmp_path, version="1.0.42-green", sqlite_path=db)
    servers += [blue, green]

    # 4 processes x 8 threads, half on each server.
    done = results(start_hammers([blue.port, green.port], processes=4, threads=8, requests=100))

    oks = {port: 0 for port in (blue.port, green.port)}
    for index, result in enumerate(done):
        assert result["unanswered"] == 0
        assert set(result["statuses"]) <= {"200", "503"}  # 503 only if the write lock wait timed out
        oks[(blue.port, green.port)[index % 2]] += result["statuses"].get("200", 0)
    assert sum(oks.values()) > 0
    calls, by_version = stored(db)
    assert calls == sum(oks.values())
    assert by_version == {"1.0.41-blue": oks[blue.port], "1.0.42-green": oks[green.port]}
    assert sum(by_version.values()) == calls
    assert blue.stop() == 0 and green.stop() == 0


def test_every_200_survives_kill_9_under_load(tmp_path: Path, servers: list) -> None:
    db = tmp_path / "webapp.sqlite3"
    server = start_webapp(tmp_path, version="1.0.0", sqlite_path=db)
    servers.append(server)
    hammers = start_hammers([server.port], processes=4, threads=8, requests=100_000)
    deadline = time.monotonic() + 30
    while server.get("/health").status == 200 and time.monotonic() < deadline:
        if stored(db)[0] >= 1000:
            break
        time.sleep(0.1)
    server.kill()  # SIGKILL mid-load: no shutdown code runs
    done = results(hammers)

    oks = sum(r["statuses"].get("200", 0) for r in done)
    in_flight = sum(r["unanswered"] for r in done)
    assert oks >= 1000
    restarted = start_webapp(tmp_path, version="1.0.0", sqlite_path=db)
    servers.append(restarted)
    assert restarted.get("/health").status == 200
    calls = stored(db)[0]
    # Every answered call is stored; at most the requests cut off by the kill were stored without an answer.
    assert oks <= calls <= oks + in_flight
    assert calls >= max(r["max_calls"] for r in done)
    assert restarted.get("/").json()["calls"] == calls + 1


def test_worker_processes_counting_one_version_never_lose_or_double_a_count(
    tmp_path: Path, servers: list
) -> None:
    server, db = two_workers(tmp_path, servers)

    done = results(start_hammers([server.port], processes=4, threads=8, requests=100))

    assert all(r["unanswered"] == 0 and set(r["statuses"]) <= {"200", "503"} for r in done)
    calls, by_version = stored(db)
    assert calls == oks(done) > 0
    assert by_version == {"1.0.0": calls}
    # Every 200 carried a distinct total, 1..n: no increment was lost, doubled or answered stale.
    assert seen(done) == list(range(1, calls + 1))
    assert server.stop() == 0


@pytest.fixture
def mongodb_uri() -> Iterator[str]:
    """A fresh database on the real MongoDB at MONGODB_URI (CircleCI's mongo:7 service)."""
    base = os.environ.get("MONGODB_URI")
    if not base:
        pytest.skip("needs a real MongoDB (MONGODB_URI, as on CircleCI): mongomock lives inside one process")
    parts = urlsplit(base)
    name = f"webapp_exactness_{uuid.uuid4().hex[:12]}"
    uri = urlunsplit(parts._replace(path=f"/{name}"))
    yield uri
    client: pymongo.MongoClient = pymongo.MongoClient(base, serverSelectionTimeoutMS=5000)
    client.drop_database(name)
    client.close()


def test_worker_processes_on_mongodb_never_lose_or_double_a_count(
    tmp_path: Path, servers: list, mongodb_uri: str
) -> None:
    server = start_webapp(tmp_path, version="1.0.0", mongodb_uri=mongodb_uri, processes=2)
    servers.append(server)

    done = results(start_hammers([server.port], processes=4, threads=8, requests=50))

    assert all(r["unanswered"] == 0 and set(r["statuses"]) <= {"200", "503"} for r in done)
    assert oks(done) > 0
    assert seen(done) == list(range(1, oks(done) + 1))
    after = server.get("/").json()
    assert after["calls"] == after["calls_by_version"]["1.0.0"] == oks(done) + 1
    assert server.stop() == 0


def test_sigterm_under_load_answers_or_refuses_each_call_and_logs_no_traceback(
    tmp_path: Path, servers: list
) -> None:
    server, db = two_workers(tmp_path, servers)
    hammers = start_hammers([server.port], processes=4, threads=8, requests=100_000)
    deadline = time.monotonic() + 30
    while stored(db)[0] < 500 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(30) == 0
    done = results(hammers)

    log = server.log()
    assert "Traceback" not in log and "Bad file descriptor" not in log, log[-3000:]
    # Drained, not cut off: every call received was answered, so the store holds exactly the 200s.
    assert stored(db)[0] == oks(done) >= 500


def get_through_restarts(server: WebappProcess, path: str) -> Response:
    """`path` answered, retried while a worker killed mid-request is being replaced."""
    for _ in range(50):
        try:
            return server.get(path)
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{path} never answered:\n{server.log()[-3000:]}")


def test_store_files_made_unwritable_under_load_answer_503_and_lose_no_answered_call(
    tmp_path: Path, servers: list
) -> None:
    """The database, its -wal and -shm made immutable (chattr +i) under load. SQLite maps -shm into memory, so
    a worker writing to it may be killed by SIGBUS; the supervisor starts another. Either way the instance
    answers 503 while the files stay unwritable, loses no answered call, and counts again afterwards."""
    if os.geteuid() != 0:
        pytest.skip("making files unwritable to their owner needs root (chattr +i)")
    server, db = two_workers(tmp_path, servers, store_timeout_s=1)
    hammers = start_hammers([server.port], processes=2, threads=8, requests=400)
    deadline = time.monotonic() + 30
    while stored(db)[0] < 300 and time.monotonic() < deadline:
        time.sleep(0.05)
    files = [str(db), f"{db}-wal", f"{db}-shm"]
    made = subprocess.run(["chattr", "+i", *files], capture_output=True, text=True)
    if made.returncode != 0:
        unavailable(f"chattr +i does not work here: {made.stderr.strip()}")
    try:
        done = results(hammers)
        assert get_through_restarts(server, "/").status == 503
        assert get_through_restarts(server, "/health").status == 503
    finally:
        subprocess.run(["chattr", "-i", *files], check=True)

    calls = stored(db)[0]
    totals = seen(done)
    cut_off = sum(result["unanswered"] for result in done)
    assert oks(done) <= calls <= oks(done) + cut_off, "an answered call was lost, or more were stored"
    assert len(set(totals)) == len(totals) and max(totals) <= calls
    assert get_through_restarts(server, "/").json()["calls"] == calls + 1, "counting resumed by itself"
    wait_for_health(server, 200)  # a worker whose last count failed probes again within a second
    log = server.log()
    assert "store unavailable" in log
    assert server.stop() == 0
