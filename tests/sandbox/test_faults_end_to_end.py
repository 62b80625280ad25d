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
        assert summary.prod_failed_calls == summary.prod_injected_errors, "only errors-after-swap's 500s"


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
    here = {
        *SURVIVED,
        Fault.MUTATION_5XX,
        Fault.VERSION_QUOTA,
        Fault.MIXED_VERSIONS,
        Fault.ERRORS_AFTER_SWAP,
        Fault.SLOW_DRAIN,
    }
    assert here | through_up == set(Fault)


def test_a_release_whose_users_meet_500s_is_swapped_back_by_the_analysis(soak: Soak) -> None:
    """errors-after-swap: /health and Beanstalk's health stay good; the load balancer's 5xx rate does not."""
    result, violations = soak.play(Round(1, Kind.SINGLE, Fault.ERRORS_AFTER_SWAP))
    [record] = result.records
    assert violations == []
    assert record["status"] == EXPECTED[Fault.ERRORS_AFTER_SWAP] == "rolled_back"
    assert record["error"].startswith("rolled back by the controller: analysis failed: 5xx-rate ")
    assert (
        "5xx-rate" in _step(record, "verify")["detail"] and "p99-latency" in _step(record, "verify")["detail"]
    )
    assert result.swaps == 2 and result.served_after == result.served_before
    assert result.failed_calls and all("errors-after-swap" in call for call in result.failed_calls)


def test_the_old_production_is_redeployed_only_once_its_lingering_users_have_left(soak: Soak) -> None:
    """slow-drain: after a swap some of production's callers keep reaching the old environment well past
    the TTL; the next deployment, started at once, drains it before redeploying it."""
    soak.controls.arm(Fault.SLOW_DRAIN)
    since = datetime.now(UTC)
    try:
        first = soak.deploy_and_wait()
        second = soak.deploy_and_wait()
    finally:
        soak.controls.clear(Fault.SLOW_DRAIN)

    assert (first["status"], second["status"]) == ("succeeded", "succeeded"), second["error"]
    drain = _step(second, "drain")["detail"]
    assert drain.startswith(f"requests/min on {first['prod_env']} since ") and drain.endswith(
        "drained (at most 0/min for DRAIN_WINDOW_S=3 s)"
    )
    rates = [float(n) for n in drain.split(": ", 1)[1].split(";")[0].split()]
    assert max(rates) > 0, "the lingering users were measured"
    updates = soak.updates_since(since)
    assert len(updates) == 2 and all(u.user_requests == 0 for u in updates), updates
    assert soak.stack.traffic_log.reached(
        first["prod_env"], since.timestamp(), updates[-1].started.timestamp()
    )


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
