"""Real Beanstalk's rough edges, by name (CONTRACT.md §3), and how long each lasts on the emulation's clock.

A fault is switched on for the emulation (and a sandbox around it) until it is cleared; `busy` and
`mutation-5xx` then hit the next matching call once and switch themselves off. The names are the same
in-process (`backend.set_fault("busy")`), over HTTP (`/moto-api/beanstalk/faults`), in the pytest plugin
(`--eb-fault busy`) and on this project's sandbox command line (`python -m sandbox up --fault busy`).
`slow-register`, `dns-lag` and `slow-drain` are flags the emulation holds for whoever serves the
environments' traffic (a sandbox's load balancer and DNS), with their timings, and `errors-after-swap` marks
the environment whose users meet errors; the emulation itself answers as usual.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields, replace

from . import control_numbers


class Fault(enum.Enum):
    TRANSIENT_RED = "transient-red"  # Ready on the new label, Red for `health_recovery_s`, then Green
    STAYS_RED = "stays-red"  # Ready on the new label, health Red until the next update
    SLOW_REGISTER = "slow-register"  # the sandbox: the new version answers 502/503 for `register_s`
    DNS_LAG = "dns-lag"  # the sandbox: the old name reaches the old environment for `dns_ttl_s` after a swap
    BUSY = "busy"  # the next UpdateEnvironment or SwapEnvironmentCNAMEs is refused "... Must be Ready." once
    MUTATION_5XX = "mutation-5xx"  # the next UpdateEnvironment or swap takes effect, then answers 500
    VERSION_QUOTA = "version-quota"  # the application version quota is reached: the next version is refused
    THROTTLE = "throttle"  # a share of Describe* calls answer Throttling
    FAILS_AFTER_SWAP = "fails-after-swap"  # the new version fails health once a swap gives it the other CNAME
    ERRORS_AFTER_SWAP = "errors-after-swap"  # ... answers a share of its users' requests 500, health good
    SLOW_DRAIN = "slow-drain"  # the sandbox: some callers keep the old environment `slow_drain_s` past a swap
    # an operation's end goes out on EventBridge at once; DescribeEnvironments shows it `state_lag_s` later
    EVENTS_BEFORE_STATE = "events-before-state"
    # an update to a new version fails partway (an abort stops one partway): some instances keep the new one
    MIXED_VERSIONS = "mixed-versions"
    SCANNER_4XX = "scanner-4xx"  # the internet's scanners: 404s on both environments; health Yellow unless
    # the environment's enhanced health rules ignore HTTP 4xx (settings/health.py)

    @classmethod
    def named(cls, name: str) -> Fault:
        """The fault of that name, or ValueError listing the names there are."""
        for fault in cls:
            if fault.value == name:
                return fault
        known = ", ".join(fault.value for fault in cls)
        raise ValueError(f"unknown fault {name!r}; known faults: {known}")


ONE_SHOT = frozenset({Fault.BUSY, Fault.MUTATION_5XX})
MIXED_FLEET = 5  # mixed-versions: the instances an environment runs ...
MIXED_LEFT = 2  # ... and how many a partway update leaves on the new version
MUTATING_OPERATIONS = frozenset({"UpdateEnvironment", "SwapEnvironmentCNAMEs"})
THROTTLED_SHARE = 0.3  # `throttle`: the share of Describe* calls refused


@dataclass(frozen=True)
class Timings:
    """Seconds on the emulation's clock. The defaults are AWS's orders of magnitude for launching (minutes);
    updates, swaps and terminations settle after `settle_after_s` (seconds, so tests stay short)."""

    launch_s: float = 240.0
    update_s: float = 5.0
    swap_s: float = 5.0
    terminate_s: float = 5.0
    process_s: float = 5.0  # CreateApplicationVersion with Process=true: Processing -> Processed
    health_recovery_s: float = 60.0  # transient-red: Red this long after Ready
    register_s: float = 30.0  # slow-register: 502/503 this long after Ready (the sandbox)
    dns_ttl_s: float = 60.0  # dns-lag: the old target this long after a swap (the sandbox)
    slow_drain_s: float = 300.0  # slow-drain: some callers reach the old target this long after a swap
    metrics_period_s: float = 60.0  # a load balancer publishes its metrics once per period (ELB: a minute)
    state_lag_s: float = 10.0  # events-before-state: DescribeEnvironments this long behind the events

    def with_values(self, values: dict[str, object]) -> Timings:
        """These timings with some replaced; ValueError names an unknown or negative one."""
        known = {field.name for field in fields(self)}
        changes: dict[str, float] = {}
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"unknown timing {name!r}; known timings: {', '.join(sorted(known))}")
            changes[name] = control_numbers.seconds(f"timing {name}", value)
        return replace(self, **changes)


# `python -m sandbox.aws --pace aws`: AWS's own orders of magnitude for a single-instance Docker environment
# (a launch takes minutes - `make provision`'s two environments take about 10 - an update a minute or two,
# a swap seconds, a termination minutes), so a client's waiters meet what they meet on AWS.
AWS_PACE = Timings(
    launch_s=300.0,
    update_s=120.0,
    swap_s=20.0,
    terminate_s=240.0,
    process_s=10.0,
    health_recovery_s=60.0,
    register_s=30.0,
    dns_ttl_s=60.0,
    slow_drain_s=300.0,
    metrics_period_s=60.0,
    state_lag_s=10.0,
)

# `python -m sandbox up --realistic` and `python -m sandbox.aws --pace compressed`: AWS's shape of time,
# compressed so a deploy takes seconds.
REALISTIC = Timings(
    launch_s=3.0,
    update_s=2.0,
    swap_s=1.5,
    terminate_s=1.0,
    process_s=1.0,
    health_recovery_s=3.0,
    register_s=2.0,
    dns_ttl_s=3.0,
    slow_drain_s=8.0,
    metrics_period_s=1.0,
    state_lag_s=1.0,
)

PACES = {"aws": AWS_PACE, "compressed": REALISTIC}  # `python -m sandbox.aws --pace NAME`
