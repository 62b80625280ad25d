"""The Beanstalk emulation's HTTP control surface (`/moto-api/beanstalk/`, sandbox/beanstalk/control_api.py),
as a client: switch faults on and off, and read the emulation's state."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from sandbox.beanstalk import Fault
from sandbox.beanstalk.faults import ONE_SHOT

PREFIX = "/moto-api/beanstalk"
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ControlError(RuntimeError):
    """The control surface refused a request or did not answer; the message says which and why."""


class EmulationControls:
    def __init__(self, aws_endpoint: str) -> None:
        self._base = aws_endpoint.rstrip("/") + PREFIX

    def state(self) -> dict[str, Any]:
        """Faults, timings, pending operations and environments, as GET /state answers them."""
        return self._call("GET", "state")

    def arm(self, fault: Fault) -> None:
        """Switch `fault` on; a one-shot fault (busy, mutation-5xx) hits once per new application version."""
        self._call("POST", "faults", {"faults": [fault.value], "every_deployment": fault in ONE_SHOT})

    def clear(self, fault: Fault) -> None:
        self._call("DELETE", "faults", {"faults": [fault.value]})

    def active(self) -> set[Fault]:
        return {Fault.named(name) for name in self.state()["faults"]}

    def _call(self, method: str, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - the emulation on loopback
            f"{self._base}/{action}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with _DIRECT.open(request, timeout=30) as response:
                document: dict[str, Any] = json.loads(response.read())
                return document
        except urllib.error.HTTPError as error:
            raise ControlError(f"{method} {PREFIX}/{action}: {error.code} {error.read()[:300]!r}") from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise ControlError(f"{method} {PREFIX}/{action}: {error}") from None
