"""The snapshot machinery itself, without any target: matching, placeholders, provenance checks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from .harness.comparison import AT_LEAST, EXACT, Rules, differences
from .harness.placeholders import Placeholders
from .harness.snapshots import Session, SnapshotError, SnapshotFile

pytestmark = pytest.mark.parity_harness

EVENTS = [{"m": "starting"}, {"m": "deploying"}, {"m": "health"}, {"m": "completed"}]


def test_at_least_allows_keys_and_items_the_snapshot_leaves_out() -> None:
    expected = {"Status": "Ready", "events": [{"m": "starting"}, {"m": "completed"}]}
    observed = {"Status": "Ready", "Health": "Green", "events": EVENTS}

    assert differences(expected, observed, Rules(AT_LEAST)) == []


def test_exact_names_a_key_and_an_item_the_snapshot_lacks() -> None:
    found = differences(
        {"events": [{"m": "starting"}]}, {"Health": "Green", "events": EVENTS[:2]}, Rules(EXACT)
    )

    assert found == ["events: expected 1 items, got 2", "Health: not in the snapshot (got 'Green')"]


def test_a_message_that_differs_is_named_with_its_path() -> None:
    found = differences(
        {"refused": {"message": "Must be Ready."}},
        {"refused": {"message": "Must be ready."}},
        Rules(AT_LEAST),
    )

    assert found == ["refused.message: expected 'Must be Ready.', got 'Must be ready.'"]


def test_events_out_of_order_fail_and_say_which_came_too_early() -> None:
    found = differences(
        {"events": [{"m": "completed"}, {"m": "starting"}]}, {"events": EVENTS}, Rules(AT_LEAST)
    )

    assert found == ["events[1]: {'m': 'starting'} came too early (at [0], before item [0])"]


def test_an_unchecked_path_is_neither_compared_nor_required() -> None:
    rules = Rules(AT_LEAST, ("created.CNAME", "events[*].severity"))
    expected = {
        "created": {"CNAME": "x.elasticbeanstalk.com", "Status": "Launching"},
        "events": [{"severity": "WARN"}],
    }
    observed = {"created": {"Status": "Launching"}, "events": [{"severity": "ERROR"}]}

    assert differences(expected, observed, rules) == []


def test_contains_matches_a_text_that_includes_it() -> None:
    expected = {"message": {"$contains": "Must be Ready."}}

    assert (
        differences(
            expected, {"message": "Environment named b is in an invalid state. Must be Ready."}, Rules()
        )
        == []
    )
    assert differences(expected, {"message": "Rate exceeded"}, Rules()) != []


def test_placeholders_make_two_accounts_recordings_compare() -> None:
    def observed(account: str, prefix: str, request: str) -> dict[str, object]:
        return {
            "EnvironmentArn": (
                f"arn:aws:elasticbeanstalk:eu-west-1:{account}:environment/{prefix}-app/{prefix}-blue"
            ),
            "EnvironmentId": "e-abcdefghij" if account.startswith("1") else "e-zyxwvutsrq",
            "DateCreated": datetime(2026, 1, 1, tzinfo=UTC),
            "events": [{"RequestId": request, "m": "starting"}, {"RequestId": request, "m": "completed"}],
            "ResponseMetadata": {"RequestId": request},
        }

    def normalized(account: str, prefix: str, request: str) -> object:
        placeholders = Placeholders(prefix=prefix, region="eu-west-1", account=account)
        placeholders.name(f"{prefix}-blue", "blue")
        return placeholders.apply(observed(account, prefix, request))

    one = normalized("111111111111", "pty-aaaaaa", "11111111-2222-3333-4444-555555555555")
    other = normalized("222222222222", "pty-bbbbbb", "99999999-8888-7777-6666-555555555555")

    assert one == other
    assert one == {
        "DateCreated": "<date>",
        "EnvironmentArn": "arn:aws:elasticbeanstalk:<region>:<account>:environment/<prefix>-app/<blue>",
        "EnvironmentId": "<environment-id:1>",
        "events": [
            {"RequestId": "<request-id:1>", "m": "starting"},
            {"RequestId": "<request-id:1>", "m": "completed"},
        ],
    }


def test_placeholders_change_values_never_keys() -> None:
    placeholders = Placeholders(prefix="pty-aaaaaa", region="us-east-1")
    placeholders.name("created", "label")

    assert placeholders.apply({"created": "created"}) == {"created": "<label>"}


def _snapshot(tmp_path: Path, data: dict[str, object]) -> Path:
    path = tmp_path / "test_x.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        ({"content": {}}, "names its provenance once"),
        ({"documented": "the docs", "content": {}}, "must be the URL of the page"),
        ({"recorded": {"region": "us-east-1"}, "content": {}}, "needs region, date and client versions"),
        (
            {"documented": "https://docs.aws.amazon.com/x", "recorded": {}, "content": {}},
            "names its provenance once",
        ),
    ],
)
def test_a_snapshot_without_a_clear_provenance_is_refused(
    tmp_path: Path, data: dict[str, object], complaint: str
) -> None:
    with pytest.raises(SnapshotError, match=complaint):
        SnapshotFile.load(_snapshot(tmp_path, data))


def test_a_test_without_a_snapshot_fails_rather_than_passing_unrecorded(tmp_path: Path) -> None:
    session = Session(
        "test_x", tmp_path / "test_x.json", Placeholders("pty-aaaaaa", "us-east-1"), record=False
    )
    session.match("refused", {"code": "Throttling"})

    with pytest.raises(SnapshotError, match="no snapshot"):
        session.finish()


def test_record_writes_the_provenance_and_what_the_test_declared_volatile(tmp_path: Path) -> None:
    recorded = {"from": "aws", "region": "us-east-1", "date": "2026-12-05", "client versions": {"boto3": "1"}}
    session = Session(
        "test_x",
        tmp_path / "test_x.json",
        Placeholders("pty-aaaaaa", "us-east-1"),
        record=True,
        provenance=recorded,
    )
    session.volatile("health.ApplicationMetrics", "traffic")
    session.match("health", {"Color": "Green", "ApplicationMetrics": {"RequestCount": 3}})

    session.finish()

    written = json.loads((tmp_path / "test_x.json").read_text())
    assert written == {
        "test": "test_x",
        "recorded": recorded,
        "match": "exact-keys",
        "unchecked": {"health.ApplicationMetrics": "traffic"},
        "content": {"health": {"ApplicationMetrics": {"RequestCount": 3}, "Color": "Green"}},
    }
    replay = Session(
        "test_x", tmp_path / "test_x.json", Placeholders("pty-bbbbbb", "us-east-1"), record=False
    )
    replay.match("health", {"Color": "Green", "ApplicationMetrics": {"RequestCount": 40}})
    replay.finish()
