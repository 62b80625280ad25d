"""What emulation tests share: a fake clock, the AWS handle of one test, polling for background work.

The emulation itself (mock_aws or the served one, reset per test) comes from moto_ext's pytest plugin, as
any project using it gets it (`eb_aws`, `eb_server`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.config import Config

from moto_ext import BeanstalkBackend
from moto_ext.pytest_plugin import Emulation

REGION = "us-east-1"
ACCOUNT = "123456789012"
BUCKET = "deliverypipeline-artifacts"
APP = "deliverypipeline"
STACK = "64bit Amazon Linux 2023 v4.6.0 running Docker"


class FakeClock:
    """A clock a test moves by hand; starts at a fixed UTC instant."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Aws:
    """One test's AWS: clients for the mode under test, the extended backend and a fake clock."""

    mode: str
    emulation: Emulation
    clock: FakeClock = field(default_factory=FakeClock)

    clients: dict[tuple[str, str, int], Any] = field(default_factory=dict)

    @property
    def endpoint_url(self) -> str | None:
        return self.emulation.endpoint_url

    def client(self, service: str, region: str = REGION, retries: int = 1) -> Any:
        """A boto3 client of the mode under test (kept: creating clients is the slow part of a test)."""
        key = (service, region, retries)
        if key not in self.clients:
            self.clients[key] = self.emulation.session.client(
                service,
                region_name=region,
                endpoint_url=self.endpoint_url,
                config=Config(retries={"total_max_attempts": retries, "mode": "standard"}),
            )
        return self.clients[key]

    @property
    def eb(self) -> Any:
        return self.client("elasticbeanstalk")

    @property
    def be(self) -> BeanstalkBackend:
        be = self.emulation.backend
        if be.clock is not self.clock:
            be.clock = self.clock
        return be

    # ----- common arrangements --------------------------------------------------------------------

    def bundle(self, label: str, body: bytes | None = None) -> dict[str, str]:
        key = f"{APP}/{label}.zip"
        self.client("s3").put_object(Bucket=BUCKET, Key=key, Body=body or f"zip of {label}".encode())
        return {"S3Bucket": BUCKET, "S3Key": key}

    def version(self, label: str, body: bytes | None = None) -> dict[str, Any]:
        result = self.eb.create_application_version(
            ApplicationName=APP, VersionLabel=label, SourceBundle=self.bundle(label, body)
        )
        return dict(result["ApplicationVersion"])

    def environment(self, name: str, prefix: str, label: str | None = None) -> dict[str, Any]:
        """Create an environment and let it finish launching; answers CreateEnvironment's description."""
        params: dict[str, Any] = {
            "ApplicationName": APP,
            "EnvironmentName": name,
            "CNAMEPrefix": prefix,
            "SolutionStackName": STACK,
        }
        if label is not None:
            params["VersionLabel"] = label
        created = dict(self.eb.create_environment(**params))
        self.be.advance(name)
        return created

    def describe(self, name: str) -> dict[str, Any]:
        envs = self.eb.describe_environments(EnvironmentNames=[name], IncludeDeleted=False)["Environments"]
        assert len(envs) == 1, envs
        return dict(envs[0])

    def messages(self, **filters: Any) -> list[str]:
        return [event["Message"] for event in self.eb.describe_events(**filters)["Events"]]


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll until `predicate()` holds (for work on background threads); fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail("condition not reached in time")
        time.sleep(0.02)
