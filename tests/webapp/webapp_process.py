"""Runs `python -m webapp` as a real subprocess on a free port, the way a container or the sandbox does."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    port: int, path: str = "/", method: str = "GET", accept: str | None = None, timeout: float = 10
) -> Response:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Accept": accept} if accept else {}
        conn.request(method, path, headers=headers)
        answer = conn.getresponse()
        return Response(answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read())
    finally:
        conn.close()


@dataclass
class WebappProcess:
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str = "/", accept: str | None = None, method: str = "GET") -> Response:
        return request(self.port, path, method=method, accept=accept)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, then the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        """SIGKILL the supervisor; its workers get SIGTERM from the kernel and are waited for."""
        workers = self.workers()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        wait_gone(workers)

    def workers(self) -> list[int]:
        """The pids of the supervisor's worker processes now."""
        return children(self.proc.pid)


def children(pid: int) -> list[int]:
    """The live child processes of `pid` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[1] == str(pid) and stat[0] != "Z":
                found.append(int(entry.name))
    return sorted(found)


def alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name: state, ppid, ..."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def wait_gone(pids: list[int], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while any(alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            raise AssertionError(f"processes {[p for p in pids if alive(p)]} still running after {timeout}s")
        time.sleep(0.05)


def webapp_env(**settings: str | int | float | Path | None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MONGODB_URI", "SQLITE_PATH", "APP_VERSION", "PORT", "HOST") and not k.startswith("WEB_")
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update({k: str(v) for k, v in settings.items() if v is not None})
    return env


def start_webapp(
    log_dir: Path,
    *,
    version: str = "1.0.0",
    sqlite_path: Path | None = None,
    mongodb_uri: str | None = None,
    threads: int = 8,
    processes: int | None = None,
    store_timeout_s: float | None = None,
    wait: bool = True,
    command: tuple[str, ...] = (),
    program: tuple[str, ...] = ("-m", "webapp"),
    **settings: str | int | float | Path,
) -> WebappProcess:
    """`python -m webapp` (after `command`, e.g. a privilege wrapper; `program` replaces `-m webapp`, e.g. a
    script running it with a fault) with these settings; `settings` are more environment variables
    (WEB_READ_TIMEOUT_S=1, ...)."""
    port = free_port()
    env = webapp_env(
        PORT=port,
        APP_VERSION=version,
        WEB_THREADS=threads,
        WEB_PROCESSES=processes,
        SQLITE_PATH=sqlite_path,
        MONGODB_URI=mongodb_uri,
        STORE_TIMEOUT_S=store_timeout_s,
        **settings,
    )
    log_path = log_dir / f"webapp-{port}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*command, sys.executable, *program],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = WebappProcess(proc, port, log_path)
    if wait:
        wait_until_answering(server)
    return server


def wait_until_answering(server: WebappProcess, timeout: float = 20) -> None:
    """Until /health answers at all (200, or 503 when the store is down)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"webapp exited with {server.proc.returncode}:\n{server.log()}")
        try:
            server.get("/health")
            return
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise RuntimeError(f"webapp did not answer within {timeout}s:\n{server.log()}")


def wait_for_health(server: WebappProcess, status: int, timeout: float = 10) -> Response:
    """`/health` until it answers `status`: a worker answers from its last write for up to a second, then
    probes (webapp/health.py)."""
    deadline = time.monotonic() + timeout
    while (answer := server.get("/health")).status != status:
        if time.monotonic() > deadline:
            raise AssertionError(f"/health still answers {answer.status} after {timeout}s: {answer.body!r}")
        time.sleep(0.1)
    return answer
