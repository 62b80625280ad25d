"""What a soak runs, decided from its seed before it starts (pure): rounds of deployments, each under one of
the emulation's faults (or none), alone or with others at once, with or without a rollback.

Faults are drawn from a bag holding each fault once and "none" once, refilled when empty, so every run of
`len(Fault) + 1` rounds meets every fault. What a deployment that runs under a fault must end as is
`EXPECTED`: real Beanstalk's rough edges are survived (succeeded), a persistent Red, a refused version or
an update that fails partway (mixed-versions) fails before production is touched, a failure after the swap
is swapped back (rolled_back), whether health shows it or only production's metrics do.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from moto_ext import Fault


class Kind(StrEnum):
    SINGLE = "single"  # one notification
    BURST = "burst"  # several notifications at once: only the newest waiting one runs after a running one
    ROLLBACK = "rollback"  # one notification; once it succeeded, two rollback requests for it at once
    RACE = "race"  # one notification and, at the same moment, the rollback of the last succeeded deployment


KIND_WEIGHTS = {Kind.SINGLE: 4, Kind.BURST: 2, Kind.ROLLBACK: 2, Kind.RACE: 2}
MAX_BURST = 3

EXPECTED: dict[Fault | None, str] = {
    None: "succeeded",
    Fault.TRANSIENT_RED: "succeeded",
    Fault.STAYS_RED: "failed",
    Fault.SLOW_REGISTER: "succeeded",
    Fault.DNS_LAG: "succeeded",
    Fault.BUSY: "succeeded",
    Fault.MUTATION_5XX: "succeeded",
    Fault.VERSION_QUOTA: "failed",
    Fault.THROTTLE: "succeeded",
    Fault.FAILS_AFTER_SWAP: "rolled_back",
    Fault.ERRORS_AFTER_SWAP: "rolled_back",  # health stays good: the metric analysis catches it
    Fault.SLOW_DRAIN: "succeeded",  # the next deployment drains the old production first
    Fault.EVENTS_BEFORE_STATE: "succeeded",  # the quiet wake looks again
    Fault.MIXED_VERSIONS: "failed",  # the update fails partway, before production is touched
    Fault.SCANNER_4XX: "succeeded",  # both environments ignore HTTP 4xx in their health (infra/pipeline.yaml)
}


@dataclass(frozen=True)
class Round:
    number: int
    kind: Kind
    fault: Fault | None
    notifications: int = 1

    @property
    def fault_name(self) -> str:
        return "none" if self.fault is None else self.fault.value


def plan(deployments: int, seed: int) -> list[Round]:
    """Rounds whose notifications add up to `deployments`, the same for the same seed."""
    if deployments < 1:
        raise ValueError(f"a soak needs at least one deployment, got {deployments}")
    rng = random.Random(seed)  # noqa: S311 - a repeatable plan, not a secret
    bag: list[Fault | None] = []
    rounds: list[Round] = []
    left = deployments
    while left > 0:
        if not bag:
            bag = [None, *Fault]
            rng.shuffle(bag)
        kind = rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()))[0]
        notifications = min(left, rng.randint(2, MAX_BURST)) if kind is Kind.BURST else 1
        if notifications == 1 and kind is Kind.BURST:
            kind = Kind.SINGLE
        rounds.append(Round(len(rounds) + 1, kind, bag.pop(), notifications))
        left -= notifications
    return rounds
