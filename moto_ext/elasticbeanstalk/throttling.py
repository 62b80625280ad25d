"""Injected throttling: some calls of chosen operations answer AWS's `Throttling` error, from a seeded RNG."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

THROTTLED_BY_DEFAULT = ("DescribeEnvironments", "DescribeEvents")


@dataclass
class Throttle:
    rate: float
    operations: frozenset[str]
    rng: random.Random

    def hits(self, operation: str) -> bool:
        return operation in self.operations and self.rng.random() < self.rate


def throttle(rate: float, operations: Sequence[str], seed: int | None) -> Throttle | None:
    """The throttle for that rate (0..1) over `operations`; None when the rate is 0."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"throttling rate must be within 0..1, got {rate}")
    if rate == 0:
        return None
    return Throttle(rate, frozenset(operations), random.Random(seed))  # noqa: S311 - not for secrets
