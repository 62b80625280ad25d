"""The product's public commands, as a user runs them: `make provision`, `make deploy-controller` and the
CI client (`python -m controller.client`), each in its own process, its output kept in the run's log.

Against an AWS-compatible endpoint (the sandbox) the same commands run with AWS_ENDPOINT_URL pointing every
AWS client at it (the AWS CLI's `cloudformation package` makes an S3 client of its own, which a global
`--endpoint-url` would not reach), and the CI client reaches the controller through the sandbox's front,
which stands in for DNS and API Gateway.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
AWS_CLI = REPO / ".venv-awscli" / "bin" / "aws"  # `make clients`; a user's own `aws` works the same


class CommandFailed(RuntimeError):
    """A command the rehearsal relies on failed; the message names it and ends with its output."""


@dataclass(frozen=True)
class Ran:
    command: list[str]
    code: int
    output: str
    seconds: float


@dataclass
class Commands:
    log: Path
    environ: Mapping[str, str]
    say: Callable[[str], None]
    endpoint_url: str | None = None

    @property
    def aws(self) -> str:
        return str(AWS_CLI) if AWS_CLI.exists() else "aws"

    def make(self, target: str, **variables: str) -> Ran:
        """`make TARGET NAME=value ...` with AWS set to the CLI for this target; CommandFailed unless it
        succeeds."""
        assignments = [f"{name}={value}" for name, value in {"AWS": self.aws, **variables}.items()]
        ran = self.run(["make", "--no-print-directory", target, *assignments])
        if ran.code != 0:
            raise CommandFailed(f"make {target} failed (exit {ran.code}):\n{_tail(ran.output)}")
        return ran

    def client(self, *args: str, url: str, secret: str, proxy: str | None = None) -> Ran:
        """`python -m controller.client ARGS` with PIPELINE_URL and PIPELINE_SECRET (and the front as its
        HTTP proxy on the sandbox)."""
        extra = {"PIPELINE_URL": url, "PIPELINE_SECRET": secret}
        if proxy is not None:
            extra.update({"HTTP_PROXY": proxy, "http_proxy": proxy, "NO_PROXY": "", "no_proxy": ""})
        return self.run([sys.executable, "-m", "controller.client", *args], extra, shown=("client", *args))

    def run(
        self, command: list[str], extra: Mapping[str, str] | None = None, shown: tuple[str, ...] | None = None
    ) -> Ran:
        env = {**self.environ, **(extra or {})}
        started = time.monotonic()
        self.say(f"  $ {shlex.join(shown or tuple(command))}")
        with self.log.open("a", encoding="utf-8") as log:
            log.write(f"\n$ {shlex.join(command)}\n")
            log.flush()
            process = subprocess.Popen(
                command,
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            assert process.stdout is not None
            lines = []
            for line in process.stdout:
                log.write(line)
                lines.append(line)
            code = process.wait()
        return Ran(command, code, "".join(lines), time.monotonic() - started)


def base_environment(endpoint_url: str | None) -> dict[str, str]:
    """This process's environment for the commands; against an endpoint, every AWS client pointed at it
    (AWS_ENDPOINT_URL) with fake credentials."""
    env = dict(os.environ)
    if endpoint_url is not None:
        region = env.get("AWS_DEFAULT_REGION") or "us-east-1"
        env = {key: value for key, value in env.items() if not key.startswith("AWS_")}
        env.update(
            {
                "AWS_ENDPOINT_URL": endpoint_url,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": region,
            }
        )
    return env


def _tail(output: str, lines: int = 30) -> str:
    return "\n".join(output.rstrip().splitlines()[-lines:])
