"""The emulation as a target: `python -m sandbox.aws` in its own process, and its HTTP controls.

The controls (`/moto-api/beanstalk/...`) exist only on the emulation: they arrange what an account cannot
be told to do (a deployment that fails, a quota reached, throttling) and compress its timings. Any endpoint
that answers `GET /moto-api/beanstalk/state` has them, so `--endpoint-url` at a running sandbox has them too.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
# Compressed so a scenario takes seconds; the harness polls in wall time.
FAST_TIMINGS = {"launch_s": 1, "update_s": 1, "swap_s": 1, "terminate_s": 1, "process_s": 1}
START_TIMEOUT_S = 60


@dataclass(frozen=True)
class Controls:
    """The emulation's HTTP controls at `endpoint`."""

    endpoint: str

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            f"{self.endpoint}/moto-api/beanstalk/{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def outcome(self, environment: str, outcome: str) -> None:
        """How the next update of `environment` ends: Green, Red, Stuck, ..."""
        self.call("POST", "outcomes", {"environment": environment, "outcome": outcome})

    def faults(self, *names: str) -> None:
        self.call("POST", "faults", {"faults": list(names)})

    def clear_faults(self) -> None:
        self.call("DELETE", "faults")

    def version_quota(self, quota: int) -> None:
        self.call("POST", "version-quota", {"quota": quota})

    def throttling(self, rate: float, operations: list[str]) -> None:
        self.call("POST", "throttling", {"rate": rate, "seed": 1, "operations": operations})

    def timings(self, values: dict[str, float]) -> None:
        self.call("POST", "timings", values)


def controls_at(endpoint: str) -> Controls | None:
    """The controls of the emulation at `endpoint`, or None when it is not one (AWS, LocalStack)."""
    try:
        Controls(endpoint).call("GET", "state")
    except (urllib.error.URLError, OSError, ValueError):
        return None
    return Controls(endpoint)


class EmulationServer:
    """`python -m sandbox.aws --port 0` until `stop()` (SIGTERM, then its exit is awaited)."""

    def __init__(self) -> None:
        env = {key: value for key, value in os.environ.items() if not key.lower().endswith("_proxy")}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "sandbox.aws", "--port", "0"],
            cwd=REPO,
            # Every AWS account has AWS's managed policies (the stage attaches some): moto loads them when
            # asked to.
            env={**env, "PYTHONPATH": str(REPO), "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if not line.startswith("ready "):
            self.stop()
            raise RuntimeError(f"python -m sandbox.aws did not start: {line!r}")
        self.endpoint = line.split(" ", 1)[1]

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
