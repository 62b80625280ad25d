"""Every emulation test runs twice: under `mock_aws` (`eb_aws`), and against the in-process moto server over
HTTP (`eb_server`), both from moto_ext's pytest plugin (loaded by pyproject's addopts as a stranger would)."""

from __future__ import annotations

import pytest

from .harness import APP, BUCKET, REGION, Aws


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN", "MOTO_ACCOUNT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


@pytest.fixture(params=["mock_aws", "server"])
def aws(request: pytest.FixtureRequest) -> Aws:
    emulation = request.getfixturevalue("eb_aws" if request.param == "mock_aws" else "eb_server")
    return _arranged(Aws(mode=request.param, emulation=emulation))


def _arranged(aws: Aws) -> Aws:
    aws.client("s3").create_bucket(Bucket=BUCKET)
    aws.eb.create_application(ApplicationName=APP)
    assert aws.be.clock is aws.clock
    return aws


@pytest.fixture
def pair(aws: Aws) -> Aws:
    """blue-env (production, app-prod) and green-env (pre-production, app-pre) Ready on v1; v2 registered."""
    aws.version("v1")
    aws.version("v2")
    aws.environment("blue-env", "app-prod", "v1")
    aws.environment("green-env", "app-pre", "v1")
    return aws
