"""Configuration from the environment: defaults, validation, and the one-line error of `python -m webapp`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from webapp_process import REPO, webapp_env

from webapp.config import Config, ConfigError, config_from_env


def test_defaults_follow_the_contract() -> None:
    assert config_from_env({}) == Config(
        port=8080,
        threads=8,
        version="dev",
        mongodb_uri=None,
        sqlite_path=Path("./data/webapp.sqlite3"),
        store_timeout_s=2.0,
        sqlite_synchronous="FULL",
        processes=2,
        connection_limit=1000,
        read_timeout_s=10.0,
        host="0.0.0.0",
    )


def test_every_variable_is_read() -> None:
    config = config_from_env(
        {
            "PORT": "9000",
            "WEB_THREADS": "16",
            "APP_VERSION": "1.0.42-3f2a1bc",
            "MONGODB_URI": "mongodb+srv://user:pw@cluster0.example.net/app?retryWrites=true",
            "SQLITE_PATH": "/var/lib/webapp/db.sqlite3",
            "STORE_TIMEOUT_S": "0.5",
            "SQLITE_SYNCHRONOUS": "normal",
            "WEB_PROCESSES": "4",
            "WEB_CONNECTION_LIMIT": "2001",
            "WEB_READ_TIMEOUT_S": "2.5",
            "HOST": "127.0.0.1",
        }
    )
    assert (config.port, config.threads, config.version) == (9000, 16, "1.0.42-3f2a1bc")
    assert config.mongodb_uri == "mongodb+srv://user:pw@cluster0.example.net/app?retryWrites=true"
    assert config.sqlite_path == Path("/var/lib/webapp/db.sqlite3")
    assert config.store_timeout_s == 0.5
    assert config.sqlite_synchronous == "NORMAL"
    assert (config.processes, config.connection_limit, config.read_timeout_s) == (4, 2001, 2.5)
    assert config.host == "127.0.0.1"
    assert config.connections_per_process == 501, "the instance's limit shared out, rounded up"


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("PORT", "abc", "must be an integer"),
        ("PORT", "70000", "between 0 and 65535"),
        ("WEB_THREADS", "0", "between 1 and 256"),
        ("WEB_THREADS", "eight", "must be an integer"),
        ("APP_VERSION", "", "must not be empty"),
        ("APP_VERSION", "1.0\n", "printable"),
        ("APP_VERSION", "x" * 129, "at most 128"),
        ("MONGODB_URI", "http://x", "must start with mongodb://"),
        ("MONGODB_URI", "mongodb://", "has no host"),
        ("SQLITE_PATH", " ", "must not be empty"),
        ("STORE_TIMEOUT_S", "soon", "number of seconds"),
        ("STORE_TIMEOUT_S", "0", "between 0.05 and 60"),
        ("SQLITE_SYNCHRONOUS", "OFF", "must be FULL or NORMAL"),
        ("WEB_PROCESSES", "0", "between 1 and 64"),
        ("WEB_PROCESSES", "two", "must be an integer"),
        ("WEB_CONNECTION_LIMIT", "5", "between 10 and 100000"),
        ("WEB_READ_TIMEOUT_S", "0.1", "between 0.5 and 300"),
        ("WEB_READ_TIMEOUT_S", "nan", "between 0.5 and 300"),
        ("HOST", "localhost", "must be an IP address"),
        ("HOST", "0.0.0.0:8080", "must be an IP address"),
        ("HOST", "256.0.0.1", "must be an IP address"),
    ],
)
def test_a_bad_value_names_the_variable_and_the_problem(variable: str, value: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_env({variable: value})
    assert caught.value.variable == variable
    assert str(caught.value).startswith(f"{variable}: ")
    assert problem in str(caught.value)


@pytest.mark.parametrize(
    ("raw", "host"), [("127.0.0.1", "127.0.0.1"), (" ::1 ", "::1"), ("[::]", "::"), ("", "0.0.0.0")]
)
def test_host_takes_an_ipv4_or_ipv6_address(raw: str, host: str) -> None:
    assert config_from_env({"HOST": raw}).host == host


def test_an_empty_mongodb_uri_means_sqlite() -> None:
    assert config_from_env({"MONGODB_URI": ""}).mongodb_uri is None


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PORT", "abc"),
        ("MONGODB_URI", "http://x"),
        ("WEB_THREADS", "-1"),
        ("WEB_PROCESSES", "65"),
        ("HOST", "example.com"),
    ],
)
def test_python_m_webapp_exits_non_zero_with_one_line_naming_the_variable(variable: str, value: str) -> None:
    env = webapp_env(**{variable: value})
    done = subprocess.run(
        [sys.executable, "-m", "webapp"], cwd=REPO, env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: {variable}: ")


def test_python_m_webapp_exits_non_zero_when_the_sqlite_file_cannot_be_opened(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    env = webapp_env(PORT=0, SQLITE_PATH=tmp_path / "a-file" / "db.sqlite3")
    done = subprocess.run(
        [sys.executable, "-m", "webapp"], cwd=REPO, env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1].startswith("error: SQLITE_PATH: cannot open SQLite database")


def test_a_connection_limit_beyond_the_open_file_limit_exits_2_naming_the_variable(tmp_path: Path) -> None:
    import resource

    def low_file_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    env = webapp_env(PORT=0, SQLITE_PATH=tmp_path / "db.sqlite3", WEB_CONNECTION_LIMIT=5000)
    done = subprocess.run(
        [sys.executable, "-m", "webapp"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        preexec_fn=low_file_limit,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: WEB_CONNECTION_LIMIT: 2500 connections per process need ")
    assert "hard limit is 256 (ulimit -n)" in done.stderr


def test_python_m_webapp_exits_1_naming_port_when_the_port_is_taken(tmp_path: Path) -> None:
    import socket

    with socket.create_server(("0.0.0.0", 0)) as taken:
        port = taken.getsockname()[1]
        env = webapp_env(PORT=port, SQLITE_PATH=tmp_path / "db.sqlite3")
        done = subprocess.run(
            [sys.executable, "-m", "webapp"], cwd=REPO, env=env, capture_output=True, text=True, timeout=30
        )
    assert done.returncode == 1
    expected = f"error: PORT: cannot listen on 0.0.0.0:{port}: Address already in use"
    assert done.stderr.splitlines()[-1] == expected


class Recording(dict[str, str]):
    """An empty environment that remembers every variable asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        self.asked.add(key)
        return super().get(key, default)


def test_python_m_webapp_help_lists_every_variable_it_reads_and_exits_0_without_serving(
    tmp_path: Path,
) -> None:
    env = Recording()
    config_from_env(env)
    # A port and a store it could serve on: --help must not start the server (it would run until the timeout).
    run_env = webapp_env(PORT=0, SQLITE_PATH=tmp_path / "db.sqlite3")
    done = subprocess.run(
        [sys.executable, "-m", "webapp", "--help"],
        cwd=REPO,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: python -m webapp")
    listed = {line.split()[0] for line in done.stdout.splitlines() if line.startswith("  ") and line.split()}
    assert env.asked <= listed, f"--help does not list {sorted(env.asked - listed)}"
    for line in done.stdout.splitlines():
        if line.strip().startswith(tuple(env.asked)):
            assert "(default: " in line, line
    assert not (tmp_path / "db.sqlite3").exists(), "--help opened the store"


def test_python_m_webapp_refuses_an_argument_with_exit_2_pointing_at_the_environment() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "webapp", "--port", "9000"],
        cwd=REPO,
        env=webapp_env(PORT=0),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert "error: takes no arguments, got '--port 9000'" in done.stderr
    assert "the configuration is the environment (see --help)" in done.stderr
