"""What a test or a sandbox decides about the emulation: outcomes, hooks, faults, timings, throttling.

`Controls` holds the decisions; `ControlSurface` is how a backend offers them in-process (the HTTP control
surface, `control_api.py`, calls the same methods):

    be.set_outcome("green-env", Outcome.RED)      # the next updates of green-env fail
    be.set_fault("busy")                          # the next UpdateEnvironment / swap is refused once
    be.set_timings(launch_s=3, update_s=2)        # seconds on the emulation's clock
    be.set_throttling(0.3, seed=1)                # 30 % of DescribeEnvironments / DescribeEvents throttled
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from . import control_numbers, platforms
from .deploy import DeployHook, Outcome
from .eventbridge import Delivery
from .faults import ONE_SHOT, THROTTLED_SHARE, Fault, Timings
from .throttling import THROTTLED_BY_DEFAULT, Throttle, throttle

DEFAULT_VERSION_QUOTA = 1000  # AWS's default quota of application versions per account and region
_default_timings = [Timings()]  # what every backend starts with (also after moto's reset)


def set_default_timings(timings: Timings) -> None:
    """The timings every backend starts with from now on (`python -m sandbox.aws --pace`); a backend that
    exists already keeps its own."""
    _default_timings[0] = timings


THROTTLE_FAULT_OPERATIONS = (*THROTTLED_BY_DEFAULT, "DescribeEnvironmentHealth", "DescribeInstancesHealth")


@dataclass
class Controls:
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    hooks: dict[str, DeployHook] = field(default_factory=dict)
    faults: set[Fault] = field(default_factory=set)
    timings: Timings = field(default_factory=lambda: _default_timings[0])
    version_quota: int = DEFAULT_VERSION_QUOTA
    throttle: Throttle | None = None
    settling_health: str | None = None  # Yellow/Red for `health_recovery_s` after each update (--realistic)
    every_deployment: set[Fault] = field(default_factory=set)  # one-shot faults re-armed per deployment
    delivery: Delivery = field(default_factory=Delivery)  # of the events sent to EventBridge
    released_platforms: platforms.Released = field(default_factory=dict)  # versions out since the catalogue
    caller_permissions: bool = False  # UpdateEnvironment judges what it does downstream (downstream.py)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def active(self, fault: Fault) -> bool:
        with self._lock:
            return fault in self.faults

    def take(self, fault: Fault) -> bool:
        """Whether `fault` hits now; a one-shot fault switches itself off as it hits."""
        with self._lock:
            if fault not in self.faults:
                return False
            if fault in ONE_SHOT:
                self.faults.discard(fault)
            return True

    def new_deployment(self) -> None:
        """A new application version was created: one-shot faults chosen for every deployment re-arm."""
        with self._lock:
            self.faults |= self.every_deployment

    def throttled(self, operation: str) -> bool:
        with self._lock:
            return self.throttle is not None and self.throttle.hits(operation)

    def state(self) -> dict[str, Any]:
        """What is chosen now, as JSON-ready data (the HTTP control surface's GET)."""
        with self._lock:
            return {
                "faults": sorted(fault.value for fault in self.faults),
                "outcomes": {name: outcome.value for name, outcome in sorted(self.outcomes.items())},
                "hooked_environments": sorted(self.hooks),
                "timings": asdict(self.timings),
                "version_quota": self.version_quota,
                "throttling": None if self.throttle is None else self.throttle.rate,
                "settling_health": self.settling_health,
                "every_deployment": sorted(fault.value for fault in self.every_deployment),
                "event_delivery": self.delivery.describe(),
                "released_platforms": sorted(p.solution_stack for p in self.released_platforms.values()),
                "caller_permissions": self.caller_permissions,
            }


@dataclass
class ShiftedClock:
    """Another clock moved forward by `offset` (how the clock moves when nobody replaced it)."""

    base: Callable[[], datetime]
    offset: timedelta = timedelta(0)

    def __call__(self) -> datetime:
        return self.base() + self.offset


class ControlSurface:
    """The controls of a backend, in-process (a mixin of the backend; `controls` is its state)."""

    controls: Controls
    clock: Callable[[], datetime]

    def settle(self) -> None:  # the life cycle's (LifeCycle comes first in the backend)
        raise NotImplementedError

    def judge_requests(self) -> None:  # the life cycle's: health monitoring looks at requests again
        raise NotImplementedError

    MAX_CLOCK_STEP_S = control_numbers.MAX_CLOCK_STEP_S

    def move_clock(self, seconds: float) -> datetime:
        """Move the emulation's clock forward by `seconds` (finite, at most MAX_CLOCK_STEP_S, and never past
        what a date holds) and settle what is due; answers the new now."""
        seconds = control_numbers.seconds("advance_s", seconds, self.MAX_CLOCK_STEP_S)
        control_numbers.clock_reachable(self.clock(), seconds)
        if not isinstance(self.clock, ShiftedClock):
            self.clock = ShiftedClock(self.clock)
        self.clock.offset += timedelta(seconds=seconds)
        self.settle()
        return self.clock()

    def set_outcome(self, env_name: str, outcome: Outcome) -> None:
        """The outcome of that environment's next update(s), until changed."""
        self.controls.outcomes[env_name] = outcome

    def set_deploy_hook(self, env_name: str, hook: DeployHook | None) -> None:
        """Let `hook` decide that environment's updates (None removes it)."""
        if hook is None:
            self.controls.hooks.pop(env_name, None)
        else:
            self.controls.hooks[env_name] = hook

    def set_fault(self, name: str | Fault, every_deployment: bool = False) -> None:
        """Switch a fault on (by its CONTRACT name); ValueError for an unknown name. `every_deployment`:
        a one-shot fault (busy, mutation-5xx) hits once per deployment (re-armed by each new version)."""
        fault = name if isinstance(name, Fault) else Fault.named(name)
        with self.controls._lock:
            self.controls.faults.add(fault)
            if every_deployment and fault in ONE_SHOT:
                self.controls.every_deployment.add(fault)
            if fault is Fault.THROTTLE:
                self.controls.throttle = throttle(THROTTLED_SHARE, THROTTLE_FAULT_OPERATIONS, seed=None)
        if fault is Fault.SCANNER_4XX:
            self.judge_requests()

    def clear_faults(self, *names: str | Fault) -> None:
        """Switch those faults off (all of them when none is named)."""
        chosen = [name if isinstance(name, Fault) else Fault.named(name) for name in names]
        with self.controls._lock:
            gone = set(chosen) if chosen else set(self.controls.faults) | self.controls.every_deployment
            self.controls.faults -= gone
            self.controls.every_deployment -= gone
            if Fault.THROTTLE in gone:
                self.controls.throttle = None
        if Fault.SCANNER_4XX in gone:
            self.judge_requests()

    def set_timings(self, **seconds: float) -> None:
        """Replace some timings (`launch_s`, `update_s`, ...); ValueError names a bad one."""
        with self.controls._lock:
            self.controls.timings = self.controls.timings.with_values(dict(seconds))

    @property
    def settle_after_s(self) -> float:
        """The delay before a pending update, swap or termination settles."""
        return self.controls.timings.update_s

    @settle_after_s.setter
    def settle_after_s(self, seconds: float) -> None:
        self.set_timings(update_s=seconds, swap_s=seconds, terminate_s=seconds)

    def set_settling_health(self, color: str | None) -> None:
        """After each successful update, health is `color` (Yellow or Red) for `health_recovery_s`, then
        Green, as instances register in real environments; None turns it off."""
        if color not in (None, "Yellow", "Red"):
            raise ValueError(f"settling health must be Yellow, Red or null, got {color!r}")
        self.controls.settling_health = color

    def set_event_delivery(
        self, drop: float = 0.0, duplicate: float = 0.0, delay_s: float = 0.0, seed: int | None = None
    ) -> None:
        """EventBridge delivery is best effort: drop or duplicate that share of events, send all late."""
        self.controls.delivery = Delivery.chosen(drop, duplicate, delay_s, seed)

    def release_platform_version(self, solution_stack: str) -> None:
        """AWS released this platform version: it becomes its branch's latest, the one before superseded
        (listed no more, refused for new environments the account has not run it in for 30 days)."""
        platform = platforms.from_solution_stack(solution_stack)
        if platform is None:
            raise ValueError(f"not a platform the emulation knows: {solution_stack!r}")
        self.controls.released_platforms[(platform.os, platform.runtime)] = platform

    def set_caller_permissions(self, on: bool) -> None:
        """IAM checks on: UpdateEnvironment's downstream calls are judged against the operations role, or
        the caller's own policies when the environment has none (downstream.py)."""
        self.controls.caller_permissions = on

    def set_version_quota(self, quota: int) -> None:
        self.controls.version_quota = control_numbers.count(
            "the version quota", quota, control_numbers.MAX_VERSION_QUOTA
        )

    def set_throttling(
        self,
        rate: float,
        operations: Sequence[str] = THROTTLED_BY_DEFAULT,
        seed: int | None = None,
    ) -> None:
        """Answer `Throttling` to that share (0..1) of calls to `operations`; rate 0 turns it off."""
        chosen = throttle(rate, operations, seed)
        with self.controls._lock:
            self.controls.throttle = chosen

    def throttled(self, operation: str) -> bool:
        return self.controls.throttled(operation)
