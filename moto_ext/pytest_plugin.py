"""A pytest plugin: moto with the Elastic Beanstalk deployment API, for any test suite.

    pytest -p moto_ext.pytest_plugin [--eb-fault NAME ...]

Fixtures (each an `Emulation`: `.backend` with its in-process controls, `.session`, `.client(service)`):
    eb_aws          moto's `mock_aws` with the extension installed, in this process; boto3 clients made
                    anywhere in the test reach it (AWS_ENDPOINT_URL and AWS_PROFILE are unset).
    eb_server       moto's server with the extension on 127.0.0.1 (`moto_ext.server`), one per test session,
                    reset before and after each test; `.endpoint_url`, `.controls` (the HTTP controls), and
                    AWS_ENDPOINT_URL, fake credentials and the region set for the test's own clients.
    eb_server_url   the session's server URL, shared and never reset (for a suite that manages state itself).

`--eb-fault NAME` (repeatable) arms that fault of the catalogue (`moto_ext.Fault`) in `eb_aws` and
`eb_server` for every test, as `python -m sandbox up --fault` does: a one-shot fault (busy, mutation-5xx)
hits once per new application version. An unknown name stops the run before any test, listing the names.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws

from moto_ext.control_client import ControlClient
from moto_ext.elasticbeanstalk import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, BeanstalkBackend, Fault, backend
from moto_ext.installation import install
from moto_ext.server import start_server

FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}  # moto takes any
_FAULTS = pytest.StashKey[tuple[Fault, ...]]()


@dataclass
class Emulation:
    """One test's emulated AWS. `endpoint_url` is None in-process (`eb_aws`), the server's URL otherwise."""

    endpoint_url: str | None = None
    account_id: str = DEFAULT_ACCOUNT_ID
    region: str = DEFAULT_REGION
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)

    @property
    def backend(self) -> BeanstalkBackend:
        """The extended Elastic Beanstalk backend (looked up each time: moto's reset replaces it)."""
        return backend(self.account_id, self.region)

    @property
    def session(self) -> boto3.session.Session:
        return _session(self.region)

    def client(self, service: str, region: str | None = None) -> Any:
        """A boto3 client of this emulation (kept for the test: making clients is the slow part)."""
        key = (service, region or self.region)
        if key not in self._clients:
            self._clients[key] = _session(key[1]).client(service, endpoint_url=self.endpoint_url)
        return self._clients[key]

    @property
    def controls(self) -> ControlClient:
        """The HTTP controls (`/moto-api/beanstalk/...`) of a served emulation."""
        if self.endpoint_url is None:
            raise RuntimeError("eb_aws runs in this process: use .backend's controls (set_fault, ...)")
        return ControlClient(self.endpoint_url)

    @property
    def environ(self) -> dict[str, str]:
        """Environment variables that point a process's AWS clients (a CLI, a subprocess) here."""
        found = {**FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": self.region}
        return found if self.endpoint_url is None else {**found, "AWS_ENDPOINT_URL": self.endpoint_url}


@functools.cache
def _session(region: str) -> boto3.session.Session:
    """One session per region for the whole run: loading botocore's models per client is what costs time.
    moto's hook into botocore is in every session made after moto is imported; mock_aws switches it."""
    return boto3.session.Session(
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=region,
    )


# ----- the command line ---------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("moto_ext", "Elastic Beanstalk emulation (moto_ext)")
    group.addoption(
        "--eb-fault",
        action="append",
        default=[],
        metavar="NAME",
        help="arm this fault of the Beanstalk emulation in eb_aws and eb_server for every test "
        "(repeatable): " + ", ".join(fault.value for fault in Fault),
    )


def pytest_configure(config: pytest.Config) -> None:
    chosen = []
    for name in config.getoption("eb_fault", default=None) or []:
        try:
            chosen.append(Fault.named(name))
        except ValueError as error:
            raise pytest.UsageError(f"--eb-fault: {error}") from None
    config.stash[_FAULTS] = tuple(chosen)


def pytest_report_header(config: pytest.Config) -> str | None:
    faults = config.stash.get(_FAULTS, ())
    if not faults:
        return None
    return "moto_ext: armed in eb_aws and eb_server: " + ", ".join(fault.value for fault in faults)


# ----- fixtures ---------------------------------------------------------------------------------------------


@pytest.fixture
def eb_faults(pytestconfig: pytest.Config) -> tuple[Fault, ...]:
    """The faults `--eb-fault` armed for this run (empty without it)."""
    return pytestconfig.stash.get(_FAULTS, ())


@pytest.fixture
def eb_aws(monkeypatch: pytest.MonkeyPatch, eb_faults: tuple[Fault, ...]) -> Iterator[Emulation]:
    """moto's mock_aws with the Elastic Beanstalk extension and its CloudFormation types, in this process."""
    emulation = Emulation()
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", emulation.region)
    with mock_aws():
        install()
        for fault in eb_faults:
            emulation.backend.set_fault(fault, every_deployment=True)
        yield emulation


@pytest.fixture(scope="session")
def eb_server_url() -> Iterator[str]:
    """The URL of moto's server with the extension, started once for the session on 127.0.0.1."""
    url, stop = start_server(port=0)
    yield url
    stop()


@pytest.fixture
def eb_server(
    eb_server_url: str, monkeypatch: pytest.MonkeyPatch, eb_faults: tuple[Fault, ...]
) -> Iterator[Emulation]:
    """The session's server, reset for this test, faults armed, this process's AWS clients pointed at it."""
    emulation = Emulation(endpoint_url=eb_server_url)
    controls = emulation.controls
    controls.reset()
    for fault in eb_faults:
        controls.arm(fault)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for name, value in emulation.environ.items():
        monkeypatch.setenv(name, value)
    yield emulation
    controls.reset()
