"""DescribeEvents: newest first, filtered by application, environment, version, severity and time."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from moto_ext import Outcome

from .harness import APP, STACK, Aws


@pytest.fixture
def history(aws: Aws) -> Aws:
    """blue-env deployed v2 successfully, green-env failed v2, lone-env lives in another application."""
    aws.version("v1")
    aws.version("v2")
    aws.environment("blue-env", "app-prod", "v1")
    aws.environment("green-env", "app-pre", "v1")
    aws.eb.create_application(ApplicationName="other-app")
    aws.eb.create_environment(
        ApplicationName="other-app", EnvironmentName="lone-env", SolutionStackName=STACK
    )
    aws.be.advance("lone-env")
    aws.clock.tick(60)
    aws.eb.update_environment(EnvironmentName="blue-env", VersionLabel="v2")
    aws.clock.tick(60)
    aws.be.set_outcome("green-env", Outcome.RED)
    aws.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")
    aws.clock.tick(60)
    return aws


def test_events_come_newest_first(history: Aws) -> None:
    events = history.eb.describe_events()["Events"]
    keys = [event["EventDate"] for event in events]

    assert keys == sorted(keys, reverse=True)
    assert events[-1]["Message"].startswith("Created new Application Version")


def test_filter_by_application(history: Aws) -> None:
    events = history.eb.describe_events(ApplicationName="other-app")["Events"]

    assert [event["Message"] for event in events] == [
        "Environment health has transitioned from Pending to Ok. Initialization completed 1 second ago and "
        "took 1 second.",  # advance() settled the launch at once
        "Successfully launched environment: lone-env",
        "Created EC2 instance(s) for environment lone-env.",
        "createEnvironment is starting.",
    ]


def test_filter_by_environment_name_and_id(history: Aws) -> None:
    blue_id = history.describe("blue-env")["EnvironmentId"]

    by_name = history.eb.describe_events(EnvironmentName="blue-env")["Events"]
    by_id = history.eb.describe_events(EnvironmentId=blue_id)["Events"]

    assert by_name == by_id
    assert {event["EnvironmentName"] for event in by_name} == {"blue-env"}
    assert by_name[0]["Message"] == "Environment update completed successfully."


def test_filter_by_version_label(history: Aws) -> None:
    events = history.eb.describe_events(ApplicationName=APP, VersionLabel="v2")["Events"]

    assert events
    assert {event["VersionLabel"] for event in events} == {"v2"}
    assert {event["EnvironmentName"] for event in events} == {"blue-env", "green-env"}


def test_severity_keeps_that_level_and_higher(history: Aws) -> None:
    warn = history.eb.describe_events(Severity="WARN")["Events"]
    error = history.eb.describe_events(Severity="ERROR")["Events"]

    assert {event["Severity"] for event in warn} == {"WARN", "ERROR"}
    assert {event["Severity"] for event in error} == {"ERROR"}
    assert error[0]["Message"] == "Failed to deploy application."


def test_start_time_is_inclusive_and_end_time_exclusive(history: Aws) -> None:
    everything = history.eb.describe_events()["Events"]
    pivot = everything[3]["EventDate"]

    after = history.eb.describe_events(StartTime=pivot)["Events"]
    before = history.eb.describe_events(EndTime=pivot)["Events"]

    assert all(event["EventDate"] >= pivot for event in after)
    assert all(event["EventDate"] < pivot for event in before)
    assert len(after) + len(before) == len(everything)


def test_start_time_after_everything_gives_nothing(history: Aws) -> None:
    later = history.clock.now + timedelta(hours=1)

    assert history.eb.describe_events(StartTime=later)["Events"] == []


def test_max_records_pages_with_next_token(history: Aws) -> None:
    everything = history.messages()

    first = history.eb.describe_events(MaxRecords=3)
    rest = history.eb.describe_events(MaxRecords=100, NextToken=first["NextToken"])

    assert [event["Message"] for event in first["Events"]] + [
        event["Message"] for event in rest["Events"]
    ] == (everything)
    assert "NextToken" not in rest


def test_each_event_carries_the_request_id_of_the_call_that_caused_it(aws: Aws) -> None:
    aws.version("v1")
    aws.version("v2")
    aws.environment("green-env", "app-pre", "v1")
    aws.be.set_outcome("green-env", Outcome.RED)
    update = aws.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")
    aws.clock.tick(600)

    request_id = update["ResponseMetadata"]["RequestId"]
    caused = aws.eb.describe_events(RequestId=request_id)["Events"]

    assert [event["Message"] for event in caused][-2:] == [
        "Deploying new version to instance(s).",
        "Environment update is starting.",
    ]
    assert "Failed to deploy application." in [event["Message"] for event in caused]
    assert {event["RequestId"] for event in caused} == {request_id}
    everything = aws.eb.describe_events(EnvironmentName="green-env")["Events"]
    assert len(caused) < len(everything)


def test_a_request_id_no_call_had_matches_no_event(history: Aws) -> None:
    assert history.eb.describe_events(RequestId="0" * 52)["Events"] == []


def test_an_operations_events_never_share_a_millisecond(pair: Aws) -> None:
    """On AWS an operation's events are seconds apart; the EB CLI asks for the events after the last one it
    showed, by the millisecond, so two events stamped alike would lose one ("Deploying new version")."""
    request = pair.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")["ResponseMetadata"]
    pair.be.advance()

    events = pair.eb.describe_events(RequestId=request["RequestId"])["Events"]
    dates = [event["EventDate"] for event in reversed(events)]

    assert [event["Message"] for event in reversed(events)][:2] == [
        "Environment update is starting.",
        "Deploying new version to instance(s).",
    ]
    assert all(later > earlier for earlier, later in itertools.pairwise(dates)), dates
