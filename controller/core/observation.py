"""What the shell saw before a reconcile step: plain data, each part fetched only when the step needs it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from controller.core.actions import Action
from controller.core.analysis.metrics import AlarmView, MetricsView


class Need(StrEnum):
    """One kind of observation; the shell fetches each at most once per tick."""

    LEASE = "lease"
    VERSION = "version"
    ENVIRONMENTS = "environments"
    EVENTS = "events"
    HISTORY = "history"  # what earlier deployments' updates took, per environment (newest first)
    INSTANCES = "instances"  # pre-production's instances and the version each runs
    SMOKE = "smoke"  # pre-production through its own CNAME: one round of consecutive checks
    DIRECT = "direct"  # the environment that should be production, through its EndpointURL (no DNS)
    PUBLIC = "public"  # the production name, through DNS (which may still lead to the other one)
    LOAD_BALANCERS = "load_balancers"  # the environments' load balancers the record does not know yet
    METRICS = "metrics"  # CloudWatch's answer to the step's GetMetricData request
    ALARMS = "alarms"  # the states of the analysis' alarms


@dataclass(frozen=True)
class EnvironmentView:
    name: str
    cname: str
    status: str  # Launching | Updating | Ready | Terminating | Terminated | Aborting
    health: str  # Green | Yellow | Red | Grey
    version_label: str | None
    id: str = ""
    date_updated: datetime | None = None  # Beanstalk's last change to the environment
    endpoint_url: str = ""  # its load balancer (or instance) address, which a CNAME swap does not move
    tier: str = "WebServer"  # WebServer | Worker

    @property
    def busy(self) -> bool:
        """An operation is under way (Beanstalk refuses updates and swaps until it is Ready)."""
        return self.status in IN_PROGRESS


IN_PROGRESS = frozenset({"Launching", "Updating", "Aborting"})


@dataclass(frozen=True)
class EventView:
    date: datetime
    severity: str  # TRACE | DEBUG | INFO | WARN | ERROR | FATAL
    message: str
    environment_name: str | None = None
    version_label: str | None = None
    request_id: str | None = None  # the request (e.g. UpdateEnvironment) whose activity wrote it


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
class InstanceView:
    """One instance of an environment and the application version its last deployment left on it
    (DescribeInstancesHealth's `Deployment`)."""

    instance_id: str
    version_label: str | None
    deployment_status: str | None = None  # In Progress | Deployed | Failed


@dataclass(frozen=True)
class PastUpdate:
    """How long an earlier deployment's update of an environment took (its record's `update_s`)."""

    environment: str
    seconds: float


@dataclass(frozen=True)
class HttpCheck:
    """Result of `GET <url>`: status and the JSON `version`, or the transport error."""

    url: str
    status: int | None = None
    version: str | None = None
    error: str | None = None
    body: str | None = None  # the answer's first bytes (what a failure digest quotes)


class ActionOutcome(StrEnum):
    DONE = "done"  # AWS accepted it
    UNKNOWN = "unknown"  # no answer (5xx, timeout): it may have happened; the next tick looks
    NOT_DONE = "not_done"  # refused for now (busy, throttled): nothing happened; ask again later
    REFUSED = "refused"  # a definite refusal: asking again changes nothing


@dataclass(frozen=True)
class ActionResult:
    """What performing an action answered, fed back to the reconcile step that decided it."""

    action: Action
    outcome: ActionOutcome
    message: str = ""
    request_id: str | None = None  # the AWS RequestId of an accepted call


@dataclass(frozen=True)
class Observed:
    lease: LeaseView | None = None
    version: VersionView | None = None
    environments: tuple[EnvironmentView, ...] | None = None
    events: tuple[EventView, ...] | None = None
    history: tuple[PastUpdate, ...] | None = None
    instances: tuple[InstanceView, ...] | None = None  # of pre-production
    smoke: tuple[HttpCheck, ...] | None = None  # a round: up to SMOKE_PASSES checks, ending at a failure
    direct: HttpCheck | None = None
    public: HttpCheck | None = None
    load_balancers: tuple[tuple[str, str], ...] | None = None  # (environment, LoadBalancer dimension or "")
    metrics: MetricsView | None = None
    alarms: tuple[AlarmView, ...] | None = None  # those that exist, of the names asked
    action_result: ActionResult | None = None
