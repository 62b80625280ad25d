"""How an operation ends, as plain data: the state an environment lands in and the events AWS writes.

The life cycle (`lifecycle.py`) applies these; nothing here touches moto, threads or clocks.

A failed deployment (RED) falls back to the previous version label: AWS documents that "if a deployment
fails, the expected version is reset to the version from the most recent successful deployment".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from . import events as texts
from .deploy import Outcome

INSTANCE_ID = "i-0a1b2c3d4e5f60718"
HEALTH_NAMES = {"Green": "Ok", "Yellow": "Warning", "Red": "Severe", "Grey": "Pending"}


@dataclass(frozen=True)
class Note:
    """An event to write about the environment. `monitor`: written by health monitoring, not by the API
    call that started the operation (so it carries no RequestId)."""

    message: str
    severity: str = "INFO"
    version_label: str | None = None
    monitor: bool = False


@dataclass(frozen=True)
class Landing:
    """Where an update leaves the environment: Ready, with this health and version, after these events."""

    health: str
    version_label: str | None
    notes: tuple[Note, ...]


def launched(name: str) -> tuple[Note, ...]:
    return (Note(texts.CREATE_INSTANCES.format(name=name)), Note(texts.CREATE_COMPLETED.format(name=name)))


def initialized(took: timedelta) -> Note:
    """Enhanced health monitoring's first word on a launched environment (AWS's EventBridge example of a
    health status change: "... from Pending to Ok. Initialization completed 1 second ago and took 2
    minutes.")."""
    return Note(texts.INITIALIZED.format(took=_duration(took)), monitor=True)


def _duration(took: timedelta) -> str:
    seconds = max(1, round(took.total_seconds()))
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = round(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def health_changed(before: str, after: str, cause: str | None = None) -> Note:
    """Health monitoring's event for a change of color (Red -> Green is "from Severe to Ok"), with the cause
    when one is known ("Cause messages ... are recorded in events when health issues persist")."""
    severity = {"Red": "WARN", "Yellow": "WARN"}.get(after, "INFO")
    text = texts.HEALTH_TRANSITION.format(before=HEALTH_NAMES[before], after=HEALTH_NAMES[after])
    return Note(f"{text} {cause}" if cause else text, severity, monitor=True)


def update_started(label: str | None) -> tuple[Note, ...]:
    if label is None:
        return (Note(texts.UPDATE_STARTING),)
    return (Note(texts.UPDATE_STARTING, version_label=label), Note(texts.DEPLOYING, version_label=label))


def update_settled(
    outcome: Outcome,
    label: str | None,
    previous: str | None,
    failure: str | None = None,
    unhealthy_after: str | None = None,
) -> Landing | None:
    """The landing of an update to `label` (None: configuration only); None while it stays in progress.

    `failure` is the deploy hook's message, written as the first ERROR event of a failed deployment.
    `unhealthy_after`: the deployment succeeded but health monitoring finds the environment this color
    (Red or Yellow) right after, instances still registering or failing: Ready on the new label.
    """
    if outcome is Outcome.STUCK:
        return None
    if outcome is Outcome.RED:
        return _failed(label, previous, failure)
    if outcome is Outcome.SILENT_ROLLBACK:
        return Landing("Green", previous, (Note(texts.UPDATE_COMPLETED, version_label=label),))
    done = texts.DEPLOYED if label is not None else texts.CONFIG_DEPLOYED
    notes = (Note(done, version_label=label), Note(texts.UPDATE_COMPLETED, version_label=label))
    running = label if label is not None else previous
    if outcome is Outcome.YELLOW:
        return Landing("Yellow", running, (*notes, Note(texts.HEALTH_SET.format(color="YELLOW"), "WARN")))
    if unhealthy_after is not None:
        return Landing(unhealthy_after, running, (*notes, health_changed("Grey", unhealthy_after)))
    return Landing("Green", running, notes)


def update_aborted(label: str | None, previous: str | None) -> Landing:
    """AbortEnvironmentUpdate: back on the previous version, Green."""
    notes = [Note(texts.ABORT_REQUESTED, version_label=label)]
    if label is not None:
        notes.append(Note(texts.ABORTED_DEPLOYMENT, "WARN", label))
    notes.append(Note(texts.ABORT_COMPLETED, version_label=label))
    return Landing("Green", previous, tuple(notes))


def _failed(label: str | None, previous: str | None, failure: str | None) -> Landing:
    red = Note(texts.HEALTH_SET.format(color="RED"), "WARN")
    if label is None:
        return Landing("Red", previous, (Note(texts.CONFIG_FAILED, "ERROR"), red))
    return Landing(
        "Red",
        previous,
        (
            Note(failure or texts.INSTANCE_DEPLOY_FAILED, "ERROR", label),
            Note(texts.COMMAND_FAILED.format(instance=INSTANCE_ID), "ERROR", label),
            Note(texts.DEPLOY_FAILED, "ERROR", label),
            red,
        ),
    )


def swap_started(source: str, destination: str) -> tuple[Note, ...]:
    names = {"source": source, "destination": destination}
    return (Note(texts.SWAP_STARTING), Note(texts.SWAPPING.format(**names)))


def swap_settled(source: str, destination: str, now_pointing: dict[str, str]) -> tuple[Note, ...]:
    """`now_pointing`: each CNAME and the load balancer it points to after the swap."""
    names = {"source": source, "destination": destination}
    return (
        *(Note(texts.SWAP_POINTS.format(cname=cname, endpoint=end)) for cname, end in now_pointing.items()),
        Note(texts.SWAP_COMPLETED.format(**names)),
    )
