"""A deployment record: plain frozen data, changed only by returning new copies."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Status(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SUPERSEDED = "superseded"
    ROLLED_BACK = "rolled_back"


TERMINAL = frozenset({Status.SUCCEEDED, Status.FAILED, Status.SUPERSEDED, Status.ROLLED_BACK})


class StepName(StrEnum):
    CREATE_VERSION = "create_version"
    DEPLOY_PREPROD = "deploy_preprod"
    WAIT_READY = "wait_ready"
    SMOKE_TEST = "smoke_test"
    SWAP = "swap"
    VERIFY = "verify"


STEP_ORDER: tuple[StepName, ...] = tuple(StepName)


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class Step:
    name: StepName
    status: StepStatus = StepStatus.PENDING
    started_at: datetime | None = None
    finished_at: datetime | None = None
    detail: str | None = None


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
    status: Status = Status.QUEUED
    steps: tuple[Step, ...] = tuple(Step(name) for name in STEP_ORDER)
    preprod_env: str | None = None
    prod_env: str | None = None
    preprod_cname: str | None = None
    prod_cname: str | None = None
    previous_label: str | None = None
    error: str | None = None
    failure_events: tuple[str, ...] = ()
    deploy_requested_at: datetime | None = None
    swap_requested_at: datetime | None = None
    chain: str | None = None  # the tick chain that drives this deployment since it took the lease
    record_version: int = 0

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL

    @property
    def current_step(self) -> Step | None:
        """The first step that has not succeeded (None once all have)."""
        return next((s for s in self.steps if s.status is not StepStatus.SUCCEEDED), None)

    def step(self, name: StepName) -> Step:
        return next(s for s in self.steps if s.name is name)

    def with_step(self, name: StepName, **changes: object) -> Deployment:
        steps = tuple(dataclasses.replace(s, **changes) if s.name is name else s for s in self.steps)  # type: ignore[arg-type]
        return dataclasses.replace(self, steps=steps)


def deployment_id(image: str, tag: str) -> str:
    """Deterministic id: the same image and tag always name the same deployment (idempotent POST)."""
    return "d-" + hashlib.sha256(f"{image}:{tag}".encode()).hexdigest()[:16]


def new_deployment(
    application: str, image: str, tag: str, commit: str | None, build_url: str | None, now: datetime
) -> Deployment:
    return Deployment(
        id=deployment_id(image, tag),
        application=application,
        image=image,
        tag=tag,
        version_label=version_label(tag),
        created_at=now,
        updated_at=now,
        commit=commit,
        build_url=build_url,
    )


def version_label(tag: str) -> str:
    """The Beanstalk version label is the image tag itself: the web app reports its tag as its version,
    and the smoke test compares the two. The tag grammar (≤100 chars here, no '/') keeps it a valid label."""
    return tag
