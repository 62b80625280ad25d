"""Lambda's SQS event source mapping, locally: long-poll a queue and invoke a function with the batch.

As in AWS: messages become visible only after their `DelaySeconds` (moto honours it), a batch goes to
the function as one `{"Records": [...]}` event with the real message ids and receipt handles, the batch
is deleted when the function returns, and left on the queue (redelivered after its visibility timeout)
when the function raises. A `{"batchItemFailures": [{"itemIdentifier": <messageId>}]}` answer keeps just
those messages, as with `ReportBatchItemFailures`.
"""

from __future__ import annotations

import hashlib
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any

Invoke = Callable[[dict[str, Any]], object]
Report = Callable[[str], None]

WAIT_TIME_S = 1
BATCH_SIZE = 10


def sqs_event(messages: list[Mapping[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The Lambda event for messages from ReceiveMessage (the shape of chalice's generate_sqs_event)."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": dict(message.get("Attributes", {})),
                "messageAttributes": dict(message.get("MessageAttributes", {})),
                "md5OfBody": message.get("MD5OfBody") or _md5(message["Body"]),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for message in messages
        ]
    }


def failed_message_ids(answer: object) -> set[str]:
    """The message ids a function reported as failed (partial batch response), else none."""
    if not isinstance(answer, Mapping):
        return set()
    failures = answer.get("batchItemFailures")
    if not isinstance(failures, list):
        return set()
    return {str(item["itemIdentifier"]) for item in failures if isinstance(item, Mapping)}


class Poller:
    """Feeds one queue to one function until stopped."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        invoke: Invoke,
        *,
        batch_size: int = BATCH_SIZE,
        wait_time_s: int = WAIT_TIME_S,
        report: Report = lambda line: print(line, file=sys.stderr, flush=True),
    ) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._invoke = invoke
        self._batch_size = batch_size
        self._wait_time_s = wait_time_s
        self._report = report
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        self._queue_arn: str = attributes["Attributes"]["QueueArn"]
        self._region: str = sqs.meta.region_name
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def poll_once(self) -> int:
        """Receive one batch (waiting up to the long-poll time), invoke, settle it; how many were handled."""
        received = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=self._batch_size,
            WaitTimeSeconds=self._wait_time_s,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[Mapping[str, Any]] = received.get("Messages", [])
        if not messages:
            return 0
        try:
            answer = self._invoke(sqs_event(messages, self._queue_arn, self._region))
        except Exception as error:  # the function failed: like Lambda, leave the batch for redelivery
            self._report(
                f"poller: the function failed on {len(messages)} message(s), left for redelivery: {error!r}"
            )
            return 0
        failed = failed_message_ids(answer)
        done = [message for message in messages if message["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self._queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(done)
                ],
            )
        return len(done)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sqs-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current long poll (at most the wait time plus one invocation)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll_once()
            except Exception as error:  # the queue itself failed: report, back off, keep polling
                self._report(f"poller: receiving from {self._queue_url} failed: {error!r}")
                self._stopping.wait(1.0)


def _md5(body: str) -> str:
    return hashlib.md5(body.encode(), usedforsecurity=False).hexdigest()
