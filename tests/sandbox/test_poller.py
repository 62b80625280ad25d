"""The poller feeds the reconcile queue to the controller's handler as Lambda's event source mapping does."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from sandbox.hosting.poller import Poller, failed_message_ids


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


@pytest.fixture
def queue_url(sqs: Any) -> str:
    url: str = sqs.create_queue(QueueName="reconcile", Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    return url


def _counts(sqs: Any, queue_url: str) -> tuple[int, int, int]:
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)["Attributes"]
    return tuple(int(attributes[name]) for name in names)  # type: ignore[return-value]


def test_a_message_reaches_the_function_as_an_sqs_event_and_is_deleted(sqs: Any, queue_url: str) -> None:
    events: list[dict] = []
    sent = sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"deployment_id": "d-1"}))
    poller = Poller(sqs, queue_url, events.append, wait_time_s=0)

    assert poller.poll_once() == 1

    (record,) = events[0]["Records"]
    assert json.loads(record["body"]) == {"deployment_id": "d-1"}
    assert record["messageId"] == sent["MessageId"]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(":reconcile")
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert _counts(sqs, queue_url) == (0, 0, 0)


def test_a_failing_function_leaves_the_message_for_redelivery(sqs: Any, queue_url: str) -> None:
    sqs.send_message(QueueUrl=queue_url, MessageBody="{}")
    reports: list[str] = []

    def fails(event: dict) -> None:
        raise RuntimeError("table unavailable")

    assert Poller(sqs, queue_url, fails, wait_time_s=0, report=reports.append).poll_once() == 0
    assert _counts(sqs, queue_url) == (0, 1, 0)
    assert "table unavailable" in reports[0]

    events: list[dict] = []  # redelivered once the 1 s visibility timeout has passed
    assert Poller(sqs, queue_url, events.append, wait_time_s=5).poll_once() == 1
    assert events[0]["Records"][0]["attributes"]["ApproximateReceiveCount"] == "2"


def test_a_delayed_message_waits_for_its_delay(sqs: Any, queue_url: str) -> None:
    events: list[dict] = []
    sqs.send_message(QueueUrl=queue_url, MessageBody="{}", DelaySeconds=2)
    poller = Poller(sqs, queue_url, events.append, wait_time_s=0)

    assert poller.poll_once() == 0
    assert _counts(sqs, queue_url) == (0, 0, 1)

    handled = 0
    for _ in range(10):
        handled += Poller(sqs, queue_url, events.append, wait_time_s=1).poll_once()
        if handled:
            break
    assert handled == 1 and len(events) == 1


def test_reported_batch_item_failures_stay_and_the_rest_are_deleted(sqs: Any, queue_url: str) -> None:
    first = sqs.send_message(QueueUrl=queue_url, MessageBody="one")["MessageId"]
    sqs.send_message(QueueUrl=queue_url, MessageBody="two")

    def fail_first(event: dict) -> dict:
        assert len(event["Records"]) == 2
        return {"batchItemFailures": [{"itemIdentifier": first}]}

    assert Poller(sqs, queue_url, fail_first, wait_time_s=0).poll_once() == 1
    assert _counts(sqs, queue_url) == (0, 1, 0)


def test_a_background_poller_delivers_until_stopped(sqs: Any, queue_url: str) -> None:
    delivered = threading.Event()
    poller = Poller(sqs, queue_url, lambda event: delivered.set(), wait_time_s=1)
    poller.start()
    try:
        sqs.send_message(QueueUrl=queue_url, MessageBody="{}")
        assert delivered.wait(timeout=15)
    finally:
        poller.stop()


@pytest.mark.parametrize(
    ("answer", "ids"),
    [
        (None, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "m"}]}, {"m"}),
    ],
)
def test_failed_message_ids_reads_the_partial_batch_response(answer: object, ids: set[str]) -> None:
    assert failed_message_ids(answer) == ids
