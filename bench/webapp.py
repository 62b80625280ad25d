"""`python -m bench.webapp`: what the durable SQLite store costs the web app, and what start-up costs.

1. Throughput: counted `GET /` (JSON) against the real server (`python -m webapp`) on SQLite, and against the
   same server with the store replaced by an in-process counter (the ceiling of the web stack): same
   WEB_THREADS, same load generator (wrk), one after the other in one run. Prints req/s, the ratio, p50/p99.
2. Start-up: time from process start to the first `200` on `/health` and on `GET /`, with 10^6 calls already
   stored vs. an empty store (the count is seeded directly in the database, not by 10^6 requests).

Options: --duration S per round (default 10), --rounds N (default 3), --connections N (default 32),
--threads N (WEB_THREADS, default 8), --starts N (start-up samples per case, default 5).
"""

from __future__ import annotations

import argparse
import contextlib
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
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--starts", type=int, default=5)
    args = parser.parse_args()
    if args.mode == "serve-memory":
        return serve_memory()
    if WRK is None:
        print("error: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-webapp-") as scratch:
        throughput(Path(scratch), args.duration, args.connections, args.threads, args.rounds)
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


def throughput(scratch: Path, duration: int, connections: int, threads: int, rounds: int) -> None:
    print(
        f"== throughput: counted GET / (JSON), WEB_THREADS={threads}, load: wrk -t2 -c{connections} --latency"
    )
    print(
        f"   {rounds} rounds of {duration}s per store, stores alternating (medians shown; the host is shared)"
    )
    print(f"   host: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, wrk on the same host")
    fsync_ms = commit_latency_ms(scratch)
    print(f"   disk: one SQLite synchronous=FULL commit (fsync) takes {fsync_ms:.2f} ms (median of 200)")
    cases = {
        MEMORY: ([sys.executable, "-m", "bench.webapp", "serve-memory"], {}),
        FULL: ([sys.executable, "-m", "webapp"], {"SQLITE_PATH": str(scratch / "full.sqlite3")}),
        NORMAL: (
            [sys.executable, "-m", "webapp"],
            {"SQLITE_PATH": str(scratch / "normal.sqlite3"), "SQLITE_SYNCHRONOUS": "NORMAL"},
        ),
    }
    runs: dict[str, list[WrkResult]] = {name: [] for name in cases}
    warm_ups: dict[str, int] = {}
    with contextlib.ExitStack() as stack:
        servers = {
            name: stack.enter_context(Server(command, threads=threads, env=env))
            for name, (command, env) in cases.items()
        }
        for name, server in servers.items():
            warm_ups[name] = run_wrk(server.port, connections, 1).requests
        for _ in range(rounds):
            for name, server in servers.items():
                runs[name].append(run_wrk(server.port, connections, duration))
    ceiling = statistics.median(r.rps for r in runs[MEMORY])
    print()
    columns = ("req/s", 9), ("ratio", 7), ("p50 ms", 9), ("p99 ms", 9), ("requests", 10), ("non-2xx", 9)
    print(f"   {'store':<28}" + "".join(f"{title:>{width}}" for title, width in columns) + f"{'stored':>10}")
    for name, results in runs.items():
        rps = statistics.median(r.rps for r in results)
        p50 = statistics.median(r.p50_ms for r in results)
        p99 = statistics.median(r.p99_ms for r in results)
        requests = sum(r.requests for r in results)
        bad = sum(r.bad for r in results)
        env = cases[name][1]
        stored = stored_calls(Path(env["SQLITE_PATH"])) - warm_ups[name] if "SQLITE_PATH" in env else "-"
        print(
            f"   {name:<28}{rps:>9.0f}{rps / ceiling:>7.2f}{p50:>9.2f}{p99:>9.2f}"
            f"{requests:>10}{bad:>9}{stored:>10}"
        )
    print("   ratio: req/s over the in-process counter's req/s (the web stack's ceiling); target >= 0.70")
    print("   stored: calls in the database minus the warm-up's answered requests; it can exceed `requests`")
    print("   only by responses still in flight when wrk stopped (at most connections x rounds)")
    print()


def commit_latency_ms(scratch: Path) -> float:
    import sqlite3

    conn = sqlite3.connect(scratch / "fsync-probe.sqlite3", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE t (n INTEGER)")
    conn.execute("INSERT INTO t VALUES (0)")
    samples = []
    for _ in range(200):
        started = time.perf_counter()
        conn.execute("UPDATE t SET n = n + 1")
        samples.append((time.perf_counter() - started) * 1000)
    conn.close()
    return statistics.median(samples)


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
    from webapp.store.memory import MemoryStore

    config = config_from_env()
    log_to_stdout()
    return run(MemoryStore(), config)


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
