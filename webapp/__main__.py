"""`python -m webapp`: read the configuration, open the store, listen, and serve from WEB_PROCESSES workers
under a supervisor until SIGTERM. It takes no arguments: `--help` lists the environment it reads."""

from __future__ import annotations

import argparse
import logging
import os
import resource
import socket
import sys
from datetime import UTC, datetime

from webapp.access_log import with_access_log
from webapp.config import VARIABLES, Config, ConfigError, config_from_env
from webapp.routes import make_app
from webapp.server import ServerLimits, serve
from webapp.store import open_store
from webapp.store.base import Deploy, Store, StoreUnavailable
from webapp.supervisor import Supervisor

log = logging.getLogger("webapp")

BACKLOG = 1024
# Open files a worker needs besides its client connections: SQLite's files per thread, the wake-up pipe,
# the listening socket, standard streams, MongoDB's pool.
OPEN_FILES_RESERVE = 64
EXIT_LOST_DURABILITY = 3


def main(argv: list[str] | None = None) -> int:
    parse_arguments(argv)
    try:
        config = config_from_env()
        ensure_open_files(config)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    log_to_stdout()
    try:
        store = open_store(config, on_lost_durability=end_worker)
    except StoreUnavailable as error:
        variable = "MONGODB_URI" if config.mongodb_uri else "SQLITE_PATH"
        print(f"error: {variable}: {error}", file=sys.stderr)
        return 1
    where = "MongoDB" if config.mongodb_uri else f"SQLite {config.sqlite_path} ({config.sqlite_synchronous})"
    return run(store, config, where)


def run(store: Store, config: Config, store_name: str) -> int:
    """Serves `store` as this instance until SIGTERM; the benchmark passes other stores."""
    first_start = Deploy(version=config.version, hostname=socket.gethostname(), deployed_at=datetime.now(UTC))
    host = f"[{config.host}]" if ":" in config.host else config.host
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    try:
        listener = socket.create_server((config.host, config.port), family=family, backlog=BACKLOG)
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else error
        print(f"error: PORT: cannot listen on {host}:{config.port}: {reason}", file=sys.stderr)
        return 1
    log.info(
        "webapp %s on %s serves http://%s:%d from %d process(es) x %d threads, store: %s",
        config.version,
        first_start.hostname,
        host,
        config.port,
        config.processes,
        config.threads,
        store_name,
    )
    limits = ServerLimits(config.threads, config.connections_per_process, config.read_timeout_s)

    def work(_index: int) -> int:
        app = make_app(store, first_start)
        try:
            serve(with_access_log(app), listener, limits)
        finally:
            store.close()
        return 0

    return Supervisor(work, config.processes, listener).run()


def end_worker(reason: str) -> None:
    """The store can no longer vouch for what this process committed (a failed log sync): the worker ends at
    once, answering nothing more, and the supervisor starts another (`webapp/store/sqlite.py`)."""
    log.critical("worker stops without answering its in-flight requests: %s", reason)
    logging.shutdown()
    os._exit(EXIT_LOST_DURABILITY)


def parse_arguments(argv: list[str] | None) -> None:
    """`--help` prints the environment variables and exits 0; any argument is an error (exit 2)."""
    width = max(len(name) for name, _, _ in VARIABLES)
    listing = "\n".join(
        f"  {name:<{width}}  {meaning} (default: {default})" for name, meaning, default in VARIABLES
    )
    parser = argparse.ArgumentParser(
        prog="python -m webapp",
        description="Serves the web app: GET / counts the call and answers the deploy history and the\n"
        "calls counted; GET /health says whether a call can be counted now. Runs until SIGTERM or SIGINT.",
        epilog=f"Configuration is the environment, validated at start:\n{listing}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _, unknown = parser.parse_known_args(argv)
    if unknown:
        parser.error(
            f"takes no arguments, got {' '.join(unknown)!r}: "
            "the configuration is the environment (see --help)"
        )


def ensure_open_files(config: Config) -> None:
    """Raises this process's open-file limit (inherited by the workers) to what the connection limit needs."""
    needed = config.connections_per_process + OPEN_FILES_RESERVE + 4 * config.threads
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise ConfigError(
            "WEB_CONNECTION_LIMIT",
            f"{config.connections_per_process} connections per process need {needed} open files, "
            f"but the hard limit is {hard} (ulimit -n)",
        )
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def log_to_stdout() -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s[%(process)d] %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    # waitress warns "Task queue depth is N" for every request that waits for a free thread: under load,
    # one more line per request, costing CPU and burying the access log. Latency shows saturation anyway.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)


if __name__ == "__main__":
    sys.exit(main())
