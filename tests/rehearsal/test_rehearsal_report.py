"""The report's pieces: each run's window of events and calls, and the differences from the emulation."""

from __future__ import annotations

from typing import Any

from rehearsal import report
from rehearsal.scenarios import DeploymentRun, close_windows


def _entry(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "outcome": "succeeded",
        "steps": [{"name": "deploy_preprod", "status": "succeeded"}, {"name": "swap", "status": "succeeded"}],
        "events": [
            {"role": "pre-production", "status": "Environment update started"},
            {"role": "pre-production", "status": "Environment update successful"},
            {"role": "other", "status": "Environment health changed"},
        ],
        "aws_calls": {
            "total": 3,
            "by_operation": {"elasticbeanstalk.UpdateEnvironment": 2, "s3.PutObject": 1},
        },
    }
    entry.update(overrides)
    return entry


def test_a_run_like_the_emulation_s_has_no_differences() -> None:
    reference = report.shape(_entry())

    assert (
        report.differences(
            _entry(
                aws_calls={
                    "total": 9,
                    "by_operation": {"s3.PutObject": 4, "elasticbeanstalk.UpdateEnvironment": 5},
                }
            ),
            reference,
        )
        == []
    )


def test_differences_name_the_outcome_steps_events_and_operations() -> None:
    reference = report.shape(_entry())
    mine = _entry(
        outcome="failed",
        steps=[{"name": "deploy_preprod", "status": "failed"}],
        events=[
            {"role": "pre-production", "status": "Environment update started"},
            {"role": "pre-production", "status": "Environment update failed"},
        ],
        aws_calls={"total": 1, "by_operation": {"elasticbeanstalk.DescribeEvents": 1}},
    )

    found = report.differences(mine, reference)

    assert found == [
        "ended failed; the emulation's ended succeeded",
        "steps [deploy_preprod: failed]; the emulation's [deploy_preprod: succeeded, swap: succeeded]",
        "events the emulation sent and this run did not: [pre-production: Environment update successful]",
        "events this run had and the emulation does not send: [pre-production: Environment update failed]",
        "AWS operations the emulation's run did not need: elasticbeanstalk.DescribeEvents",
        "AWS operations only the emulation's run used: elasticbeanstalk.UpdateEnvironment, s3.PutObject",
    ]


def test_a_scenario_the_reference_lacks_is_said() -> None:
    assert report.differences(_entry(), None) == ["the emulation's reference has no such scenario"]


def test_each_window_ends_where_the_next_run_starts_and_the_last_after_a_pause() -> None:
    runs = [
        DeploymentRun("good", "succeeded", started_ms=1_000, ended_ms=5_000),
        DeploymentRun("broken", "failed", started_ms=6_000, ended_ms=9_000),
        DeploymentRun("rollback", "rolled_back", started_ms=0, ended_ms=12_000),  # never started
    ]

    close_windows(runs, 0)

    assert runs[0].until_ms == 6_000
    assert runs[1].until_ms == 9_000  # the next never started: its own end
    assert runs[2].until_ms >= 12_000
