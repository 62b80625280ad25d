"""Which state change a deployment has to announce, claimed once (pure).

A deployment announces each of these state changes at most once: `started` (it took the lease and runs),
`awaiting_promotion`, and how it finished: `succeeded`, `failed`, `rolled_back` (`superseded` is recorded
for the metrics only: nobody is told about a notification a newer one replaced). The record lists what it
has announced; a tick claims an announcement by saving the record with it added (a conditional write on the
record's version), and only the tick whose save won sends anything. So two ticks of one message, or a tick
and a request racing it, never announce a change twice; a tick that dies between the save and the sending
loses that announcement (at most once).
"""

from __future__ import annotations

import dataclasses
from enum import StrEnum

from controller.core.model import Deployment, Status


class Event(StrEnum):
    STARTED = "started"
    AWAITING_PROMOTION = "awaiting_promotion"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"
    SUPERSEDED = "superseded"


FINISHING = frozenset({Event.SUCCEEDED, Event.FAILED, Event.ROLLED_BACK, Event.SUPERSEDED})
TOLD = frozenset(Event) - {Event.SUPERSEDED}  # events people are told about (chat, GitHub)
GOES_WRONG = frozenset({Event.FAILED, Event.ROLLED_BACK})  # the digest says why

_BY_STATUS = {
    Status.RUNNING: Event.STARTED,
    Status.AWAITING_PROMOTION: Event.AWAITING_PROMOTION,
    Status.SUCCEEDED: Event.SUCCEEDED,
    Status.FAILED: Event.FAILED,
    Status.ROLLED_BACK: Event.ROLLED_BACK,
    Status.SUPERSEDED: Event.SUPERSEDED,
}


def due(d: Deployment) -> Event | None:
    """The state change the record calls for and has not announced yet (None: nothing to announce). A
    deployment that runs again after its promotion has announced `started` already."""
    event = _BY_STATUS.get(d.status)
    if event is None or event.value in d.announced:
        return None
    return event


def claim(d: Deployment, event: Event, digest: str | None = None) -> Deployment:
    """The record with `event` announced (and the digest of a failure); saved before anything is sent."""
    return dataclasses.replace(
        d, announced=(*d.announced, event.value), digest=digest if digest is not None else d.digest
    )


def finishes_first(d: Deployment, event: Event) -> bool:
    """Whether `event` is the deployment's first way of finishing (a rollback of a succeeded deployment is
    announced, but it finished when it succeeded: its outcome is counted once)."""
    if event not in FINISHING:
        return False
    earlier = [e for e in d.announced if e != event.value]
    return not any(Event(e) in FINISHING for e in earlier if e in Event._value2member_map_)
