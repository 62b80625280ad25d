"""What the shell saw before a reconcile step: plain data, each part fetched only when the step needs it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Need(StrEnum):
    """One kind of observation; the shell fetches each at most once per tick."""

    LEASE = "lease"
    VERSION = "version"
    ENVIRONMENTS = "environments"
    EVENTS = "events"
    SMOKE = "smoke"
    VERIFY = "verify"


@dataclass(frozen=True)
class EnvironmentView:
    name: str
    cname: str
    status: str  # Launching | Updating | Ready | Terminating | Terminated | Aborting
    health: str  # Green | Yellow | Red | Grey
    version_label: str | None
    id: str = ""
    date_updated: datetime | None = None  # Beanstalk's last change to the environment


@dataclass(frozen=True)
class EventView:
    date: datetime
    severity: str  # TRACE | DEBUG | INFO | WARN | ERROR | FATAL
    message: str
    environment_name: str | None = None
    version_label: str | None = None


@dataclass(frozen=True)
class LeaseView:
    """The application's single-flight lease and the newest notification received."""

    holder: str | None
    expires_at: datetime | None
    newest_id: str | None
    last_succeeded_id: str | None = None

    def held_by_other(self, deployment_id: str, now: datetime) -> bool:
        return (
            self.holder is not None
            and self.holder != deployment_id
            and (self.expires_at is None or self.expires_at > now)
        )


@dataclass(frozen=True)
class VersionView:
    """The Beanstalk application version named by the deployment's label (exists=False when absent)."""

    exists: bool
    image: str | None = None


@dataclass(frozen=True)
class HttpCheck:
    """Result of `GET <url>`: status and the JSON `version`, or the transport error."""

    url: str
    status: int | None = None
    version: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class ActionFailure:
    """An action the shell performed was refused by AWS (not a transient error)."""

    action: str
    message: str


@dataclass(frozen=True)
class Observed:
    lease: LeaseView | None = None
    version: VersionView | None = None
    environments: tuple[EnvironmentView, ...] | None = None
    events: tuple[EventView, ...] | None = None
    smoke: HttpCheck | None = None
    verify: HttpCheck | None = None
    action_failure: ActionFailure | None = None
