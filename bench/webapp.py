"""`python -m bench.webapp`: what the durable SQLite store costs the web app, and what start-up costs.

1. Throughput: counted `GET /` (JSON) against the real server (`python -m webapp`) on SQLite, and against the
   same server with the store replaced by an in-process counter (the ceiling of the web stack): same
   WEB_THREADS, same load generator (wrk), one after the other in one run. Prints req/s, the ratio, p50/p99.
2. Start-up: time from process start to the first `200` on `/health` and on `GET /`, with 10^6 calls already
   stored vs. an empty store (the count is seeded directly in the database, not by 10^6 requests).

Options: --duration S (default 10), --connections N (default 32), --threads N (WEB_THREADS, default 8),
--starts N (start-up samples per case, default 5).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WRK = shutil.which("wrk")
SEEDED_CALLS = 1_000_000


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.webapp", description=__doc__.splitlines()[0])
    parser.add_argument("mode", nargs="?", default="bench", choices=["bench", "serve-memory"])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--starts", type=int, default=5)
    args = parser.parse_args()
    if args.mode == "serve-memory":
        return serve_memory()
    if WRK is None:
        print("error: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-webapp-") as scratch:
        throughput(Path(scratch), args.duration, args.connections, args.threads)
        startup(Path(scratch), args.starts)
    return 0


# -- 1. throughput ----------------------------------------------------------------------------------------


@dataclass
class WrkResult:
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    bad: int


MEMORY = "in-process counter"
FULL = "SQLite, synchronous=FULL"
NORMAL = "SQLite, synchronous=NORMAL"


def throughput(scratch: Path, duration: int, connections: int, threads: int) -> None:
    print(
        f"== throughput: wrk -t2 -c{connections} -d{duration}s --latency, GET / (JSON), WEB_THREADS={threads}"
    )
    print(f"   host: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, wrk on the same host")
    cases = (
        (MEMORY, [sys.executable, "-m", "bench.webapp", "serve-memory"], {}),
        (FULL, [sys.executable, "-m", "webapp"], {"SQLITE_PATH": str(scratch / "full.sqlite3")}),
        (
            NORMAL,
            [sys.executable, "-m", "webapp"],
            {"SQLITE_PATH": str(scratch / "normal.sqlite3"), "SQLITE_SYNCHRONOUS": "NORMAL"},
        ),
    )
    results: dict[str, WrkResult] = {}
    stored: dict[str, int] = {}
    for name, command, env in cases:
        with Server(command, threads=threads, env=env) as server:
            warm_up = run_wrk(server.port, connections, 2)
            results[name] = run_wrk(server.port, connections, duration)
        if "SQLITE_PATH" in env:
            stored[name] = stored_calls(Path(env["SQLITE_PATH"])) - warm_up.requests
    ceiling = results[MEMORY].rps
    print()
    columns = ("req/s", 9), ("ratio", 7), ("p50 ms", 9), ("p99 ms", 9), ("requests", 10), ("non-2xx", 9)
    print(f"   {'store':<28}" + "".join(f"{title:>{width}}" for title, width in columns) + f"{'stored':>9}")
    for name, r in results.items():
        print(
            f"   {name:<28}{r.rps:>9.0f}{r.rps / ceiling:>7.2f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}"
            f"{r.requests:>10}{r.bad:>9}{stored.get(name, '-'):>9}"
        )
    print("   ratio = req/s / in-process counter req/s; target for the default (FULL): >= 0.70")
    print("   stored = calls in the database after the run minus the warm-up's responses (>= requests: wrk")
    print("   does not count responses still in flight when it stops)")
    print()


def run_wrk(port: int, connections: int, duration: int) -> WrkResult:
    assert WRK is not None
    output = subprocess.run(
        [
            WRK,
            "-t2",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-H",
            "Accept: application/json",
            f"http://127.0.0.1:{port}/",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return parse_wrk(output)


def parse_wrk(output: str) -> WrkResult:
    def number(pattern: str) -> str:
        found = re.search(pattern, output, re.MULTILINE)
        if not found:
            raise ValueError(f"unexpected wrk output (no {pattern!r}):\n{output}")
        return found.group(1)

    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkResult(
        requests=int(number(r"^\s*(\d+) requests in")),
        rps=float(number(r"^Requests/sec:\s*([\d.]+)")),
        p50_ms=milliseconds(number(r"^\s*50%\s+(\S+)")),
        p99_ms=milliseconds(number(r"^\s*99%\s+(\S+)")),
        bad=int(bad.group(1)) if bad else 0,
    )


def milliseconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


# -- 2. start-up ------------------------------------------------------------------------------------------


def startup(scratch: Path, starts: int) -> None:
    from webapp.store.base import Deploy
    from webapp.store.sqlite import SqliteStore

    empty, seeded = scratch / "empty.sqlite3", scratch / "seeded.sqlite3"
    SqliteStore.open(empty, timeout_s=5).close()
    store = SqliteStore.open(seeded, timeout_s=5)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for index in range(10):
        store.record_deploy(Deploy(f"1.0.{index}", "bench", t0 + timedelta(days=index)))
    store.close()
    import sqlite3

    with sqlite3.connect(seeded) as conn:  # seeded directly: 10^6 calls over ten versions
        conn.executemany(
            "INSERT INTO calls_by_version (version, calls) VALUES (?, ?)",
            [(f"1.0.{index}", SEEDED_CALLS // 10) for index in range(10)],
        )
    print(f"== start-up: process start -> first 200, median of {starts} starts each")
    print(f"   {'store':<28}{'/health ms':>12}{'GET / ms':>10}{'calls':>10}")
    for name, db in (("empty SQLite", empty), (f"SQLite with {SEEDED_CALLS:,} calls", seeded)):
        health, first, calls = [], [], 0
        for _ in range(starts):
            started = time.perf_counter()
            with Server([sys.executable, "-m", "webapp"], threads=8, env={"SQLITE_PATH": str(db)}) as server:
                health.append((time.perf_counter() - started) * 1000)
                status, body = get(server.port, "/")
                first.append((time.perf_counter() - started) * 1000)
                calls = int(re.search(rb'"calls": (\d+)', body).group(1))  # type: ignore[union-attr]
                assert status == 200
        print(f"   {name:<28}{statistics.median(health):>12.0f}{statistics.median(first):>10.0f}{calls:>10}")
    print()


# -- the servers under test -------------------------------------------------------------------------------


class Server:
    """A web app process on a free port, output discarded (same for every store), stopped with SIGTERM."""

    def __init__(self, command: list[str], threads: int, env: dict[str, str]) -> None:
        self.port = free_port()
        full_env = {k: v for k, v in os.environ.items() if k != "MONGODB_URI"}
        full_env.update(env, PORT=str(self.port), WEB_THREADS=str(threads), APP_VERSION="bench")
        self.proc = subprocess.Popen(
            command, cwd=REPO, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def __enter__(self) -> Server:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}")
            try:
                if get(self.port, "/health")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.005)
        raise RuntimeError("server did not become healthy")

    def __exit__(self, *_: object) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def serve_memory() -> int:
    """`python -m bench.webapp serve-memory`: the real server with the in-process counter as its store."""
    from webapp.__main__ import log_to_stdout, run
    from webapp.config import config_from_env
    from webapp.store.base import Deploy
    from webapp.store.memory import MemoryStore

    config = config_from_env()
    log_to_stdout()
    run(
        MemoryStore(),
        Deploy(config.version, socket.gethostname(), datetime.now(UTC)),
        config.port,
        config.threads,
    )
    return 0


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Accept": "application/json"})
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stored_calls(db: Path) -> int:
    from webapp.store.sqlite import SqliteStore

    store = SqliteStore.open(db, timeout_s=5)
    try:
        return store.read_state().calls
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())
