"""`python -m webapp` as a real process: serving, access log, redeploys, outages, graceful stop."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from webapp_process import (
    BROWSER_ACCEPT,
    REPO,
    WebappProcess,
    free_port,
    start_webapp,
    wait_for_health,
    wait_until_answering,
    webapp_env,
)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "webapp.sqlite3"


@pytest.fixture
def servers() -> list[WebappProcess]:
    started: list[WebappProcess] = []
    yield started
    for server in started:
        server.kill()


def test_serves_json_html_and_health_and_logs_each_request(tmp_path: Path, db: Path, servers: list) -> None:
    server = start_webapp(tmp_path, version="1.0.0", sqlite_path=db)
    servers.append(server)
    first = server.get("/", accept="application/json")
    assert first.status == 200 and first.json()["calls"] == 1
    assert first.json()["version"] == "1.0.0" and first.json()["hostname"] == socket.gethostname()
    page = server.get("/", accept=BROWSER_ACCEPT)
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert b'id="calls">2<' in page.body
    assert server.get("/health").json() == {"status": "ok", "version": "1.0.0"}
    missing = server.get("/missing")
    assert (missing.status, missing.json()["status"]) == (404, 404)
    assert server.stop() == 0
    log = server.log()
    assert log.count('"GET / HTTP/1.1" 200 ') == 2
    assert '"GET /health HTTP/1.1" 200 ' in log and '"GET /missing HTTP/1.1" 404 ' in log


def test_redeploy_continues_the_count_and_lists_the_new_version_first(
    tmp_path: Path, db: Path, servers: list
) -> None:
    a = start_webapp(tmp_path, version="1.0.41-9be07d2", sqlite_path=db)
    servers.append(a)
    for _ in range(3):
        assert a.get("/").status == 200
    assert a.stop() == 0
    time.sleep(1.1)  # deploy stamps have whole-second display; keep A and B apart
    b = start_webapp(tmp_path, version="1.0.42-3f2a1bc", sqlite_path=db)
    servers.append(b)
    document = b.get("/").json()
    assert document["calls"] == 4
    assert document["calls_by_version"] == {"1.0.41-9be07d2": 3, "1.0.42-3f2a1bc": 1}
    assert [d["version"] for d in document["deploys"]] == ["1.0.42-3f2a1bc", "1.0.41-9be07d2"]


def test_a_restart_of_the_same_version_keeps_its_first_deploy_stamp(
    tmp_path: Path, db: Path, servers: list
) -> None:
    first = start_webapp(tmp_path, version="1.0.0", sqlite_path=db)
    servers.append(first)
    stamp = first.get("/").json()["deploys"]
    first.stop()
    again = start_webapp(tmp_path, version="1.0.0", sqlite_path=db)
    servers.append(again)
    assert again.get("/").json()["deploys"] == stamp


def test_instances_of_one_version_starting_together_record_one_deploy(
    tmp_path: Path, db: Path, servers: list
) -> None:
    started = [start_webapp(tmp_path, version="2.0.0", sqlite_path=db, wait=False) for _ in range(3)]
    servers.extend(started)
    for server in started:
        wait_until_answering(server)
    document = started[0].get("/").json()
    assert [d["version"] for d in document["deploys"]] == ["2.0.0"]


def test_sqlite_outage_gives_503_and_recovers_without_restart(
    tmp_path: Path, db: Path, servers: list
) -> None:
    server = start_webapp(tmp_path, version="1.0.0", sqlite_path=db, store_timeout_s=0.5)
    servers.append(server)
    assert server.get("/").json()["calls"] == 1
    db.parent.rename(tmp_path / "unmounted")  # the volume goes away (root ignores chmod, so we move it)

    down = server.get("/")
    assert down.status == 503
    assert down.json()["status"] == 503 and "store unavailable" in down.json()["error"]
    assert "webapp.sqlite3" in down.json()["error"]
    # The other worker's last count may have succeeded within the second: it probes once that is older.
    health = wait_for_health(server, 503)
    assert health.json()["status"] == "unavailable"
    assert server.proc.poll() is None
    assert not db.exists(), "the app must not create an empty database in the outage"

    (tmp_path / "unmounted").rename(db.parent)
    wait_for_health(server, 200)
    assert server.get("/").json()["calls"] == 2
    assert "store unavailable" in server.log()


def test_mongodb_unreachable_gives_503_fast_and_keeps_serving(tmp_path: Path, servers: list) -> None:
    closed = free_port()
    server = start_webapp(
        tmp_path, version="1.0.0", mongodb_uri=f"mongodb://127.0.0.1:{closed}/webapp", store_timeout_s=0.3
    )
    servers.append(server)
    for path in ("/", "/health", "/"):
        answer = server.get(path)
        assert answer.status == 503
        assert "MongoDB" in answer.json()["error"]
    assert server.proc.poll() is None
    assert "store unavailable at start" in server.log()


def test_sigterm_lets_the_in_flight_request_finish_then_exits_0(
    tmp_path: Path, db: Path, servers: list
) -> None:
    server = start_webapp(tmp_path, version="1.0.0", sqlite_path=db)
    servers.append(server)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        # A request half received when the signal arrives...
        sock.sendall(b"GET / HTTP/1.1\r\nHost: test\r\nAccept: application/json\r\n")
        time.sleep(0.3)
        server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        assert server.proc.poll() is None, "the server left before the in-flight request finished"
        # ...is completed by the client afterwards and still answered in full.
        sock.sendall(b"\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b'"calls": 1' in body
    assert server.proc.wait(10) == 0
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=2).close()


def test_sigterm_when_idle_exits_0_promptly(tmp_path: Path, db: Path, servers: list) -> None:
    server = start_webapp(tmp_path, version="1.0.0", sqlite_path=db)
    servers.append(server)
    assert server.stop(timeout=10) == 0
    assert "stopped" in server.log()


def test_runs_with_the_default_sqlite_path_relative_to_the_working_directory(tmp_path: Path) -> None:
    port = free_port()
    env = webapp_env(PORT=port, PYTHONPATH=REPO)
    log_path = tmp_path / "default.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "webapp"], cwd=tmp_path, env=env, stdout=log, stderr=log
        )
    server = WebappProcess(proc, port, log_path)
    try:
        wait_until_answering(server)
        assert server.get("/").json()["version"] == "dev"
        assert (tmp_path / "data" / "webapp.sqlite3").is_file()
    finally:
        assert server.stop() == 0


def test_a_request_cannot_forge_an_access_log_line(tmp_path: Path, db: Path, servers: list) -> None:
    server = start_webapp(tmp_path, version="1.0.0", sqlite_path=db)
    servers.append(server)
    forged = '1999-01-01 00:00:00,000 INFO webapp.access 10.0.0.9 "GET /admin HTTP/1.1" 200 2 0.1ms'
    target = "/x%0a" + forged.replace(" ", "%20")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
        assert sock.recv(65536).startswith(b"HTTP/1.1 404 ")
    assert server.stop() == 0
    lines = server.log().splitlines()
    assert not [line for line in lines if line.startswith(forged[:30])], "a forged line reached the log"
    (logged,) = [line for line in lines if "/x%0a" in line]
    assert '"GET ' + target.replace('"', '\\"') + ' HTTP/1.1" 404 ' in logged


def listening_addresses(port: int) -> set[str]:
    """The local addresses with a socket listening on `port` (Linux /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.rsplit(":", 1)
            if state == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


@pytest.mark.parametrize(
    ("host", "listening", "url_host"),
    [("127.0.0.1", "0100007F", "127.0.0.1"), (None, "00000000", "0.0.0.0")],
)
def test_host_chooses_the_listen_address(
    tmp_path: Path, db: Path, servers: list, host: str | None, listening: str, url_host: str
) -> None:
    """The sandbox binds its environments to loopback; the container listens on every interface."""
    settings = {"HOST": host} if host else {}
    server = start_webapp(tmp_path, sqlite_path=db, **settings)
    servers.append(server)
    assert server.get("/health").status == 200
    assert listening_addresses(server.port) == {listening}
    assert f"serves http://{url_host}:{server.port} " in server.log()


def test_host_on_ipv6_loopback(tmp_path: Path, db: Path, servers: list) -> None:
    if not Path("/proc/net/tcp6").exists():
        pytest.skip("no IPv6 here")
    server = start_webapp(tmp_path, sqlite_path=db, HOST="::1", wait=False)
    servers.append(server)
    deadline = time.monotonic() + 20
    while "serves http://[::1]:" not in server.log():
        assert server.proc.poll() is None and time.monotonic() < deadline, server.log()
        time.sleep(0.05)
    assert listening_addresses(server.port) == {"00000000000000000000000001000000"}
