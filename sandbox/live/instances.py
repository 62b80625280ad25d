"""One running copy of the web app, as a local process (an EC2 instance's container, in AWS).

`ProcessLauncher.start` runs this checkout's `python -m webapp` in its own process group with the
environment properties of `sandbox.live.app_settings`; its output goes to a log file, whose tail explains a
failed start.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sandbox.live.app_settings import app_settings
from sandbox.live.dockerrun import ImageRef

REPO_ROOT = Path(__file__).resolve().parents[2]
STOP_GRACE_S = 5.0
LOG_TAIL_LINES = 3


class Instance(Protocol):
    """A started web app: where it listens, whether it died, and how to stop it."""

    image: ImageRef
    port: int

    def exit_status(self) -> str | None:
        """None while running; once it has exited, how (code and the last lines it wrote)."""

    def stop(self) -> None:
        """Stop it and wait until it is gone (idempotent)."""


class Launcher(Protocol):
    def start(self, name: str, image: ImageRef, port: int) -> Instance: ...


@dataclass
class ProcessLauncher:
    """Starts `python -m webapp` processes sharing one SQLite store, logging under `log_dir`."""

    store: Path
    log_dir: Path
    base_env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    command: tuple[str, ...] = (sys.executable, "-m", "webapp")

    def start(self, name: str, image: ImageRef, port: int) -> ProcessInstance:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}-{image.tag}-{port}.log"
        env = {**without_proxies(self.base_env), **app_settings(image, port, self.store)}
        process = spawn_logged(self.command, env, log_path)
        return ProcessInstance(image=image, port=port, process=process, log_path=log_path)


@dataclass
class ProcessInstance:
    image: ImageRef
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def exit_status(self) -> str | None:
        code = self.process.poll()
        if code is None:
            return None
        tail = log_tail(self.log_path)
        return f"exited with code {code}" + (f": {tail}" if tail else "")

    def stop(self) -> None:
        stop_process_group(self.process)


def spawn_logged(command: Sequence[str], env: Mapping[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start `command` from the checkout in a process group of its own, its output appended to `log_path`
    (so `stop_process_group` can take down everything it starts)."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_process_group(process: subprocess.Popen[bytes], grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM the process group `process` leads, SIGKILL it after `grace_s`, and reap it."""
    if process.poll() is None:
        _signal_group(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            _signal_group(process.pid, signal.SIGKILL)
            process.wait()
    # Whatever the leader left behind in its group goes too.
    _signal_group(process.pid, signal.SIGKILL)


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last non-blank lines of a log file, joined with ' | ' (empty when there is none)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    kept = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(kept[-lines:])


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def without_proxies(env: Mapping[str, str]) -> dict[str, str]:
    """`env` less the proxy settings (`http_proxy`, `NO_PROXY`, ...): the sandbox's own processes reach each
    other on loopback directly; only the controller gets a proxy, the CNAME front, set on purpose."""
    return {key: value for key, value in env.items() if not key.lower().endswith("_proxy")}
