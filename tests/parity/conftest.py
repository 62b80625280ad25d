"""The parity suite's fixtures: the target, the run's ledger, the Beanstalk stage, the EventBridge capture
and each test's snapshot.

Against the emulation (the default) the suite starts `python -m sandbox.aws` itself; `--aws` and
`--endpoint-url` choose another target (harness/targets.py). The target is checked before anything is
created, the plan and its cost are printed, and everything the run creates is deleted at the end of the
session, also after a failure, Ctrl-C or SIGTERM (harness/ledger.py).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from tests.prerequisites import unavailable

from .harness import clis
from .harness.beanstalk import Stage
from .harness.emulation import FAST_TIMINGS, Controls, EmulationServer, controls_at
from .harness.eventbridge import EventCapture
from .harness.ledger import Ledger, new_prefix
from .harness.placeholders import Placeholders
from .harness.plan import plan_lines
from .harness.snapshots import Session
from .harness.targets import Refusal, Target, aws_target, emulation_target, endpoint_target

_TARGET = pytest.StashKey[Target]()


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("aws", default=False):
        if config.getoption("endpoint_url", default=None):
            raise pytest.UsageError("--aws and --endpoint-url exclude each other: choose one target")
        try:
            config.stash[_TARGET] = aws_target(os.environ)
        except Refusal as refusal:
            raise pytest.UsageError(f"parity: {refusal}") from None


# Against AWS a test may wait for environments to launch and update (minutes each), far past the suite's
# 300 s per test; the emulation keeps the default.
REMOTE_TIMEOUT_S = 5400


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("aws", default=False) or config.getoption("endpoint_url", default=None):
        for item in items:
            if item.get_closest_marker("parity") is not None:
                item.add_marker(pytest.mark.timeout(REMOTE_TIMEOUT_S))


def _say(config: pytest.Config, line: str) -> None:
    """A line on the terminal at once, past pytest's output capture (the plan, the cleanup)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        print(line, file=sys.stderr, flush=True)
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(line)


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """The target of this run, checked; the emulation is started here and stopped at the end."""
    config = request.config
    server: EmulationServer | None = None
    chosen = config.stash.get(_TARGET, None)
    endpoint = config.getoption("endpoint_url", default=None)
    if chosen is None and endpoint:
        try:
            chosen = endpoint_target(endpoint.rstrip("/"), controls_at(endpoint.rstrip("/")), os.environ)
        except Refusal as refusal:
            pytest.exit(f"parity: {refusal}", returncode=2)
    if chosen is None:
        server = EmulationServer()
        controls = Controls(server.endpoint)
        controls.timings(FAST_TIMINGS)
        chosen = emulation_target(server.endpoint, controls)
    elif chosen.controls is not None:
        chosen.controls.timings(FAST_TIMINGS)
    previous = _interrupt_on_sigterm()
    try:
        yield chosen
    finally:
        signal.signal(signal.SIGTERM, previous)
        if server is not None:
            server.stop()


@pytest.fixture(scope="session")
def ledger(request: pytest.FixtureRequest, target: Target) -> Iterator[Ledger]:
    """The run's prefix and everything created under it; all of it deleted when the session ends."""
    found = Ledger(new_prefix(), say=lambda line: _say(request.config, line))
    for line in plan_lines(target, found.prefix):
        _say(request.config, line)
    try:
        yield found
    finally:
        found.cleanup()


@pytest.fixture(scope="session")
def capture(target: Target, ledger: Ledger) -> EventCapture:
    """Beanstalk's EventBridge events (the rule exists before the stage launches anything)."""
    return EventCapture.start(target, ledger)


@pytest.fixture(scope="session")
def stage(target: Target, ledger: Ledger, capture: EventCapture) -> Stage:
    """The application, its versions (v1, v2, broken) and blue and green, Ready on v1."""
    built = Stage.build(target, ledger)
    built.launch_pair()
    return built


@pytest.fixture
def snapshot(request: pytest.FixtureRequest, target: Target, ledger: Ledger) -> Session:
    config = request.config
    directory: Path = config.getoption("snapshot_dir")
    record = bool(config.getoption("record"))
    provenance: dict[str, Any] | None = None
    if record:
        provenance = {
            "from": "aws" if target.is_aws else f"{target.kind} {target.endpoint_url}",
            "region": target.region,
            "date": datetime.now(UTC).date().isoformat(),
            "client versions": clis.versions(),
        }
    return Session(
        test=f"{Path(str(request.node.fspath)).name}::{request.node.name}",
        path=directory / f"{request.node.name}.json",
        placeholders=Placeholders(prefix=ledger.prefix, region=target.region, account=target.account),
        record=record,
        provenance=provenance,
    )


@pytest.fixture
def beanstalk(stage: Stage, snapshot: Session) -> Stage:
    """The stage, its names shown in the snapshot as <application>, <blue>, <green>, <bundles>."""
    snapshot.name(stage.app, "application")
    snapshot.name(stage.blue, "blue")
    snapshot.name(stage.green, "green")
    snapshot.name(stage.bucket, "bundles")
    return stage


@pytest.fixture
def cli(target: Target, tmp_path: Path) -> clis.Clis:
    """The AWS CLI and the EB CLI against the target, in a project directory of their own."""
    absent = clis.missing()
    if absent:
        unavailable(f"{', '.join(absent)} missing; run `make clients`")
    project = tmp_path / "project"
    project.mkdir()
    home: Path | None = None
    if not target.is_aws:
        home = tmp_path / "home"
        home.mkdir()
    return clis.Clis(target, project, home)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """After a test's body passed, its snapshot holds (or is written, with --record)."""
    result = yield
    session = getattr(item, "funcargs", {}).get("snapshot")
    if isinstance(session, Session):
        session.finish()
    return result


def _interrupt_on_sigterm() -> Any:
    """SIGTERM ends the run as Ctrl-C does, so the ledger still deletes what the run created."""

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, interrupt)
