"""WEB_PROCESSES: workers sharing one listening socket under a supervisor that replaces a dead worker, drains
every worker on SIGTERM and exits 0, and takes its workers with it when it dies."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from webapp_process import WebappProcess, alive, start_webapp, wait_gone


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "webapp.sqlite3"


@pytest.fixture
def servers() -> Iterator[list[WebappProcess]]:
    started: list[WebappProcess] = []
    yield started
    for server in started:
        server.kill()


def wait_for_workers(server: WebappProcess, count: int, timeout: float = 20) -> list[int]:
    deadline = time.monotonic() + timeout
    while len(workers := server.workers()) != count or server.log().count("serving on") < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(workers)} workers, not {count}:\n{server.log()}")
        time.sleep(0.05)
    return workers


def served_by(server: WebappProcess) -> list[int]:
    return [int(pid) for pid in re.findall(r"webapp\.access\[(\d+)\]", server.log())]


def test_every_worker_serves_the_one_port(tmp_path: Path, db: Path, servers: list) -> None:
    server = start_webapp(tmp_path, sqlite_path=db, processes=3)
    servers.append(server)
    workers = wait_for_workers(server, 3)
    assert server.proc.pid not in workers
    for serving in workers:
        # Freeze the others: only `serving` can accept the connection, so it listens on the shared socket.
        frozen = [pid for pid in workers if pid != serving]
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        try:
            answer = server.get("/")
        finally:
            for pid in frozen:
                os.kill(pid, signal.SIGCONT)
        assert answer.status == 200
        assert served_by(server)[-1] == serving
    assert server.get("/").json()["calls"] == 4, "one count over all the workers"


def test_a_dead_worker_is_replaced_and_the_count_carries_on(tmp_path: Path, db: Path, servers: list) -> None:
    server = start_webapp(tmp_path, sqlite_path=db, processes=2)
    servers.append(server)
    first, second = wait_for_workers(server, 2)
    assert server.get("/").json()["calls"] == 1
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while first in (workers := server.workers()) or len(workers) != 2:
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.05)
    assert second in workers
    assert re.search(rf"worker \d \(pid {first}\) was killed by SIGKILL .*starting another", server.log())
    wait_for_workers(server, 2)
    assert server.get("/").json()["calls"] == 2
    assert server.stop() == 0


def test_sigterm_drains_every_worker_and_exits_0(tmp_path: Path, db: Path, servers: list) -> None:
    server = start_webapp(tmp_path, sqlite_path=db, processes=2)
    servers.append(server)
    workers = wait_for_workers(server, 2)
    assert server.get("/").status == 200
    assert server.stop(timeout=20) == 0
    wait_gone(workers, timeout=5)
    log = server.log()
    assert log.count("webapp.server[") and all(f"webapp.server[{pid}] stopped" in log for pid in workers)
    assert "all workers stopped" in log
    assert "Traceback" not in log


def test_workers_stop_when_the_supervisor_is_killed(tmp_path: Path, db: Path, servers: list) -> None:
    server = start_webapp(tmp_path, sqlite_path=db, processes=2)
    servers.append(server)
    workers = wait_for_workers(server, 2)
    server.proc.kill()
    server.proc.wait(10)
    wait_gone(workers, timeout=20)
    assert not any(alive(pid) for pid in workers)
    with pytest.raises(OSError):
        server.get("/health")


def test_start_up_logs_one_line_per_process_saying_what_it_serves(
    tmp_path: Path, db: Path, servers: list
) -> None:
    server = start_webapp(tmp_path, sqlite_path=db, processes=2, threads=8)
    servers.append(server)
    workers = wait_for_workers(server, 2)
    for _ in range(20):  # requests reach several threads of both workers
        assert server.get("/").status == 200
    assert server.stop() == 0
    log = server.log()
    started = [line for line in log.splitlines() if "webapp.access[" not in line and "SIGTERM" not in line]
    started = [line for line in started if "stopped" not in line and "exited with code 0" not in line]
    (supervisor_line,) = [line for line in started if f"[{server.proc.pid}]" in line]
    assert f"serves http://0.0.0.0:{server.port} from 2 process(es) x 8 threads" in supervisor_line
    assert f"SQLite {db} (FULL)" in supervisor_line
    for pid in workers:
        (worker_line,) = [line for line in started if f"[{pid}]" in line]
        assert "serving on" in worker_line
    assert len(started) == 3, "\n".join(started)
