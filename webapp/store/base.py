"""The store port: what the web app needs from its database, and the plain data it gets back.

What an answer means (each adapter's module says how it keeps it):
- `count_call` returning: the call is durably stored, counted once, and the state returned is the one right
  after its own increment.
- `StoreUnavailable`: nothing was counted, with one exception an adapter names: MongoDB's answer lost on the
  network after the server applied the write (the outcome is unknown to the app).
- An adapter that can no longer vouch for what it already committed (SQLite: the log's sync failed after
  the commit) answers nothing at all: it calls its `on_lost_durability` hook, which in the server stops the
  process without answering, so no call it committed is ever answered as an error.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

MAX_DEPLOYS = 10


@dataclass(frozen=True)
class Deploy:
    """Version `version` first started on host `hostname` at `deployed_at` (tz-aware UTC)."""

    version: str
    hostname: str
    deployed_at: datetime


@dataclass(frozen=True)
class State:
    """Everything the page shows that lives in the store."""

    calls_by_version: Mapping[str, int] = field(default_factory=dict)
    deploys: tuple[Deploy, ...] = ()  # newest first, at most MAX_DEPLOYS

    @property
    def calls(self) -> int:
        return sum(self.calls_by_version.values())


def each_callers_state(after: State, items: Sequence[str | None]) -> list[State | None]:
    """The state each caller of a batch saw right after its own increment, from the state after the whole
    batch (its increments applied at once, in order): the answers of a group commit. An item is the version
    of a counted call, or None for a write that counts nothing (its answer is None)."""
    calls = dict(after.calls_by_version)
    for version, n in Counter(item for item in items if item is not None).items():
        calls[version] -= n
    answers: list[State | None] = []
    for item in items:
        if item is None:
            answers.append(None)
            continue
        calls[item] += 1
        answers.append(State(calls_by_version=dict(calls), deploys=after.deploys))
    return answers


class StoreUnavailable(Exception):
    """The store did not answer (down, unreachable, timed out); nothing was counted or recorded."""


class Store(Protocol):
    def count_call(self, version: str) -> State:
        """Counts one call served by `version` in one atomic database operation; returns the state after it.

        Returning means the call is durably stored."""
        ...

    def record_deploy(self, deploy: Deploy) -> None:
        """Records the first start of `deploy.version`; a later record of the same version changes nothing."""
        ...

    def read_state(self) -> State:
        """The current state, without counting."""
        ...

    def probe_write(self) -> None:
        """Makes one durable write through the same path as a count, to a health record that is never
        counted; raises StoreUnavailable when it cannot (what `/health` asks when no call came lately)."""
        ...

    def close(self) -> None:
        """Releases connections; the store is not used afterwards."""
        ...
