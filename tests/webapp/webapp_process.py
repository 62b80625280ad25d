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
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


def webapp_env(**settings: str | int | Path | None) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("MONGODB_URI", "SQLITE_PATH", "APP_VERSION", "PORT")
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
    store_timeout_s: float | None = None,
    wait: bool = True,
) -> WebappProcess:
    port = free_port()
    env = webapp_env(
        PORT=port,
        APP_VERSION=version,
        WEB_THREADS=threads,
        SQLITE_PATH=sqlite_path,
        MONGODB_URI=mongodb_uri,
        STORE_TIMEOUT_S=store_timeout_s,
    )
    log_path = log_dir / f"webapp-{port}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "webapp"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
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
