"""A client of a served emulation's HTTP controls (`/moto-api/beanstalk/...`, answered by
elasticbeanstalk/control_api.py), for another process (a test runner, a soak) to choose faults, outcomes
and timings and read the state.

    controls = ControlClient("http://127.0.0.1:5000")
    controls.arm(Fault.BUSY)                      # or "busy"
    controls.set_timings(launch_s=2, update_s=3)
    controls.state()["environments"]

Each change answers the state after it (as `state()` does). Plain HTTP (urllib, no proxy); a refusal or no
answer raises `ControlError`, whose message says which call and why.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from moto_ext.elasticbeanstalk.deploy import Outcome
from moto_ext.elasticbeanstalk.faults import ONE_SHOT, Fault

PREFIX = "/moto-api/beanstalk"
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ControlError(RuntimeError):
    """The control surface refused a request or did not answer; the message says which and why."""


class ControlClient:
    def __init__(self, endpoint_url: str) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self._base = self.endpoint_url + PREFIX

    def state(self) -> dict[str, Any]:
        """Faults, timings, pending operations and environments, as GET /state answers them."""
        return self._call("GET", "state")

    def arm(self, fault: Fault | str, every_deployment: bool | None = None) -> dict[str, Any]:
        """Switch `fault` on. A one-shot fault (busy, mutation-5xx) hits once per new application version
        unless `every_deployment` is False (then once in all)."""
        chosen = _fault(fault)
        every = chosen in ONE_SHOT if every_deployment is None else every_deployment
        return self._call("POST", "faults", {"faults": [chosen.value], "every_deployment": every})

    def clear(self, *faults: Fault | str) -> dict[str, Any]:
        """Switch those faults off (every fault when none is named)."""
        return self._call("DELETE", "faults", {"faults": [_fault(fault).value for fault in faults]})

    def active(self) -> set[Fault]:
        return {Fault.named(name) for name in self.state()["faults"]}

    def set_timings(self, **seconds: float) -> dict[str, Any]:
        """Replace some timings (`launch_s`, `update_s`, ...: seconds on the emulation's clock)."""
        return self._call("POST", "timings", dict(seconds))

    def set_outcome(self, environment: str, outcome: Outcome | str) -> dict[str, Any]:
        """How that environment's next updates end, until changed."""
        value = outcome.value if isinstance(outcome, Outcome) else outcome
        return self._call("POST", "outcomes", {"environment": environment, "outcome": value})

    def move_clock(self, seconds: float) -> dict[str, Any]:
        """Move the emulation's clock forward and settle what is due."""
        return self._call("POST", "clock", {"advance_s": seconds})

    def settle(self, environment: str | None = None) -> dict[str, Any]:
        """Settle pending operations now (of that environment, or all)."""
        return self._call("POST", "settle", {} if environment is None else {"environment": environment})

    def release_platform_version(self, solution_stack: str) -> dict[str, Any]:
        """AWS released this platform version: its branch's older versions are superseded."""
        return self._call("POST", "platform-releases", {"solution_stack": solution_stack})

    def set_caller_permissions(self, on: bool) -> dict[str, Any]:
        """IAM checks on or off: UpdateEnvironment judges what Beanstalk does downstream."""
        return self._call("POST", "caller-permissions", {"on": on})

    def reset(self) -> None:
        """moto's own reset (`POST /moto-api/reset`): every account's state, controls included, is gone."""
        request = urllib.request.Request(  # noqa: S310 - the emulation's own URL
            f"{self.endpoint_url}/moto-api/reset", data=b"", method="POST"
        )
        try:
            with _DIRECT.open(request, timeout=30):
                pass
        except (urllib.error.URLError, OSError) as error:
            raise ControlError(f"POST /moto-api/reset: {error}") from None

    def _call(self, method: str, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - the emulation's own URL
            f"{self._base}/{action}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with _DIRECT.open(request, timeout=30) as response:
                document: dict[str, Any] = json.loads(response.read())
                return document
        except urllib.error.HTTPError as error:
            raise ControlError(f"{method} {PREFIX}/{action}: {error.code} {_reason(error.read())}") from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise ControlError(f"{method} {PREFIX}/{action}: {error}") from None


def _fault(fault: Fault | str) -> Fault:
    return fault if isinstance(fault, Fault) else Fault.named(fault)


def _reason(body: bytes) -> str:
    """The control surface's `{"error": ...}` text, or the start of whatever else answered."""
    try:
        return str(json.loads(body)["error"])
    except (ValueError, KeyError, TypeError):
        return repr(body[:300])
