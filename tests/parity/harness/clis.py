"""The real AWS CLI and EB CLI (each in its own virtualenv, `make clients`) against a target, where a user
would use them."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .targets import Target

REPO = Path(__file__).resolve().parents[3]
AWS_CLI = REPO / ".venv-awscli" / "bin" / "aws"
EB_CLI = REPO / ".venv-ebcli" / "bin" / "eb"


@dataclass(frozen=True)
class Clis:
    target: Target
    project: Path  # the EB CLI's project directory (.elasticbeanstalk/config.yml)
    home: Path | None  # a HOME of its own on the emulation; the user's own on AWS (their ~/.aws)

    def env(self) -> dict[str, str]:
        found = self.target.environ(os.environ)
        if self.home is not None:
            found["HOME"] = str(self.home)
        return found

    def aws(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return self._run([str(AWS_CLI), "--output", "json", *args], timeout)

    def aws_json(self, *args: str) -> Any:
        done = self.aws(*args)
        assert done.returncode == 0, f"aws {' '.join(args)}: {done.stderr}"
        return json.loads(done.stdout) if done.stdout.strip() else None

    def eb(self, *args: str, timeout: float = 3600) -> subprocess.CompletedProcess[str]:
        return self._run([str(EB_CLI), *args], timeout)

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


def missing() -> list[str]:
    return [str(binary) for binary in (AWS_CLI, EB_CLI) if not binary.exists()]


@cache
def versions() -> dict[str, str]:
    """The client versions a recording names."""
    import boto3
    import botocore

    found = {"boto3": boto3.__version__, "botocore": botocore.__version__}
    for name, binary in (("aws-cli", AWS_CLI), ("eb-cli", EB_CLI)):
        if binary.exists():
            done = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60)
            found[name] = (
                (done.stdout or done.stderr).strip().splitlines()[0] if done.returncode == 0 else "?"
            )
    return found
