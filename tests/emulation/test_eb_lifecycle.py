"""UpdateEnvironment's life cycle: Updating/Grey, then the chosen outcome, by clock or by advance()."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from moto_ext import Outcome

from .harness import APP, Aws


@pytest.fixture
def green(aws: Aws) -> Aws:
    """Environment "green-env" Ready on v1, with v2 registered."""
    aws.version("v1")
    aws.version("v2")
    aws.environment("green-env", "green-pre", "v1")
    return aws


def test_update_starts_updating_grey_and_abortable(green: Aws) -> None:
    answer = green.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")

    assert (answer["Status"], answer["Health"], answer["VersionLabel"]) == ("Updating", "Grey", "v2")
    assert answer["AbortableOperationInProgress"] is True
    env = green.describe("green-env")
    assert (env["Status"], env["Health"], env["AbortableOperationInProgress"]) == ("Updating", "Grey", True)
    assert green.messages(EnvironmentName="green-env")[:2] == [
        "Deploying new version to instance(s).",
        "Environment update is starting.",
    ]


def test_update_settles_green_once_the_clock_passes_the_delay(green: Aws) -> None:
    green.be.settle_after_s = 30
    green.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")

    green.clock.tick(29)
    assert green.describe("green-env")["Status"] == "Updating"
    green.clock.tick(1)
    env = green.describe("green-env")

    assert (env["Status"], env["Health"], env["VersionLabel"]) == ("Ready", "Green", "v2")
    assert env["AbortableOperationInProgress"] is False
    assert green.messages(EnvironmentName="green-env")[:2] == [
        "Environment update completed successfully.",
        "New application version was deployed to running EC2 instances.",
    ]


def test_advance_settles_without_moving_the_clock(green: Aws) -> None:
    green.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")

    green.be.advance("green-env")

    assert green.describe("green-env")["Status"] == "Ready"


def test_advance_of_another_environment_leaves_this_one_updating(green: Aws) -> None:
    green.environment("blue-env", "blue-prod", "v1")
    green.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")

    green.be.advance("blue-env")

    assert green.describe("green-env")["Status"] == "Updating"


def test_red_outcome_fails_the_deployment_and_keeps_the_previous_version(green: Aws) -> None:
    green.be.set_outcome("green-env", Outcome.RED)
    green.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")
    green.be.advance()

    env = green.describe("green-env")
    assert (env["Status"], env["Health"], env["VersionLabel"]) == ("Ready", "Red", "v1")
    errors = green.eb.describe_events(EnvironmentName="green-env", Severity="ERROR")["Events"]
    assert errors[0]["Message"] == "Failed to deploy application."
    assert {event["Severity"] for event in errors} == {"ERROR"}


def test_yellow_outcome_is_ready_yellow_on_the_new_version(green: Aws) -> None:
    green.be.set_outcome("green-env", Outcome.YELLOW)
    green.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")
    green.be.advance()

    env = green.describe("green-env")
    assert (env["Status"], env["Health"], env["VersionLabel"]) == ("Ready", "Yellow", "v2")


def test_silent_rollback_is_ready_green_on_the_old_version_without_errors(green: Aws) -> None:
    green.be.set_outcome("green-env", Outcome.SILENT_ROLLBACK)
    green.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")
    green.be.advance()

    env = green.describe("green-env")
    assert (env["Status"], env["Health"], env["VersionLabel"]) == ("Ready", "Green", "v1")
    assert green.eb.describe_events(EnvironmentName="green-env", Severity="WARN")["Events"] == []


def test_stuck_update_never_settles_until_aborted(green: Aws) -> None:
    green.be.set_outcome("green-env", Outcome.STUCK)
    green.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")
    green.clock.tick(3600)
    green.be.advance()
    assert green.describe("green-env")["Status"] == "Updating"

    green.eb.abort_environment_update(EnvironmentName="green-env")

    env = green.describe("green-env")
    assert (env["Status"], env["Health"], env["VersionLabel"]) == ("Ready", "Green", "v1")
    assert env["AbortableOperationInProgress"] is False
    assert "Abort environment update operation requested." in green.messages(EnvironmentName="green-env")


def test_outcome_applies_to_every_next_update_until_changed(green: Aws) -> None:
    green.be.set_outcome("green-env", Outcome.RED)
    for _ in range(2):
        green.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")
        green.be.advance()
        assert green.describe("green-env")["Health"] == "Red"

    green.be.set_outcome("green-env", Outcome.GREEN)
    green.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")
    green.be.advance()
    assert green.describe("green-env")["Health"] == "Green"


def test_update_by_environment_id(green: Aws) -> None:
    env_id = green.describe("green-env")["EnvironmentId"]

    answer = green.eb.update_environment(EnvironmentId=env_id, VersionLabel="v2")

    assert (answer["EnvironmentName"], answer["Status"]) == ("green-env", "Updating")


def test_update_while_updating_is_refused_with_awss_words(green: Aws) -> None:
    green.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")

    with pytest.raises(ClientError) as caught:
        green.eb.update_environment(EnvironmentName="green-env", VersionLabel="v1")

    assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert caught.value.response["Error"]["Message"] == (
        "Environment named green-env is in an invalid state for this operation. Must be Ready."
    )


def test_update_to_an_unknown_label_is_refused(green: Aws) -> None:
    with pytest.raises(ClientError) as caught:
        green.eb.update_environment(EnvironmentName="green-env", VersionLabel="v9")

    assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert caught.value.response["Error"]["Message"] == "No Application Version named 'v9' found."
    assert green.describe("green-env")["Status"] == "Ready"


def test_update_of_an_unknown_environment_is_refused(green: Aws) -> None:
    with pytest.raises(ClientError) as caught:
        green.eb.update_environment(EnvironmentName="nope-env", VersionLabel="v2")

    assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert caught.value.response["Error"]["Message"] == (
        "No Environment found for EnvironmentName = 'nope-env'."
    )


def test_abort_without_an_update_in_progress_is_refused(green: Aws) -> None:
    with pytest.raises(ClientError) as caught:
        green.eb.abort_environment_update(EnvironmentName="green-env")

    assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert caught.value.response["Error"]["Message"] == (
        "Environment named green-env is in an invalid state for this operation. Must be pending deployment."
    )


def test_configuration_only_update_keeps_the_version(green: Aws) -> None:
    green.eb.update_environment(EnvironmentName="green-env", Description="tuned")
    green.be.advance()

    env = green.describe("green-env")
    assert (env["Status"], env["VersionLabel"], env["Description"]) == ("Ready", "v1", "tuned")
    assert green.messages(EnvironmentName="green-env")[1] == (
        "Successfully deployed new configuration to environment."
    )


def test_settled_events_are_dated_when_the_operation_was_due(green: Aws) -> None:
    green.be.settle_after_s = 10
    started = green.clock.now
    green.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")
    green.clock.tick(500)

    newest, landed = green.eb.describe_events(EnvironmentName="green-env")["Events"][:2]

    assert landed["Message"] == "New application version was deployed to running EC2 instances."
    assert (landed["EventDate"] - started).total_seconds() == 10
    assert newest["Message"] == "Environment update completed successfully."
    assert (newest["EventDate"] - started).total_seconds() == 10.001  # a millisecond after: events never tie


def test_environment_health_follows_the_life_cycle(green: Aws) -> None:
    green.be.set_outcome("green-env", Outcome.RED)
    green.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")
    during = green.eb.describe_environment_health(EnvironmentName="green-env", AttributeNames=["All"])
    green.be.advance()
    after = green.eb.describe_environment_health(
        EnvironmentName="green-env", AttributeNames=["Color", "Status"]
    )

    assert (during["Status"], during["Color"], during["HealthStatus"]) == ("Updating", "Grey", "Pending")
    assert (after["EnvironmentName"], after["Status"], after["Color"]) == ("green-env", "Ready", "Red")
    assert "HealthStatus" not in after


def test_application_is_named_in_update_events(green: Aws) -> None:
    green.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")

    events = green.eb.describe_events(EnvironmentName="green-env", VersionLabel="v2")["Events"]

    assert events and all(event["ApplicationName"] == APP for event in events)
    assert all(event["VersionLabel"] == "v2" for event in events)
