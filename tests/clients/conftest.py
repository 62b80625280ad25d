"""The real AWS CLI and EB CLI (each in its own virtualenv, `make clients`) against `python -m sandbox.aws`
running as a separate process, driven only through its HTTP controls (/moto-api/beanstalk/...)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from moto_ext import ControlClient
from tests.prerequisites import unavailable

REPO = Path(__file__).resolve().parents[2]
AWS_CLI = REPO / ".venv-awscli" / "bin" / "aws"
EB_CLI = REPO / ".venv-ebcli" / "bin" / "eb"
REGION = "us-east-1"
STACK = "64bit Amazon Linux 2023 v4.6.0 running Docker"
# Compressed so a command takes seconds; the clients poll in wall time.
FAST = {"launch_s": 2, "update_s": 3, "swap_s": 3, "terminate_s": 2, "process_s": 2}


@pytest.fixture(scope="session")
def endpoint() -> Iterator[str]:
    """`python -m sandbox.aws` in its own process, stopped with SIGTERM at the end of the session."""
    env = {key: value for key, value in os.environ.items() if not key.lower().endswith("_proxy")}
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.aws", "--port", "0"],
        cwd=REPO,
        env={**env, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    assert line.startswith("ready "), line
    yield line.split(" ", 1)[1]
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=15)


@dataclass
class Clients:
    """The two CLIs, one project directory and HOME, and the emulation's controls over HTTP."""

    endpoint: str
    home: Path
    project: Path

    def env(self) -> dict[str, str]:
        kept = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "PYTHON"))}
        kept = {key: value for key, value in kept.items() if not key.lower().endswith("_proxy")}
        return {
            **kept,
            "HOME": str(self.home),
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_PAGER": "",
        }

    def aws(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return self._run([str(AWS_CLI), "--output", "json", *args], timeout)

    def aws_json(self, *args: str) -> Any:
        done = self.aws(*args)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else None

    def eb(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return self._run([str(EB_CLI), *args], timeout)

    @property
    def controls(self) -> ControlClient:
        return ControlClient(self.endpoint)

    def environment(self, name: str, prefix: str) -> dict[str, Any]:
        created: dict[str, Any] = self.aws_json(*create_environment(name, "--cname-prefix", prefix))
        return created

    def _run(self, command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command,
            cwd=self.project,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def create_environment(name: str, *extra: str, stack: str = STACK) -> list[str]:
    """The AWS CLI's arguments for creating `name` in application myapp."""
    return [
        *(
            "elasticbeanstalk",
            "create-environment",
            "--application-name",
            "myapp",
            "--environment-name",
            name,
        ),
        *("--solution-stack-name", stack, *extra),
    ]


@pytest.fixture
def clients(endpoint: str, tmp_path: Path) -> Iterator[Clients]:
    for binary in (AWS_CLI, EB_CLI):
        if not binary.exists():
            unavailable(f"{binary} is missing; run `make clients`")
    ControlClient(endpoint).reset()
    (tmp_path / "home").mkdir()
    (tmp_path / "project").mkdir()
    found = Clients(endpoint, tmp_path / "home", tmp_path / "project")
    found.controls.set_timings(**FAST)
    yield found
