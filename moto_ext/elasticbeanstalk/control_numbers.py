"""The numbers the controls take (timings, clock steps, delays, quotas): finite and within bounds.

JSON has no NaN or Infinity, but Python's parser accepts both, and a clock moved by 3e11 s overflows every
date the emulation writes (each later answer would be a 500). So every number a control takes, in-process
or over HTTP, is checked here first; a bad one is a ValueError naming it (400 over HTTP), and nothing
changes.
"""

from __future__ import annotations

import math
from datetime import datetime

MAX_SECONDS = 30 * 86400.0  # a timing or an event delay: at most 30 days
MAX_CLOCK_STEP_S = 100 * 365 * 86400.0  # one move of the clock: at most about a century
LATEST_CLOCK = datetime(9000, 1, 1)  # the clock never goes past this (dates up to 9999 stay representable)
MAX_VERSION_QUOTA = 1_000_000


def seconds(name: str, value: object, maximum: float = MAX_SECONDS) -> float:
    """`value` as seconds, or ValueError naming `name` and what is wrong."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number of seconds >= 0, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number of seconds, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be a number of seconds >= 0, got {value!r}")
    if value > maximum:
        raise ValueError(f"{name} must be at most {maximum:g} s, got {value:g}")
    return float(value)


def clock_reachable(now: datetime, step_s: float) -> None:
    """ValueError when moving the clock from `now` by `step_s` would leave the dates AWS could answer."""
    latest = LATEST_CLOCK.replace(tzinfo=now.tzinfo)
    if (latest - now).total_seconds() < step_s:
        raise ValueError(
            f"advance_s={step_s:g} would move the emulation's clock past {latest.date().isoformat()} "
            f"(it is {now.isoformat()})"
        )


def count(name: str, value: object, maximum: int) -> int:
    """`value` as a whole number within 0..maximum, or ValueError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if not 0 <= value <= maximum:
        raise ValueError(f"{name} must be at least 0 and at most {maximum}, got {value}")
    return value
