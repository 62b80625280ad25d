"""`python -m bench.webapp`: what the durable store costs the web app, at 1 and at N worker processes.

1. Throughput: counted `GET /` (JSON) against the real server (`python -m webapp`) on its durable default
   store (SQLite, synchronous=FULL), and against the same server with the store replaced by an in-process
   counter (the web stack's ceiling), with the same WEB_PROCESSES and WEB_THREADS; plus SQLite
   synchronous=NORMAL; plus the MongoDB adapter's code path on mongomock, an in-process imitation: it is not
   a server, its figures are not MongoDB's (no network, no journal, no replication), and with several
   processes each worker counts in its own copy. All servers run at once; the load generator (wrk) visits
   them in turn, round after round, in a rotating order, and medians are compared: on a shared machine, the
   load affects every case. Every store starts with the history of a live service: 9 earlier versions
   deployed and counted, so each answer carries 10 deploys and 10 versions, as in production.
2. Start-up: time from process start to the first `200` on `/health` and on `GET /`, with 10^6 calls already
   stored vs. an empty store (the count is seeded directly in the database, not by 10^6 requests).

`--help` lists the options; `--json` prints one JSON line last, for machines.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SEEDED_CALLS = 1_000_000
HISTORY = 9  # earlier versions in every store under load, with the running one: MAX_DEPLOYS
WRK_MISSING = (
    "error: the throughput benchmark needs wrk, an HTTP load generator, on the PATH: "
    "apt-get install wrk (Debian/Ubuntu), brew install wrk (macOS), or build https://github.com/wg/wrk"
)


def main() -> int:
    args = options().parse_args()
    if args.mode == "serve-memory":
        return serve_memory()
    if args.mode == "serve-mongomock":
        return serve_mongomock()
    wrk = shutil.which("wrk")
    if wrk is None:
        print(WRK_MISSING, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-webapp-") as scratch:
        figures = throughput(Path(scratch), wrk, args)
        if args.starts:
            startup(Path(scratch), args.starts)
    if args.json:
        print(json.dumps(figures))
    return 0


def options() -> argparse.ArgumentParser:
    from webapp.config import DEFAULT_PROCESSES

    parser = argparse.ArgumentParser(
        prog="python -m bench.webapp",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "mode",
        nargs="?",
        default="bench",
        choices=["bench", "serve-memory", "serve-mongomock"],
        help="bench (default): run the benchmark; serve-memory, serve-mongomock: the web app on the "
        "in-process counter (the ceiling) or on the MongoDB adapter over mongomock, which the benchmark "
        "starts for itself",
    )
    parser.add_argument(
        "--processes",
        type=at_least(1),
        default=DEFAULT_PROCESSES,
        help="WEB_PROCESSES of the servers compared besides 1 (default: the app's, %(default)s)",
    )
    parser.add_argument(
        "--threads", type=at_least(1), default=8, help="WEB_THREADS of every server (default: %(default)s)"
    )
    parser.add_argument(
        "--duration", type=at_least(1), default=10, help="seconds of each wrk run (default: %(default)s)"
    )
    parser.add_argument(
        "--rounds",
        type=at_least(1),
        default=3,
        help="runs per case, cases in rotating order; medians are shown (default: %(default)s)",
    )
    parser.add_argument(
        "--connections",
        type=at_least(1),
        default=32,
        help="wrk's open connections, over 2 wrk threads (default: %(default)s)",
    )
    parser.add_argument(
        "--starts",
        type=at_least(0),
        default=5,
        help="start-up samples per case; 0 skips the start-up measurement (default: %(default)s)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line with the figures last")
    return parser


def at_least(low: int) -> Any:
    """An argparse type: an integer >= `low`."""

    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {raw!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    return parse


# -- 1. throughput ----------------------------------------------------------------------------------------


@dataclass
class WrkResult:
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    bad: int


@dataclass
class Case:
    store: str
    processes: int
    command: list[str]
    env: dict[str, str]
    runs: list[WrkResult] = field(default_factory=list)
    warm_up_requests: int = 0

    @property
    def rps(self) -> float:
        return statistics.median(r.rps for r in self.runs)

    @property
    def p99_ms(self) -> float:
        return statistics.median(r.p99_ms for r in self.runs)


MEMORY = "in-process counter"
FULL = "SQLite synchronous=FULL"
NORMAL = "SQLite synchronous=NORMAL"
MONGOMOCK = "MongoDB code path, mongomock"
MONGOMOCK_NOTE = "mongomock is not a server: these are the adapter's code path, not MongoDB's numbers"


def throughput(scratch: Path, wrk: str, args: argparse.Namespace) -> dict[str, Any]:
    n, threads, connections = args.processes, args.threads, args.connections
    print(f"== throughput: counted GET / (JSON), WEB_THREADS={threads}, wrk -t2 -c{connections} --latency")
    print(f"   {args.rounds} rounds of {args.duration}s per case, cases in rotating order, medians shown")
    print(f"   host: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}")
    print("   wrk runs on the same host and takes CPU from the servers alike")
    commit_ms = commit_latency_ms(scratch)
    print(f"   disk: one SQLite synchronous=FULL commit (fsync) takes {commit_ms:.2f} ms (median of 200)")
    webapp = [sys.executable, "-m", "webapp"]
    memory = [sys.executable, "-m", "bench.webapp", "serve-memory"]
    mongomock = [sys.executable, "-m", "bench.webapp", "serve-mongomock"]
    print(f"   every store holds {HISTORY} earlier versions, deployed and counted, besides the one running")
    cases = [
        Case(store, processes, command, env)
        for processes in sorted({1, n})
        for store, command, env in (
            (MEMORY, memory, {}),
            (FULL, webapp, {"SQLITE_PATH": str(scratch / f"full-{processes}.sqlite3")}),
        )
    ]
    cases.append(
        Case(
            NORMAL,
            n,
            webapp,
            {"SQLITE_PATH": str(scratch / f"normal-{n}.sqlite3"), "SQLITE_SYNCHRONOUS": "NORMAL"},
        )
    )
    cases.append(Case(MONGOMOCK, n, mongomock, {}))
    for case in cases:
        if "SQLITE_PATH" in case.env:
            seed_history(Path(case.env["SQLITE_PATH"]))
    with contextlib.ExitStack() as stack:
        servers = [
            stack.enter_context(Server(case.command, case.processes, threads, case.env)) for case in cases
        ]
        for case, server in zip(cases, servers, strict=True):
            case.warm_up_requests = run_wrk(wrk, server.port, connections, 2).requests
        for round_index in range(args.rounds):
            shift = round_index % len(cases)
            for case, server in (
                list(zip(cases, servers, strict=True))[shift:]
                + list(zip(cases, servers, strict=True))[:shift]
            ):
                case.runs.append(run_wrk(wrk, server.port, connections, args.duration))
    ceilings = {case.processes: case for case in cases if case.store == MEMORY}
    print_table(cases, ceilings)
    durable = {case.processes: case for case in cases if case.store == FULL}
    normal = next(case for case in cases if case.store == NORMAL)
    mongo = next(case for case in cases if case.store == MONGOMOCK)
    return {
        "processes": n,
        "threads": threads,
        "ratio": round(durable[n].rps / ceilings[n].rps, 3),
        "ratio_1_process": round(durable[1].rps / ceilings[1].rps, 3),
        "req_s": round(durable[n].rps),
        "ceiling_req_s": round(ceilings[n].rps),
        "req_s_1_process": round(durable[1].rps),
        "ceiling_req_s_1_process": round(ceilings[1].rps),
        "p99_ms": round(durable[n].p99_ms, 2),
        "ceiling_p99_ms": round(ceilings[n].p99_ms, 2),
        "p99_ratio": round(durable[n].p99_ms / ceilings[n].p99_ms, 2),
        "p99_ms_1_process": round(durable[1].p99_ms, 2),
        "ceiling_p99_ms_1_process": round(ceilings[1].p99_ms, 2),
        "p99_ratio_1_process": round(durable[1].p99_ms / ceilings[1].p99_ms, 2),
        "ratio_normal": round(normal.rps / ceilings[n].rps, 3),
        "mongomock": {
            "note": MONGOMOCK_NOTE,
            "req_s": round(mongo.rps),
            "ratio": round(mongo.rps / ceilings[n].rps, 3),
            "p99_ms": round(mongo.p99_ms, 2),
        },
        "commit_ms": round(commit_ms, 3),
        "cpus": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 2),
        "rounds": args.rounds,
        "duration_s": args.duration,
        "connections": connections,
    }


def print_table(cases: list[Case], ceilings: dict[int, Case]) -> None:
    print()
    columns = (
        ("req/s", 9),
        ("ratio", 7),
        ("p50 ms", 9),
        ("p99 ms", 9),
        ("p99 x", 7),
        ("requests", 10),
        ("non-2xx", 9),
    )
    header = f"   {'processes':>9}  {'store':<30}" + "".join(f"{title:>{width}}" for title, width in columns)
    print(header + f"{'stored':>10}")
    for case in cases:
        ceiling = ceilings[case.processes]
        p50 = statistics.median(r.p50_ms for r in case.runs)
        requests = sum(r.requests for r in case.runs)
        bad = sum(r.bad for r in case.runs)
        db = case.env.get("SQLITE_PATH")
        seeded = sum(calls for _, calls in history())
        stored = stored_calls(Path(db)) - seeded - case.warm_up_requests if db else "-"
        print(
            f"   {case.processes:>9}  {case.store:<30}{case.rps:>9.0f}{case.rps / ceiling.rps:>7.2f}"
            f"{p50:>9.2f}{case.p99_ms:>9.2f}{case.p99_ms / ceiling.p99_ms:>7.2f}"
            f"{requests:>10}{bad:>9}{stored:>10}"
        )
    print("   ratio, p99 x: req/s and p99 over the in-process counter's with the same processes (the web")
    print("   stack's ceiling)")
    print(f"   {MONGOMOCK}: {MONGOMOCK_NOTE}; each worker process counts in its own copy")
    print("   stored: calls in the database less the seeded and the warm-up's; above `requests` only by the")
    print("   responses still in flight when wrk stopped (at most connections x rounds)")
    print()


def history() -> list[tuple[Any, int]]:
    """(deploy, calls) of the earlier versions a store under load starts with."""
    from webapp.store.base import Deploy

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    return [(Deploy(f"1.0.{index}", "bench", t0 + timedelta(days=index)), 1000) for index in range(HISTORY)]


def seed_history(db: Path) -> None:
    from webapp.store.sqlite import SqliteStore

    store = SqliteStore.open(db, timeout_s=5)
    for deploy, _ in history():
        store.record_deploy(deploy)
    store.close()
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "INSERT INTO calls_by_version (version, calls) VALUES (?, ?)",
            [(deploy.version, calls) for deploy, calls in history()],
        )


def commit_latency_ms(scratch: Path) -> float:
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


def run_wrk(wrk: str, port: int, connections: int, duration: int) -> WrkResult:
    output = subprocess.run(
        [
            wrk,
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
    with sqlite3.connect(seeded) as conn:  # seeded directly: 10^6 calls over ten versions
        conn.executemany(
            "INSERT INTO calls_by_version (version, calls) VALUES (?, ?)",
            [(f"1.0.{index}", SEEDED_CALLS // 10) for index in range(10)],
        )
    print(f"== start-up: process start -> first 200, median of {starts} starts each (default WEB_PROCESSES)")
    print(f"   {'store':<28}{'/health ms':>12}{'GET / ms':>10}{'calls':>10}")
    for name, db in (("empty SQLite", empty), (f"SQLite with {SEEDED_CALLS:,} calls", seeded)):
        health, first, calls = [], [], 0
        for _ in range(starts):
            started = time.perf_counter()
            with Server([sys.executable, "-m", "webapp"], None, 8, {"SQLITE_PATH": str(db)}) as server:
                health.append((time.perf_counter() - started) * 1000)
                status, body = get(server.port, "/")
                first.append((time.perf_counter() - started) * 1000)
                calls = json.loads(body)["calls"]
                assert status == 200
        print(f"   {name:<28}{statistics.median(health):>12.0f}{statistics.median(first):>10.0f}{calls:>10}")
    print()


# -- the servers under test -------------------------------------------------------------------------------


class Server:
    """A web app on a free port, its output discarded (same for every case), stopped with SIGTERM."""

    def __init__(self, command: list[str], processes: int | None, threads: int, env: dict[str, str]) -> None:
        self.port = free_port()
        full_env = {k: v for k, v in os.environ.items() if k != "MONGODB_URI" and not k.startswith("WEB_")}
        full_env.update(env, PORT=str(self.port), WEB_THREADS=str(threads), APP_VERSION="bench")
        if processes is not None:
            full_env["WEB_PROCESSES"] = str(processes)
        self.proc = subprocess.Popen(
            command, cwd=REPO, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def __enter__(self) -> Server:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}")
            with contextlib.suppress(OSError):
                if get(self.port, "/health")[0] == 200:
                    return self
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
    store = MemoryStore()
    for deploy, calls in history():
        store.record_deploy(deploy)
        for _ in range(calls):
            store.count_call(deploy.version)
    return run(store, config, MEMORY)


def serve_mongomock() -> int:
    """`python -m bench.webapp serve-mongomock`: the real server with the MongoDB adapter over mongomock."""
    import mongomock

    from webapp.__main__ import log_to_stdout, run
    from webapp.config import config_from_env
    from webapp.store.mongo import MongoStore

    config = config_from_env()
    log_to_stdout()
    client: Any = mongomock.MongoClient()
    store = MongoStore(client["bench"])
    for deploy, calls in history():
        store.record_deploy(deploy)
        for _ in range(calls):
            store.count_call(deploy.version)
    return run(store, config, MONGOMOCK)


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
