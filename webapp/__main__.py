"""`python -m webapp`: read the configuration, open the store, record this start, serve until SIGTERM."""

from __future__ import annotations

import logging
import socket
import sys
from datetime import UTC, datetime

from webapp.access_log import with_access_log
from webapp.config import ConfigError, config_from_env
from webapp.routes import make_app
from webapp.server import serve
from webapp.store import open_store
from webapp.store.base import Deploy, Store, StoreUnavailable

log = logging.getLogger("webapp")


def main() -> int:
    try:
        config = config_from_env()
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    log_to_stdout()
    try:
        store = open_store(config)
    except StoreUnavailable as error:
        variable = "MONGODB_URI" if config.mongodb_uri else "SQLITE_PATH"
        print(f"error: {variable}: {error}", file=sys.stderr)
        return 1
    first_start = Deploy(version=config.version, hostname=socket.gethostname(), deployed_at=datetime.now(UTC))
    log.info(
        "webapp %s on %s, store: %s",
        config.version,
        first_start.hostname,
        "MongoDB" if config.mongodb_uri else f"SQLite {config.sqlite_path}",
    )
    run(store, first_start, config.port, config.threads)
    return 0


def run(store: Store, first_start: Deploy, port: int, threads: int) -> None:
    """Serves `store` as the instance `first_start` until SIGTERM; the benchmark passes other stores."""
    app = make_app(store, first_start)
    try:
        serve(with_access_log(app), port=port, threads=threads)
    finally:
        store.close()


def log_to_stdout() -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)


if __name__ == "__main__":
    sys.exit(main())
