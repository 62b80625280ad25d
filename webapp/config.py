"""The web app's configuration: read from the environment once, validated, frozen.

Every problem is a `ConfigError` naming the variable, so `python -m webapp` can print one clear line.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_HOST = "0.0.0.0"  # every interface, as in the container; the sandbox binds 127.0.0.1
DEFAULT_PORT = 8080
DEFAULT_THREADS = 8
# One process per vCPU of the 2-vCPU instances the app is sized for: a Python process serves on one core at a
# time (the GIL), so two use both; more only add memory and context switches (README, "The web app").
DEFAULT_PROCESSES = 2
# Client connections the instance holds open at once, shared out between its processes. Far above what its
# threads serve at once, so idle keep-alive connections and slow clients cannot lock others out.
DEFAULT_CONNECTION_LIMIT = 1000
DEFAULT_READ_TIMEOUT_S = 10.0
DEFAULT_VERSION = "dev"
DEFAULT_SQLITE_PATH = "./data/webapp.sqlite3"
DEFAULT_STORE_TIMEOUT_S = 2.0
SQLITE_SYNCHRONOUS_LEVELS = ("FULL", "NORMAL")
MAX_VERSION_LENGTH = 128

# What `python -m webapp --help` lists: (variable, meaning, default), in the README's order.
VARIABLES = (
    ("HOST", "listen address: an IPv4 or IPv6 address (127.0.0.1: this machine only)", DEFAULT_HOST),
    ("PORT", "listen port", str(DEFAULT_PORT)),
    (
        "WEB_PROCESSES",
        "worker processes serving the one listening socket, under a supervisor",
        str(DEFAULT_PROCESSES),
    ),
    ("WEB_THREADS", "waitress worker threads, per process", str(DEFAULT_THREADS)),
    (
        "WEB_CONNECTION_LIMIT",
        "client connections the instance holds open at once, shared out between the processes",
        str(DEFAULT_CONNECTION_LIMIT),
    ),
    (
        "WEB_READ_TIMEOUT_S",
        "the longest a client may take to send a request, from its first byte",
        f"{DEFAULT_READ_TIMEOUT_S:g}",
    ),
    ("APP_VERSION", "version label this instance runs (the image tag)", DEFAULT_VERSION),
    (
        "MONGODB_URI",
        "when set, state lives in this MongoDB (db from the URI path, else deliverypipeline)",
        "unset",
    ),
    ("SQLITE_PATH", "when MONGODB_URI is unset: the embedded SQLite file", DEFAULT_SQLITE_PATH),
    (
        "STORE_TIMEOUT_S",
        "the longest a store call may take before the request answers 503",
        f"{DEFAULT_STORE_TIMEOUT_S:g}",
    ),
    (
        "SQLITE_SYNCHRONOUS",
        "FULL: a 200 survives power loss; NORMAL: survives a crash of the app only",
        "FULL",
    ),
)


class ConfigError(ValueError):
    """A variable of the environment has a value the app cannot run with."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem


@dataclass(frozen=True)
class Config:
    port: int
    threads: int
    version: str
    mongodb_uri: str | None
    sqlite_path: Path
    store_timeout_s: float
    sqlite_synchronous: str = "FULL"
    processes: int = DEFAULT_PROCESSES
    connection_limit: int = DEFAULT_CONNECTION_LIMIT
    read_timeout_s: float = DEFAULT_READ_TIMEOUT_S
    host: str = DEFAULT_HOST

    @property
    def connections_per_process(self) -> int:
        return -(-self.connection_limit // self.processes)


def config_from_env(env: Mapping[str, str] | None = None) -> Config:
    """Reads and validates the configuration; raises ConfigError on the first bad variable."""
    env = os.environ if env is None else env
    return Config(
        port=_integer(env, "PORT", DEFAULT_PORT, low=0, high=65535),
        threads=_integer(env, "WEB_THREADS", DEFAULT_THREADS, low=1, high=256),
        version=_version(env.get("APP_VERSION", DEFAULT_VERSION)),
        mongodb_uri=_mongodb_uri(env.get("MONGODB_URI", "")),
        sqlite_path=_sqlite_path(env.get("SQLITE_PATH", DEFAULT_SQLITE_PATH)),
        store_timeout_s=_seconds(env, "STORE_TIMEOUT_S", DEFAULT_STORE_TIMEOUT_S, low=0.05, high=60),
        sqlite_synchronous=_sqlite_synchronous(env.get("SQLITE_SYNCHRONOUS", "FULL")),
        processes=_integer(env, "WEB_PROCESSES", DEFAULT_PROCESSES, low=1, high=64),
        connection_limit=_integer(env, "WEB_CONNECTION_LIMIT", DEFAULT_CONNECTION_LIMIT, low=10, high=10**5),
        read_timeout_s=_seconds(env, "WEB_READ_TIMEOUT_S", DEFAULT_READ_TIMEOUT_S, low=0.5, high=300),
        host=_host(env.get("HOST", "")),
    )


def _integer(env: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw, 10)
    except ValueError:
        raise ConfigError(name, f"must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(name, f"must be between {low} and {high}, got {value}")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float, *, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(name, f"must be a number of seconds, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(name, f"must be between {low:g} and {high:g} seconds, got {raw}")
    return value


def _host(raw: str) -> str:
    raw = raw.strip()
    if not raw:
        return DEFAULT_HOST
    try:
        return str(ipaddress.ip_address(raw.removeprefix("[").removesuffix("]")))
    except ValueError:
        raise ConfigError(
            "HOST", f"must be an IP address to listen on (0.0.0.0, 127.0.0.1, ::, ::1), got {raw!r}"
        ) from None


def _version(raw: str) -> str:
    if not raw:
        raise ConfigError("APP_VERSION", "must not be empty")
    if len(raw) > MAX_VERSION_LENGTH:
        raise ConfigError("APP_VERSION", f"must be at most {MAX_VERSION_LENGTH} characters, got {len(raw)}")
    if not raw.isprintable() or raw != raw.strip():
        raise ConfigError("APP_VERSION", f"must be printable without surrounding spaces, got {raw!r}")
    return raw


def _mongodb_uri(raw: str) -> str | None:
    raw = raw.strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("mongodb", "mongodb+srv"):
        raise ConfigError(
            "MONGODB_URI", f"must start with mongodb:// or mongodb+srv://, got scheme {parts.scheme!r}"
        )
    if not parts.netloc.rpartition("@")[2]:
        raise ConfigError("MONGODB_URI", "has no host")
    return raw


def _sqlite_path(raw: str) -> Path:
    if not raw.strip():
        raise ConfigError("SQLITE_PATH", "must not be empty")
    return Path(raw)


def _sqlite_synchronous(raw: str) -> str:
    level = raw.strip().upper()
    if level not in SQLITE_SYNCHRONOUS_LEVELS:
        raise ConfigError("SQLITE_SYNCHRONOUS", f"must be FULL or NORMAL, got {raw!r}")
    return level
