"""What a snapshot keeps of an answer: a refusal's status, code and message; an event list's severities and
messages, oldest first; an answer without its transport metadata."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any


def refusal(call: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """The error `call` answers: {"status", "code", "message"}; AssertionError when it succeeds."""
    from botocore.exceptions import ClientError

    try:
        answered = call(*args, **kwargs)
    except ClientError as error:
        info = error.response.get("Error", {})
        return {
            "status": error.response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
            "code": info.get("Code"),
            "message": info.get("Message"),
        }
    raise AssertionError(f"expected a refusal, the call succeeded: {answered!r}")


def answer(response: dict[str, Any]) -> dict[str, Any]:
    """The response without ResponseMetadata."""
    return {key: value for key, value in response.items() if key != "ResponseMetadata"}


def server_time(response: dict[str, Any]) -> datetime:
    """When the target answered, by its own clock (the `date` header): windows of events use it, so a
    local clock that is off does not cut events."""
    date = response["ResponseMetadata"]["HTTPHeaders"]["date"]
    return parsedate_to_datetime(date)


def event_lines(events: Iterable[dict[str, Any]], *fields: str) -> list[dict[str, Any]]:
    """DescribeEvents' events (newest first, as AWS lists them) as {"severity", "message", *fields},
    oldest first."""
    lines = []
    for event in events:
        line = {"severity": event.get("Severity"), "message": event.get("Message")}
        for name in fields:
            line[name] = event.get(name)
        lines.append(line)
    return list(reversed(lines))


def eventbridge_lines(messages: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """EventBridge events as a snapshot keeps them, in the order Beanstalk wrote them (detail.EventDate)."""
    ordered = sorted(messages, key=lambda message: message.get("detail", {}).get("EventDate", 0))
    return [
        {
            "detail-type": message.get("detail-type"),
            "source": message.get("source"),
            "detail": {
                key: message.get("detail", {}).get(key)
                for key in ("Status", "Severity", "Message", "EnvironmentName", "ApplicationName")
            },
        }
        for message in ordered
    ]
