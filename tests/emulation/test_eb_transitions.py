"""The life cycle's decisions as plain data: where each outcome lands and what AWS writes on the way."""

from __future__ import annotations

import pytest

from moto_ext import Outcome
from moto_ext.elasticbeanstalk.transitions import Landing, update_aborted, update_settled, update_started


def messages(landing: Landing | None) -> list[str]:
    assert landing is not None
    return [note.message for note in landing.notes]


@pytest.mark.parametrize(
    ("outcome", "health", "version"),
    [
        (Outcome.GREEN, "Green", "v2"),
        (Outcome.YELLOW, "Yellow", "v2"),
        (Outcome.RED, "Red", "v1"),
        (Outcome.SILENT_ROLLBACK, "Green", "v1"),
    ],
)
def test_each_outcome_lands_on_its_health_and_version(outcome: Outcome, health: str, version: str) -> None:
    landing = update_settled(outcome, "v2", "v1")

    assert landing is not None
    assert (landing.health, landing.version_label) == (health, version)


def test_stuck_does_not_land() -> None:
    assert update_settled(Outcome.STUCK, "v2", "v1") is None


def test_a_success_ends_with_awss_completion_event() -> None:
    assert messages(update_settled(Outcome.GREEN, "v2", "v1")) == [
        "New application version was deployed to running EC2 instances.",
        "Environment update completed successfully.",
    ]


def test_a_failure_writes_the_hooks_message_then_awss_errors() -> None:
    landing = update_settled(Outcome.RED, "v2", "v1", failure="container exited with code 3")

    assert landing is not None
    assert [(note.severity, note.message) for note in landing.notes] == [
        ("ERROR", "container exited with code 3"),
        (
            "ERROR",
            "Unsuccessful command execution on instance id(s) 'i-0a1b2c3d4e5f60718'. Aborting the operation.",
        ),
        ("ERROR", "Failed to deploy application."),
        ("WARN", "Environment health has been set to RED"),
    ]


def test_a_silent_rollback_writes_no_warning() -> None:
    landing = update_settled(Outcome.SILENT_ROLLBACK, "v2", "v1")

    assert landing is not None
    assert {note.severity for note in landing.notes} == {"INFO"}


def test_a_configuration_update_keeps_the_running_version() -> None:
    landing = update_settled(Outcome.GREEN, None, "v1")

    assert landing is not None
    assert landing.version_label == "v1"
    assert messages(landing)[0] == "Successfully deployed new configuration to environment."


def test_an_update_starts_with_awss_two_events() -> None:
    assert [note.message for note in update_started("v2")] == [
        "Environment update is starting.",
        "Deploying new version to instance(s).",
    ]


def test_an_abort_returns_to_the_previous_version() -> None:
    landing = update_aborted("v2", "v1")

    assert (landing.health, landing.version_label) == ("Green", "v1")
