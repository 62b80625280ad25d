"""Plain data for the pure tests: a deployment at any step, environments, observations."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from controller.core.analysis.metrics import MetricRequest, MetricsView
from controller.core.config import Config
from controller.core.model import STEP_ORDER, Deployment, Status, StepName, StepStatus, new_deployment
from controller.core.observation import EnvironmentView, EventView, HttpCheck, LeaseView, Observed

SKIPPED_AUTOMATICALLY = (StepName.PROMOTE, StepName.BAKE)

T0 = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)
REGION = "us-east-1"
PROD_CNAME = f"shop.{REGION}.elasticbeanstalk.com"
BLUE_CNAME = f"shop-blue.{REGION}.elasticbeanstalk.com"
ENDPOINTS = {
    "shop-blue": "awseb-blue.us-east-1.elb.amazonaws.com",
    "shop-green": "awseb-green.us-east-1.elb.amazonaws.com",
}
OLD = "1.0.41"
CONFIG = Config(
    eb_application="shop",
    prod_cname_prefix="shop",
    artifact_bucket="artifacts",
    deployments_table="deployments",
    reconcile_queue="reconcile",
    signing_secret_param=None,
    signing_secret="s3cret",
    region=REGION,
)
IMAGE, TAG = "docker.io/acme/shop", "1.0.42-3f2a1bc"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def queued() -> Deployment:
    return new_deployment("shop", IMAGE, TAG, None, None, T0)


def running_at(step: StepName, started: datetime = T0, **changes: object) -> Deployment:
    """A running deployment whose earlier steps succeeded and `step` is running."""
    d = dataclasses.replace(queued(), status=Status.RUNNING)
    for name in STEP_ORDER:
        if name is step:
            d = d.with_step(name, status=StepStatus.RUNNING, started_at=started)
            break
        passed = StepStatus.SKIPPED if name in SKIPPED_AUTOMATICALLY else StepStatus.SUCCEEDED
        d = d.with_step(name, status=passed, started_at=T0, finished_at=T0)
    if STEP_ORDER.index(step) > STEP_ORDER.index(StepName.DEPLOY_PREPROD):
        d = dataclasses.replace(
            d,
            preprod_env="shop-green",
            preprod_cname=BLUE_CNAME,
            preprod_endpoint=ENDPOINTS["shop-green"],
            prod_env="shop-blue",
            prod_cname=PROD_CNAME,
            prod_endpoint=ENDPOINTS["shop-blue"],
            previous_label=OLD,
            deploy_requested_at=T0,
            update_requests=1,
        )
    return dataclasses.replace(d, **changes)  # type: ignore[arg-type]


def env(
    name: str,
    cname: str,
    status: str = "Ready",
    health: str = "Green",
    label: str | None = OLD,
    tier: str = "WebServer",
) -> EnvironmentView:
    return EnvironmentView(
        name=name,
        cname=cname,
        status=status,
        health=health,
        version_label=label,
        endpoint_url=ENDPOINTS.get(name, f"awseb-{name}.elb.amazonaws.com"),
        tier=tier,
    )


def before_swap(green_status: str = "Ready", green_health: str = "Green", green_label: str | None = TAG):
    """Production shop-blue on the old version, pre-production shop-green in the given state."""
    return (
        env("shop-blue", PROD_CNAME),
        env("shop-green", BLUE_CNAME, green_status, green_health, green_label),
    )


def after_swap(blue_status: str = "Ready", green_status: str = "Ready") -> tuple[EnvironmentView, ...]:
    return (env("shop-blue", BLUE_CNAME, blue_status), env("shop-green", PROD_CNAME, green_status, label=TAG))


def changed_at(seconds: float, environments: tuple[EnvironmentView, ...]) -> tuple[EnvironmentView, ...]:
    """The environments as DescribeEnvironments shows them after a change (a swap) `seconds` into the test."""
    return tuple(dataclasses.replace(e, date_updated=at(seconds)) for e in environments)


def observed(**parts: object) -> Observed:
    return Observed(**parts)  # type: ignore[arg-type]


def lease(holder: str | None = None, expires: datetime | None = None, newest: str | None = None) -> LeaseView:
    return LeaseView(holder=holder, expires_at=expires, newest_id=newest)


def error_event(
    seconds: float,
    message: str = "Failed to deploy application.",
    env_name: str | None = "shop-green",
    label: str | None = TAG,
    request_id: str | None = None,
) -> EventView:
    return EventView(
        date=at(seconds),
        severity="ERROR",
        message=message,
        environment_name=env_name,
        version_label=label,
        request_id=request_id,
    )


def health(status: int | None = 200, version: str | None = TAG, error: str | None = None) -> HttpCheck:
    return HttpCheck(url="http://x/health", status=status, version=version, error=error)


def unreachable() -> HttpCheck:
    return health(None, None, "unreachable (connection refused)")


# --- the load balancers and their CloudWatch metrics -------------------------------------------------------

LOAD_BALANCERS = {
    "shop-blue": "app/awseb-AWSEB-1BLUE0000000/0123456789abcdef",
    "shop-green": "app/awseb-AWSEB-1GREEN000000/fedcba9876543210",
}


def known_load_balancers(d: Deployment, **changes: str) -> Deployment:
    """The deployment with both environments' load balancers looked up (`changes`: env name -> dimension)."""
    found = {**LOAD_BALANCERS, **{name.replace("_", "-"): value for name, value in changes.items()}}
    return dataclasses.replace(d, load_balancers=tuple(sorted(found.items())))


def load_balancers_seen(**changes: str) -> tuple[tuple[str, str], ...]:
    """What DescribeEnvironmentResources answered for both environments."""
    found = {**LOAD_BALANCERS, **{name.replace("_", "-"): value for name, value in changes.items()}}
    return tuple(sorted(found.items()))


def answered(request: MetricRequest | None, **points: dict[float, float]) -> MetricsView:
    """CloudWatch's answer to `request`: each query id's datapoints, by seconds after T0."""
    assert request is not None, "no request to answer"
    series = tuple(
        (query.id, tuple(sorted((at(s), v) for s, v in points.get(query.id, {}).items())))
        for query in request.queries
    )
    return MetricsView(request, series)
