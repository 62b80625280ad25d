"""`python -m sandbox soak`: a short soak through the whole sandbox passes every invariant, and its command
line answers as the contract says (one JSON line last, exit 0 only without violations)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from followed_process import Progress, run_followed, sandbox_progress

REPO = Path(__file__).resolve().parents[2]
# Seed 1458's five deployments: one under a persistent Red, one under the scanners' 404s, a release whose
# users meet 500s (health stays good: the analysis swaps it back), a notification racing a rollback of the
# last success while some of production's callers linger on the old environment (the standby runs the
# release swapped back: the rollback is refused), then one whose events arrive before the state, draining
# the callers that lingered. Each round starts right after the last one's swap.
SEED, DEPLOYMENTS = 1458, 5
KEYS = {
    "deployments",
    "outcomes",
    "faults",
    "swaps",
    "prod_calls",
    "prod_failed_calls",
    "counts_exact",
    "violations",
}

pytestmark = pytest.mark.slow


@pytest.mark.timeout(900)
def test_a_short_soak_holds_every_invariant(progress: Progress) -> None:
    soak = run_followed(
        [sys.executable, "-m", "sandbox", "soak", "--deployments", str(DEPLOYMENTS), "--seed", str(SEED)],
        progress,
        shown=sandbox_progress,
        cwd=REPO,
        timeout_s=840,
    )
    lines = soak.stdout.strip().splitlines()
    assert lines, soak.stderr[-3000:]
    summary = json.loads(lines[-1])

    assert KEYS <= set(summary)
    assert summary["violations"] == [], soak.stderr[-3000:]
    assert soak.returncode == 0
    assert summary["deployments"] == DEPLOYMENTS == sum(summary["outcomes"].values())
    assert summary["faults"] == {
        "stays-red": 1,
        "scanner-4xx": 1,
        "errors-after-swap": 1,
        "slow-drain": 1,
        "events-before-state": 1,
    }
    assert summary["counts_exact"] is True
    assert summary["outcomes"]["rolled_back"] >= 1  # the analysis' swap back
    assert summary["prod_calls"] > 100
    assert summary["prod_failed_calls"] == summary["prod_injected_errors"] > 0  # the 500s it injected
    assert summary["swaps"] >= 5  # the bad release and back, and one for each success
    assert "soak: round 3 (rollback, fault errors-after-swap)" in soak.stderr  # progress on stderr


def test_the_soak_refuses_a_bad_count_before_starting_anything() -> None:
    soak = subprocess.run(
        [sys.executable, "-m", "sandbox", "soak", "--deployments", "0"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert soak.returncode == 2
    assert "--deployments: must be at least 1, got 0" in soak.stderr
    assert soak.stdout == "" and "starting" not in soak.stderr
