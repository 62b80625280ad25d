"""The controls over HTTP, in moto's style under `/moto-api/beanstalk/`, for a separately running server.

Every request may name `account_id` and `region` (query string or JSON body; default 123456789012 and
us-east-1). Bodies are JSON; a bad one answers 400 `{"error": "..."}` and changes nothing.

    GET    /moto-api/beanstalk/state                    controls, clock, environments (JSON)
    POST   /moto-api/beanstalk/faults    {"faults": ["busy", "dns-lag"]}      switch faults on
                                         ("every_deployment": true re-arms busy / mutation-5xx per version)
    DELETE /moto-api/beanstalk/faults    {"faults": ["busy"]}  (no body: all) switch faults off
    POST   /moto-api/beanstalk/outcomes  {"environment": "green-env", "outcome": "Red"}
    POST   /moto-api/beanstalk/timings   {"launch_s": 3, "update_s": 2}
    POST   /moto-api/beanstalk/clock     {"advance_s": 600}   move the emulation's clock, settle what is due
    POST   /moto-api/beanstalk/settle    {"environment": "green-env"}  (optional) settle pending work now
    POST   /moto-api/beanstalk/throttling {"rate": 0.3, "seed": 1, "operations": ["DescribeEvents"]}
    POST   /moto-api/beanstalk/version-quota {"quota": 5}
    POST   /moto-api/beanstalk/settling-health {"color": "Yellow"}  (null: off) health after each update
    POST   /moto-api/beanstalk/event-delivery {"drop": 0.5, "duplicate": 0.2, "delay_s": 30, "seed": 1}
    POST   /moto-api/beanstalk/platform-releases {"solution_stack": "64bit Amazon Linux 2023 v4.7.0 ..."}
                                         AWS released that version: the branch's older ones are superseded
    POST   /moto-api/beanstalk/caller-permissions {"on": true}  judge UpdateEnvironment's downstream calls

Each answers the state (as GET /state does) after the change.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import moto.moto_api._internal.urls as moto_api_urls
from moto.core.common_types import TYPE_RESPONSE
from moto.core.responses import BaseResponse

from .deploy import Outcome
from .registry import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, backend
from .throttling import THROTTLED_BY_DEFAULT

PREFIX = "/moto-api/beanstalk"
Action = Callable[["BeanstalkControlResponse", dict[str, Any]], None]


class ControlError(ValueError):
    """A request the control surface refuses; the message says why."""


def install() -> None:
    """Add the control routes to moto's own API (before moto's server builds its app; idempotent)."""
    for name in ACTIONS:
        moto_api_urls.url_paths[f"{{0}}{PREFIX}/{name}$"] = BeanstalkControlResponse.dispatch


class BeanstalkControlResponse(BaseResponse):
    def __init__(self) -> None:
        super().__init__(service_name="moto_api")

    def call_action(self) -> TYPE_RESPONSE:
        name = self.path.rsplit("/", 1)[-1]
        try:
            body = self._json_body()
            self._target = backend(
                str(body.get("account_id") or self._query("account_id") or DEFAULT_ACCOUNT_ID),
                str(body.get("region") or self._query("region") or DEFAULT_REGION),
            )
            allowed, action = ACTIONS[name]
            if self.method not in allowed:
                accepted = " or ".join(allowed)
                return _json(405, {"error": f"{PREFIX}/{name} accepts {accepted}, not {self.method}"})
            action(self, body)
        except (ControlError, ValueError, TypeError) as error:
            return _json(400, {"error": str(error)})
        return _json(200, self._state())

    # ----- actions ---------------------------------------------------------------------------------

    def state(self, body: dict[str, Any]) -> None:
        """GET: nothing changes."""

    def faults(self, body: dict[str, Any]) -> None:
        names = body.get("faults", [])
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise ControlError('"faults" must be a list of fault names')
        if self.method == "POST":
            if not names:
                raise ControlError('name at least one fault in "faults"')
            every = body.get("every_deployment", False)
            if not isinstance(every, bool):
                raise ControlError('"every_deployment" must be true or false')
            for name in names:
                self._target.set_fault(name, every_deployment=every)
        else:
            self._target.clear_faults(*names)

    def outcomes(self, body: dict[str, Any]) -> None:
        env_name = _required(body, "environment", str)
        value = _required(body, "outcome", str)
        try:
            outcome = Outcome(value)
        except ValueError:
            known = ", ".join(outcome.value for outcome in Outcome)
            raise ControlError(f"unknown outcome {value!r}; known outcomes: {known}") from None
        self._target.set_outcome(env_name, outcome)

    def timings(self, body: dict[str, Any]) -> None:
        chosen = {key: value for key, value in body.items() if key not in ("account_id", "region")}
        if not chosen:
            raise ControlError('name at least one timing, e.g. {"launch_s": 3}')
        self._target.set_timings(**chosen)

    def clock(self, body: dict[str, Any]) -> None:
        seconds = _required(body, "advance_s", (int, float))
        self._target.move_clock(float(seconds))

    def settle(self, body: dict[str, Any]) -> None:
        env_name = body.get("environment")
        if env_name is not None and not isinstance(env_name, str):
            raise ControlError('"environment" must be an environment name')
        self._target.advance(env_name)

    def throttling(self, body: dict[str, Any]) -> None:
        rate = _required(body, "rate", (int, float))
        operations = body.get("operations", list(THROTTLED_BY_DEFAULT))
        seed = body.get("seed")
        if not isinstance(operations, list) or (seed is not None and not isinstance(seed, int)):
            raise ControlError('"operations" must be a list of action names and "seed" an integer')
        self._target.set_throttling(float(rate), operations, seed)

    def version_quota(self, body: dict[str, Any]) -> None:
        self._target.set_version_quota(int(_required(body, "quota", int)))

    def caller_permissions(self, body: dict[str, Any]) -> None:
        on = body.get("on")
        if not isinstance(on, bool):
            raise ControlError('"on" must be true or false')
        self._target.set_caller_permissions(on)

    def platform_releases(self, body: dict[str, Any]) -> None:
        self._target.release_platform_version(str(_required(body, "solution_stack", str)))

    def event_delivery(self, body: dict[str, Any]) -> None:
        shares = {key: body.get(key, 0) for key in ("drop", "duplicate", "delay_s")}
        seed = body.get("seed")
        if any(isinstance(v, bool) or not isinstance(v, int | float) for v in shares.values()) or (
            seed is not None and not isinstance(seed, int)
        ):
            raise ControlError('"drop", "duplicate" and "delay_s" must be numbers and "seed" an integer')
        self._target.set_event_delivery(
            float(shares["drop"]), float(shares["duplicate"]), float(shares["delay_s"]), seed
        )

    def settling_health(self, body: dict[str, Any]) -> None:
        if "color" not in body:
            raise ControlError('"color" is required here (Yellow, Red or null)')
        self._target.set_settling_health(body["color"])

    # ----- the request and the answer --------------------------------------------------------------

    def _json_body(self) -> dict[str, Any]:
        raw = self.raw_body
        text = raw.decode() if isinstance(raw, bytes) else str(raw or "")
        if not text.strip() and len(self.form_data) == 1:  # sent as a form (no Content-Type: JSON)
            (key, value), *_ = self.form_data.items()
            text = key if not value else ""
        if not text.strip():
            return {}
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as error:
            raise ControlError(f"the body is not JSON: {error}") from None
        if not isinstance(parsed, dict):
            raise ControlError("the body must be a JSON object")
        return parsed

    def _query(self, name: str) -> str | None:
        values = self.querystring.get(name)
        return str(values[0]) if values else None

    def _state(self) -> dict[str, Any]:
        target = self._target
        environments = {
            env.environment_name: {
                "application": env.application_name,
                "status": env.status,
                "health": env.health,
                "version_label": env.version_label,
                "cname": env.cname,
            }
            for env in target.describe_environments(include_deleted=False)
        }
        return {
            **target.controls.state(),
            "clock": target.clock().isoformat(),
            "pending_operations": target.pending_operations(),
            "environments": environments,
        }


def _required(body: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = body.get(key)
    if value is None or isinstance(value, bool) or not isinstance(value, kind):
        raise ControlError(f'"{key}" is required here')
    return value


def _json(status: int, payload: dict[str, Any]) -> TYPE_RESPONSE:
    return status, {"Content-Type": "application/json"}, json.dumps(payload)


ACTIONS: dict[str, tuple[tuple[str, ...], Action]] = {
    "state": (("GET",), BeanstalkControlResponse.state),
    "faults": (("POST", "DELETE"), BeanstalkControlResponse.faults),
    "outcomes": (("POST",), BeanstalkControlResponse.outcomes),
    "timings": (("POST",), BeanstalkControlResponse.timings),
    "clock": (("POST",), BeanstalkControlResponse.clock),
    "settle": (("POST",), BeanstalkControlResponse.settle),
    "throttling": (("POST",), BeanstalkControlResponse.throttling),
    "version-quota": (("POST",), BeanstalkControlResponse.version_quota),
    "settling-health": (("POST",), BeanstalkControlResponse.settling_health),
    "event-delivery": (("POST",), BeanstalkControlResponse.event_delivery),
    "platform-releases": (("POST",), BeanstalkControlResponse.platform_releases),
    "caller-permissions": (("POST",), BeanstalkControlResponse.caller_permissions),
}
