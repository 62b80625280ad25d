"""A deployment record: plain frozen data, changed only by returning new copies."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Status(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    AWAITING_PROMOTION = "awaiting_promotion"  # held after the smoke test until promoted, aborted or expired
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SUPERSEDED = "superseded"
    ROLLED_BACK = "rolled_back"


TERMINAL = frozenset({Status.SUCCEEDED, Status.FAILED, Status.SUPERSEDED, Status.ROLLED_BACK})
HOLDING_LEASE = frozenset({Status.RUNNING, Status.AWAITING_PROMOTION})

_STATUS_PHRASES = {
    Status.QUEUED: "is queued",
    Status.RUNNING: "is running",
    Status.AWAITING_PROMOTION: "is awaiting promotion",
    Status.SUCCEEDED: "has succeeded",
    Status.FAILED: "has failed",
    Status.SUPERSEDED: "was superseded by a newer notification",
    Status.ROLLED_BACK: "was rolled back",
}


def status_phrase(status: Status) -> str:
    """The status as the end of a sentence about a deployment ("deployment d-1 has failed")."""
    return _STATUS_PHRASES[status]


class Promotion(StrEnum):
    AUTO = "auto"  # the swap follows a passed smoke test at once
    MANUAL = "manual"  # held in awaiting_promotion until POST /deployments/{id}/promote


class StepName(StrEnum):
    CREATE_VERSION = "create_version"
    DRAIN = "drain"  # pre-production (the previous production) no longer receives production's traffic
    DEPLOY_PREPROD = "deploy_preprod"
    WAIT_READY = "wait_ready"
    SMOKE_TEST = "smoke_test"
    PROMOTE = "promote"
    SWAP = "swap"
    VERIFY = "verify"
    BAKE = "bake"


STEP_ORDER: tuple[StepName, ...] = tuple(StepName)


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"  # does not apply to this deployment (automatic promotion, BAKE_S=0)
    ROLLED_BACK = "rolled_back"  # the swap, undone after a failure in production


PASSED = frozenset({StepStatus.SUCCEEDED, StepStatus.SKIPPED})


@dataclass(frozen=True)
class Step:
    name: StepName
    status: StepStatus = StepStatus.PENDING
    started_at: datetime | None = None
    finished_at: datetime | None = None
    detail: str | None = None


@dataclass(frozen=True)
class SwapBack:
    """Production failed after the swap: the controller swaps it back to the previous environment."""

    reason: str
    started_at: datetime
    requested_at: datetime | None = None  # SwapEnvironmentCNAMEs sent (saved before the call)
    back_at: datetime | None = None  # first seen back on the previous environment, both Ready
    by_request: bool = False  # a rollback asked for (POST .../rollback), not the controller's own decision


@dataclass(frozen=True)
class Baseline:
    """The previous version's TargetResponseTime at the latency check's percentile over its last hour as
    production (None: it served no request then), and how many requests it served in that hour."""

    latency_s: float | None
    requests: int


@dataclass(frozen=True)
class Deployment:
    id: str
    application: str
    image: str
    tag: str
    version_label: str
    created_at: datetime
    updated_at: datetime
    commit: str | None = None
    build_url: str | None = None
    promotion: Promotion = Promotion.AUTO
    attempt: int = 1  # 1, then 2, 3... for each redeploy of the same image and tag
    status: Status = Status.QUEUED
    steps: tuple[Step, ...] = tuple(Step(name) for name in STEP_ORDER)
    preprod_env: str | None = None
    prod_env: str | None = None
    preprod_cname: str | None = None
    prod_cname: str | None = None
    preprod_endpoint: str | None = None  # EndpointURL: the environment itself, whatever DNS says
    prod_endpoint: str | None = None
    previous_label: str | None = None
    error: str | None = None
    failure_events: tuple[str, ...] = ()
    deploy_requested_at: datetime | None = None  # UpdateEnvironment sent (None: refused, to send again)
    update_request_id: str | None = None  # its RequestId, when its answer arrived
    update_requests: int = 0  # UpdateEnvironment calls that may have taken effect
    preprod_ready_at: datetime | None = None  # first seen Ready on the new label (health grace starts)
    expected_update_s: float | None = None  # what pre-production's past updates took (steps.update_polls)
    update_spread_s: float = 0.0  # ... and how much they varied
    update_s: float | None = None  # what this deployment's update took, once it landed on the new label
    verify_failures: int = 0  # consecutive failed direct checks of the new production environment
    promoted_at: datetime | None = None  # POST .../promote accepted (manual promotion)
    abort_requested_at: datetime | None = None  # POST .../abort accepted: the next tick ends it failed
    bake_failures: int = 0  # consecutive checks that found production degraded during the bake
    swap_requested_at: datetime | None = None
    swap_back: SwapBack | None = None
    load_balancers: tuple[tuple[str, str], ...] = ()  # (environment, its CloudWatch LoadBalancer dimension;
    # "" when it has no Application Load Balancer), as DescribeEnvironmentResources named them
    baseline: Baseline | None = None  # the previous version's latency, measured once after the swap
    analysis_at: datetime | None = None  # the last metric analysis (the bake analyses once per period)
    chain: str | None = None  # the tick chain that drives this deployment since it took the lease
    # Where people are (announcements.py): the GitHub repository of `commit`, the controller's URL the
    # notification came through (one-click links point there), why it failed, the state changes announced
    # (claimed by the save that added them), the GitHub deployment made for it, and deliveries that failed.
    repository: str | None = None
    controller_url: str | None = None
    digest: str | None = None
    announced: tuple[str, ...] = ()
    github_deployment_id: int | None = None
    warnings: tuple[str, ...] = ()
    record_version: int = 0

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL

    @property
    def holds_lease(self) -> bool:
        return self.status in HOLDING_LEASE

    @property
    def current_step(self) -> Step | None:
        """The first step that has neither succeeded nor been skipped (None once all have)."""
        return next((s for s in self.steps if s.status not in PASSED), None)

    def step(self, name: StepName) -> Step:
        return next(s for s in self.steps if s.name is name)

    def load_balancer(self, environment: str | None) -> str | None:
        """The LoadBalancer dimension of `environment` ("" when it has none; None when not looked up yet)."""
        return next((dimension for name, dimension in self.load_balancers if name == environment), None)

    def with_step(self, name: StepName, **changes: object) -> Deployment:
        steps = tuple(dataclasses.replace(s, **changes) if s.name is name else s for s in self.steps)  # type: ignore[arg-type]
        return dataclasses.replace(self, steps=steps)


ID_PATTERN = re.compile(r"d-[0-9a-f]{16}")


def deployment_id(image: str, tag: str, attempt: int = 1) -> str:
    """Deterministic id: the same image, tag and attempt always name the same deployment, so a POST sent
    twice finds the deployment the first one made. Attempt 1 is the first deployment of an image and tag,
    attempt n its (n-1)th redeploy."""
    name = f"{image}:{tag}" if attempt == 1 else f"{image}:{tag}#{attempt}"
    return "d-" + hashlib.sha256(name.encode()).hexdigest()[:16]


def is_deployment_id(text: str) -> bool:
    """Whether `text` has the shape of an id this controller makes (anything else names no deployment)."""
    return ID_PATTERN.fullmatch(text) is not None


def new_deployment(
    application: str,
    image: str,
    tag: str,
    commit: str | None,
    build_url: str | None,
    now: datetime,
    promotion: Promotion = Promotion.AUTO,
    attempt: int = 1,
    repository: str | None = None,
    controller_url: str | None = None,
) -> Deployment:
    return Deployment(
        id=deployment_id(image, tag, attempt),
        application=application,
        image=image,
        tag=tag,
        version_label=version_label(tag),
        created_at=now,
        updated_at=now,
        commit=commit,
        build_url=build_url,
        promotion=promotion,
        attempt=attempt,
        repository=repository,
        controller_url=controller_url,
    )


def version_label(tag: str) -> str:
    """The Beanstalk version label is the image tag itself: the web app reports its tag as its version,
    and the smoke test compares the two. The tag grammar (≤100 chars here, no '/') keeps it a valid label."""
    return tag
