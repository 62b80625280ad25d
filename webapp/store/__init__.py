"""The store port (`base.Store`) and its adapters; `open_store` picks one from the configuration."""

from __future__ import annotations

from collections.abc import Callable

from webapp.config import Config
from webapp.store.base import Store


def open_store(config: Config, on_lost_durability: Callable[[str], None] | None = None) -> Store:
    """MongoDB when MONGODB_URI is set, else the SQLite file; StoreUnavailable when SQLite cannot open.

    `on_lost_durability(reason)`: what to do when the store can no longer vouch for what it committed
    (`base.py`); the server ends the worker process."""
    if config.mongodb_uri:
        from webapp.store.mongo import MongoStore

        return MongoStore.connect(config.mongodb_uri, config.store_timeout_s)
    from webapp.store.sqlite import SqliteStore

    return SqliteStore.open(
        config.sqlite_path, config.store_timeout_s, config.sqlite_synchronous, on_lost_durability
    )
