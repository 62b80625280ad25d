"""The README's main command, end to end: real processes, real HTTP, the real controller and CI client."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from followed_process import Followed, Progress, sandbox_progress

REPO = Path(__file__).resolve().parents[2]
DEMO_TIMEOUT_S = 240

pytestmark = pytest.mark.slow


def test_the_demo_deploys_promotes_rolls_back_catches_a_bad_release_survives_a_broken_one_and_leaves_nothing(
    processes: SimpleNamespace, progress: Progress
) -> None:
    demo = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "demo"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    followed = Followed(demo, progress, sandbox_progress)
    seen: set[int] = set()

    def watch() -> None:
        if demo.poll() is None:
            seen.update(processes.descendants(demo.pid))

    if not followed.follow(DEMO_TIMEOUT_S, every=watch):
        demo.terminate()  # the sandbox stops what it started on SIGTERM; SIGKILL would orphan it
        followed.follow(60)
    demo.wait(timeout=60)
    output = followed.stdout

    assert demo.returncode == 0, output
    summary = output.split("\nSummary\n", 1)[1]
    assert re.search(r"deploy 2\.0\.0 +d-\S+ +succeeded +2\.0\.0 .* 0 failed .*as expected", summary)
    held = r"deploy 2\.1\.0 --hold +d-\S+ +awaiting_promotion +2\.0\.0 .* 0 failed .*as expected"
    assert re.search(held, summary)
    assert re.search(r"promote d-\S+ +d-\S+ +succeeded +2\.1\.0 .* 0 failed .*as expected", summary)
    assert re.search(r"environments +- +rollback ready +2\.1\.0 .*as expected", summary)
    assert re.search(r"roll back d-\S+ +d-\S+ +rolled_back +2\.0\.0 .* 0 failed .*as expected", summary)
    # health alone would have kept 2.2.0: the analysis of production's metrics swapped it back
    assert re.search(r"deploy 2\.2\.0 +d-\S+ +rolled_back +2\.0\.0 .*as expected", summary)
    assert re.search(
        r"rolled back by the controller: analysis failed: 5xx-rate \d+\.\d% > 1\.0% over \d+ requests", output
    )
    assert re.search(r"deploy 3\.0\.0-broken +d-\S+ +failed +2\.0\.0 .* 0 failed .*as expected", summary)
    # the standby the broken release left Red is not a rollback target; production is not on it
    assert re.search(r"environments +- +not ready +2\.0\.0 .*as expected", summary)
    assert re.search(r"\| production +\S+-green +2\.0\.0 +Ready +Green", output)
    assert re.search(r"rollback NOT ready: \S+-blue health is Red", output)
    # people look at the held version on pre-production's own URL while production stays on 2.0.0
    assert re.search(r"GET http://\S+-staging\S+/health -> version 2\.1\.0", output)
    assert re.search(r"GET http://\S+-prod\S+/health -> version 2\.0\.0", output)
    # the client's live steps, the app's own reason for the failed start, and the count carrying on
    assert "verify: succeeded" in output
    assert re.search(r"drain: succeeded \(requests/min on \S+ since", output)
    assert "PORT: must be an integer, got 'broken'" in output
    assert re.search(r"production now: version 2\.0\.0, calls \d+ \(1\.0\.0: \d+, 2\.0\.0: \d+\)", output)
    assert "sandbox: stopped" in output
    assert len(seen) >= 3
    assert not [pid for pid in seen if processes.alive(pid)]
    # where people are: the GitHub statuses and chat messages of its deployments, and the dashboard link
    assert re.search(r"\| http://127\.0\.0\.1:\d+/dashboard\?token=\S+", output)
    assert re.search(r"GitHub: production deployment #\d+ success: 2\.0\.0 is in production", output)
    assert re.search(r"GitHub: staging deployment #\d+ success: 2\.1\.0 on pre-production", output)
    assert re.search(r"GitHub: production deployment #\d+ failure: 3\.0\.0-broken failed at", output)
    assert re.search(r"GitHub: production deployment #\d+ error: 2\.1\.0 was rolled back", output)
    told_all = ("Deploying 2.0.0", "2.1.0 awaits promotion", "2.1.0 is in production", "3.0.0-broken failed")
    for told in told_all:
        assert f"chat:   {told}" in output


def test_ctrl_c_in_the_middle_of_a_deployment_stops_everything(
    processes: SimpleNamespace, progress: Progress
) -> None:
    demo = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "demo"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    followed = Followed(demo, progress, sandbox_progress)
    seen: set[int] = set()

    def watch() -> None:
        seen.update(processes.descendants(demo.pid))

    def mid_deployment(line: str) -> bool:  # the CI client has started
        return "$ python -m controller.client deploy" in line

    followed.follow(DEMO_TIMEOUT_S, until=mid_deployment, every=watch)
    seen |= processes.descendants(demo.pid)
    lines = followed.stdout.splitlines(keepends=True)

    demo.send_signal(signal.SIGINT)
    followed.follow(60)
    demo.wait(timeout=60)
    rest = followed.stdout[len("".join(lines)) :]

    assert demo.returncode == 130, "".join(lines) + rest
    assert "SIGINT received, stopping everything" in rest
    assert "sandbox: stopped" in rest
    assert len(seen) >= 3
    assert not [pid for pid in seen if processes.alive(pid)]
