"""The controller survives each of real Beanstalk's rough edges, end to end: the emulation's own fault
(switched on over its HTTP control surface, not injected), the controller in its own process polling the
queue, the web app behind the CNAME front, production traffic throughout, as `sandbox up --realistic` runs
it. Each test is one round of the soak (`sandbox.soak.runner`): its invariants must all hold and the
deployment must end as the fault allows (`sandbox.soak.plan.EXPECTED`). A persistent Red and a failure after
the swap are tested through `python -m sandbox up --realistic --fault NAME` itself (test_rough_edges.py);
rollbacks racing notifications, by the short soak (test_soak.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from followed_process import Progress

from moto_ext import Fault
from sandbox.soak.plan import EXPECTED, Kind, Round
from sandbox.soak.runner import Soak
from sandbox.stack import Options, Stack

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def soak(progress: Progress) -> Iterator[Soak]:
    with Stack(Options(realistic=True), report=progress) as stack:
        stack.start()
        with Soak(stack, report=progress) as soak:
            yield soak
            summary = soak.finish()
        assert summary.counts_exact, summary.violations
        assert summary.prod_failed_calls == 0


def _step(record: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in record["steps"] if s["name"] == name)


def _updates_started(soak: Soak, since: Any) -> int:
    events = soak.eb.describe_events(ApplicationName=soak.info.application, StartTime=since)["Events"]
    return sum(1 for e in events if e["Message"] == "Environment update is starting.")


SURVIVED = [
    Fault.TRANSIENT_RED,
    Fault.SLOW_REGISTER,
    Fault.DNS_LAG,
    Fault.BUSY,
    Fault.THROTTLE,
    Fault.EVENTS_BEFORE_STATE,
    Fault.SCANNER_4XX,
]


@pytest.mark.parametrize("fault", SURVIVED, ids=[f.value for f in SURVIVED])
def test_the_deployment_survives_the_fault_and_production_never_notices(soak: Soak, fault: Fault) -> None:
    result, violations = soak.play(Round(1, Kind.SINGLE, fault))
    [record] = result.records
    assert violations == []
    assert record["status"] == EXPECTED[fault] == "succeeded", record["error"]
    assert result.swaps == 1
    assert result.served_after == record["version_label"]


def test_every_fault_is_tested_here_or_through_up_fault() -> None:
    through_up = {Fault.STAYS_RED, Fault.FAILS_AFTER_SWAP}
    here = {*SURVIVED, Fault.MUTATION_5XX, Fault.VERSION_QUOTA, Fault.MIXED_VERSIONS}
    assert here | through_up == set(Fault)


def test_a_mutation_answered_500_is_never_sent_again(soak: Soak) -> None:
    """mutation-5xx: UpdateEnvironment takes effect and answers 500; the controller looks instead of asking
    again (a second request would be a second update), and the swap too is made once."""
    since = datetime.now(UTC)
    result, violations = soak.play(Round(1, Kind.SINGLE, Fault.MUTATION_5XX))
    [record] = result.records
    assert violations == [] and record["status"] == "succeeded", record["error"]
    assert _updates_started(soak, since) == 1
    assert result.swaps == 1


def test_a_refused_version_fails_before_production_is_touched(soak: Soak) -> None:
    result, violations = soak.play(Round(1, Kind.SINGLE, Fault.VERSION_QUOTA))
    [record] = result.records
    assert violations == []
    assert record["status"] == EXPECTED[Fault.VERSION_QUOTA] == "failed"
    assert _step(record, "create_version")["status"] == "failed"
    assert "TooManyApplicationVersions" in record["error"]
    assert result.swaps == 0 and result.served_after == result.served_before


def test_an_update_failing_partway_fails_before_production_and_says_pre_production_is_not_clean(
    soak: Soak,
) -> None:
    """mixed-versions: the update fails partway, some instances keep the new version; the deployment fails
    before production is touched, and its record warns that pre-production is not clean."""
    result, violations = soak.play(Round(1, Kind.SINGLE, Fault.MIXED_VERSIONS))
    [record] = result.records
    assert violations == []
    assert record["status"] == EXPECTED[Fault.MIXED_VERSIONS] == "failed"
    assert _step(record, "wait_ready")["status"] == "failed"
    assert any("pre-production is not clean" in warning for warning in record["warnings"]), record
    assert result.swaps == 0 and result.served_after == result.served_before
