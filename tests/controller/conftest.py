"""Controller tests run offline: moto with the Beanstalk emulation, the app through chalice.test.Client."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from controller_harness import World, process_environment
from moto import mock_aws
from receiver import GITHUB_TOKEN, Receiver, receiving

from controller.shell import logline, runtime


@pytest.fixture(autouse=True)
def lambda_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in (
        "AWS_ENDPOINT_URL",
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "SIGNING_SECRET",
        "HTTP_PROXY",
        "http_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in process_environment().items():
        monkeypatch.setenv(name, value)
    runtime.install(None)
    yield
    runtime.install(None)


@pytest.fixture
def controller_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The controller's JSON lines (its logger writes bare JSON to stdout and does not propagate)."""
    log = logging.getLogger(logline.LOGGER)
    log.addHandler(caplog.handler)
    yield caplog
    log.removeHandler(caplog.handler)


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        yield World()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """GitHub's REST API and a chat webhook on loopback (tests/controller/receiver.py)."""
    yield from receiving()


@pytest.fixture
def told_world(receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """A world whose controller tells GitHub and the chat (both the receiver) about its deployments."""
    monkeypatch.setenv("GITHUB_API_URL", receiver.url)
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    monkeypatch.setenv("CHAT_WEBHOOK_URL", receiver.chat_url)
    with mock_aws():
        yield World()
