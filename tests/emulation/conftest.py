"""Every emulation test runs twice: under `mock_aws`, and against the in-process moto server over HTTP."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest
from moto import mock_aws

import sandbox.aws
from moto_ext import cloudwatch

from .harness import APP, BUCKET, REGION, Aws

cloudwatch.install()  # the server installs it too; under mock_aws this does


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN", "MOTO_ACCOUNT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    url, stop = sandbox.aws.start(port=0)
    yield url
    stop()


def reset_server(url: str) -> None:
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


@pytest.fixture(params=["mock_aws", "server"])
def aws(request: pytest.FixtureRequest) -> Iterator[Aws]:
    if request.param == "mock_aws":
        with mock_aws():
            yield _arranged(Aws(mode="mock_aws", endpoint_url=None))
    else:
        url = request.getfixturevalue("server_url")
        reset_server(url)
        yield _arranged(Aws(mode="server", endpoint_url=url))
        reset_server(url)


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
