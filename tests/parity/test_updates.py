"""Deployments as the controller makes them on pre-production: UpdateEnvironment's answer, the events and
EventBridge events of a good update, a failed one and an aborted one, DescribeEvents by the update's
RequestId, and the refusals it classifies (busy: "Must be Ready"; nothing to abort; terminate while an
update runs)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .harness.beanstalk import Stage
from .harness.eventbridge import EventCapture
from .harness.observations import answer, event_lines, eventbridge_lines, refusal
from .harness.snapshots import Session

pytestmark = pytest.mark.parity


@pytest.fixture
def green(beanstalk: Stage) -> Iterator[str]:
    """Pre-production, Ready, its updates succeeding unless a test says otherwise (and again after it)."""
    beanstalk.next_updates_succeed(beanstalk.green)
    beanstalk.wait_ready(beanstalk.green)
    yield beanstalk.green
    beanstalk.next_updates_succeed(beanstalk.green)
    _abort_if_running(beanstalk, beanstalk.green)


def _other(beanstalk: Stage, name: str) -> str:
    """A good label that `name` does not run now."""
    return "v2" if beanstalk.describe(name).get("VersionLabel") == "v1" else "v1"


def _abort_if_running(beanstalk: Stage, name: str) -> None:
    if beanstalk.describe(name).get("AbortableOperationInProgress"):
        beanstalk.eb_patient.abort_environment_update(EnvironmentName=name)
    beanstalk.wait_ready(name)


def test_a_good_update_answers_updating_and_writes_its_events(
    beanstalk: Stage, green: str, capture: EventCapture, snapshot: Session
) -> None:
    label = _other(beanstalk, green)
    snapshot.name(label, "label")
    snapshot.name(beanstalk.solution_stack, "solution-stack")
    since = beanstalk.now()

    updating = beanstalk.eb.update_environment(EnvironmentName=green, VersionLabel=label)
    events, began = beanstalk.operation_events(
        green,
        since,
        "Environment update is starting",
        "Environment update completed successfully",
        request_id=updating["ResponseMetadata"]["RequestId"],
    )
    delivered = capture.of(green, began, until_status="Environment update successful")

    snapshot.match("updating", answer(updating))
    snapshot.match("events", event_lines(events))
    snapshot.match("eventbridge", eventbridge_lines(delivered))
    assert beanstalk.wait_ready(green)["VersionLabel"] == label


def test_describe_events_by_request_id_gives_the_events_of_that_call(
    beanstalk: Stage, green: str, snapshot: Session
) -> None:
    label = _other(beanstalk, green)
    snapshot.name(label, "label")
    since = beanstalk.now()

    updating = beanstalk.eb.update_environment(EnvironmentName=green, VersionLabel=label)
    request_id = updating["ResponseMetadata"]["RequestId"]
    beanstalk.events_until(since, "Environment update completed successfully", RequestId=request_id)
    events = beanstalk.eb.describe_events(RequestId=request_id)["Events"]  # the RequestId alone

    snapshot.match("request_id", request_id)
    snapshot.match("events", event_lines(events, "RequestId"))


def test_a_failed_update_writes_its_failure_events(
    beanstalk: Stage, green: str, capture: EventCapture, snapshot: Session
) -> None:
    before = beanstalk.describe(green).get("VersionLabel")
    snapshot.name(str(before), "previous-label")
    beanstalk.next_update_fails(green)
    since = beanstalk.now()

    updating = beanstalk.eb.update_environment(EnvironmentName=green, VersionLabel="broken")
    events, began = beanstalk.operation_events(
        green,
        since,
        "Environment update is starting",
        "Failed to deploy application",
        request_id=updating["ResponseMetadata"]["RequestId"],
    )
    delivered = capture.of(green, began, until_status="Environment update failed")
    after = beanstalk.wait_ready(green)

    snapshot.match("events", event_lines(events))
    snapshot.match("eventbridge", eventbridge_lines(delivered))
    snapshot.match("after", {key: after.get(key) for key in ("Status", "VersionLabel")})


def test_an_aborted_update_goes_back_to_the_previous_version(
    beanstalk: Stage, green: str, capture: EventCapture, snapshot: Session
) -> None:
    before = str(beanstalk.describe(green).get("VersionLabel"))
    label = _other(beanstalk, green)
    snapshot.name(before, "previous-label")
    snapshot.name(label, "label")
    beanstalk.next_update_stays(green)
    since = beanstalk.now()

    updating = beanstalk.eb.update_environment(EnvironmentName=green, VersionLabel=label)
    aborted = beanstalk.eb.abort_environment_update(EnvironmentName=green)
    after = beanstalk.wait_ready(green)
    events, began = beanstalk.operation_events(
        green,
        since,
        "Environment update is starting",
        "",
        request_id=updating["ResponseMetadata"]["RequestId"],
    )
    delivered = capture.of(green, began)

    snapshot.match("aborted", answer(aborted))
    snapshot.match("after", {key: after.get(key) for key in ("Status", "VersionLabel")})
    snapshot.match("events", event_lines(events))
    snapshot.match("eventbridge", eventbridge_lines(delivered))


def test_an_update_while_one_runs_is_refused_must_be_ready(
    beanstalk: Stage, green: str, snapshot: Session
) -> None:
    label = _other(beanstalk, green)
    beanstalk.next_update_stays(green)
    beanstalk.eb.update_environment(EnvironmentName=green, VersionLabel=label)

    refused = refusal(beanstalk.eb.update_environment, EnvironmentName=green, VersionLabel=label)

    snapshot.match("refused", refused)


def test_a_swap_while_an_update_runs_is_refused_must_be_ready(
    beanstalk: Stage, green: str, snapshot: Session
) -> None:
    beanstalk.next_update_stays(green)
    beanstalk.eb.update_environment(EnvironmentName=green, VersionLabel=_other(beanstalk, green))

    refused = refusal(
        beanstalk.eb.swap_environment_cnames,
        SourceEnvironmentName=green,
        DestinationEnvironmentName=beanstalk.blue,
    )

    snapshot.match("refused", refused)


def test_aborting_when_nothing_runs_is_refused(beanstalk: Stage, green: str, snapshot: Session) -> None:
    refused = refusal(beanstalk.eb.abort_environment_update, EnvironmentName=green)

    snapshot.match("refused", refused)


def test_terminating_while_an_update_runs_is_refused(beanstalk: Stage, green: str, snapshot: Session) -> None:
    beanstalk.next_update_stays(green)
    beanstalk.eb.update_environment(EnvironmentName=green, VersionLabel=_other(beanstalk, green))

    refused = refusal(beanstalk.eb.terminate_environment, EnvironmentName=green)

    snapshot.match("refused", refused)
