"""Stable placeholders for what differs between any two runs, so a recording from any account compares.

- Names a test chose (with the run's unique prefix) are replaced by the label it gives them: `<blue>`,
  `<application>`; anything else carrying the run's prefix becomes `<prefix>...`.
- The account number becomes `<account>`, the region `<region>`.
- Dates (datetime values, ISO 8601 text, epoch milliseconds under a date key) become `<date>`.
- A Secrets Manager ARN's random suffix becomes `-<suffix>`; a duration in a message (`2 minutes`)
  `<duration>`.
- Request ids, load balancer endpoints, other UUIDs, environment ids and instance ids become numbered
  references in order of first appearance (`<request-id:1>`, `<uuid:2>`, `<environment-id:1>`,
  `<instance-id:1>`): the same value gets the same number, so a snapshot still shows that two events carry
  the same RequestId.
- ResponseMetadata (request id, HTTP headers, retries) is dropped: what a snapshot keeps of a call is named
  explicitly (`status`, `code`, `message`).

Replacements apply to values only, walking the observation in sorted-key order (so numbering is stable).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
ACCOUNT = re.compile(r"(?<![\d.])\d{12}(?![\d.])")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?\b")
ENVIRONMENT_ID = re.compile(r"\be-[a-z0-9]{10}\b")
SECRET_SUFFIX = re.compile(r"(:secret:[^\s\"']+?)-[A-Za-z0-9]{6}\b")  # Secrets Manager's random ARN suffix
DURATION = re.compile(r"\b\d+ (?:second|minute|hour)s?\b")  # "Initialization completed 1 second ago"
INSTANCE_ID = re.compile(r"\bi-[0-9a-f]{8}(?:[0-9a-f]{9})?\b")
DATE_KEYS = frozenset(
    {
        "EventDate",
        "DateCreated",
        "DateUpdated",
        "LastModifiedDate",
        "CreatedDate",
        "CreationTime",
        "LastUpdatedTime",
        "DeletionTime",
        "Timestamp",
        "RefreshedAt",
        "LaunchedAt",
        "time",
        "ingestion-time",
        "LastChangedDate",
        "LastAccessedDate",
        "LastRotatedDate",
        "NextRotationDate",
        "DeletedDate",
    }
)
REFERENCE_KEYS = {
    "EndpointURL": "endpoint-url",
    "RequestId": "request-id",
    "request_id": "request-id",
    "EventId": "event-id",
    "StackId": "stack-id",
    "id": "event-id",
}
DROPPED_KEYS = frozenset({"ResponseMetadata"})


@dataclass
class Placeholders:
    prefix: str
    region: str
    account: str | None = None
    names: dict[str, str] = field(default_factory=dict)  # value -> label

    def name(self, value: str, label: str) -> str:
        """From now on `value` reads `<label>` in every observation."""
        if not value:
            raise ValueError(f"cannot name an empty value {label!r}")
        self.names[value] = f"<{label}>"
        return self.names[value]

    def apply(self, observed: Any) -> Any:
        """`observed` with every varying value replaced (a new object; `observed` is left as it was).
        Only values change, never keys."""
        plain = _plain(observed)
        references: dict[str, str] = {}
        counters: dict[str, int] = {}
        _collect_keyed_references(plain, references, counters)
        seen: dict[str, str] = {}
        return _map_strings(plain, lambda text: self._replaced(text, references, counters, seen))

    def _replaced(
        self, text: str, references: dict[str, str], counters: dict[str, int], seen: dict[str, str]
    ) -> str:
        if text in references:
            return references[text]
        for value in sorted(self.names, key=len, reverse=True):
            text = text.replace(value, self.names[value])
        for value in sorted(references, key=len, reverse=True):
            text = text.replace(value, references[value])
        for pattern, label in (
            (UUID, "uuid"),
            (ENVIRONMENT_ID, "environment-id"),
            (INSTANCE_ID, "instance-id"),
        ):

            def number(match: re.Match[str], label: str = label) -> str:
                value = match.group(0)
                if value not in seen:
                    counters[label] = counters.get(label, 0) + 1
                    seen[value] = f"<{label}:{counters[label]}>"
                return seen[value]

            text = pattern.sub(number, text)
        if self.account:
            text = text.replace(self.account, "<account>")
        text = ACCOUNT.sub("<account>", text)
        text = SECRET_SUFFIX.sub(r"\1-<suffix>", text)
        text = DURATION.sub("<duration>", text)
        return text.replace(self.region, "<region>").replace(self.prefix, "<prefix>")


def _map_strings(value: Any, change: Any) -> Any:
    """`value` with `change` applied to every string value, in the order of sorted keys; a key changes
    only when it is an id itself (VersionIdsToStages is keyed by version ids)."""
    if isinstance(value, dict):
        return {
            (change(key) if UUID.fullmatch(key) else key): _map_strings(value[key], change)
            for key in sorted(value)
        }
    if isinstance(value, list):
        return [_map_strings(item, change) for item in value]
    if isinstance(value, str):
        return change(value)
    return value


def _plain(value: Any, key: str | None = None) -> Any:
    """JSON-ready data: dates as `<date>`, bytes and streams as a marker, ResponseMetadata dropped."""
    if isinstance(value, dict):
        return {str(k): _plain(v, str(k)) for k, v in value.items() if k not in DROPPED_KEYS}
    if isinstance(value, list | tuple):
        return [_plain(item, key) for item in value]
    if isinstance(value, datetime | date):
        return "<date>"
    if key in DATE_KEYS and isinstance(value, int | float | str) and not isinstance(value, bool):
        return "<date>"
    if isinstance(value, str):
        return ISO_DATE.sub("<date>", value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if value is None or isinstance(value, bool | int | float):
        return value
    return f"<{type(value).__name__}>"


def _collect_keyed_references(value: Any, references: dict[str, str], counters: dict[str, int]) -> None:
    """Values under a reference key (RequestId, StackId, ...), numbered in the order a sorted dump meets
    them."""
    if isinstance(value, dict):
        for key in sorted(value):
            item = value[key]
            label = REFERENCE_KEYS.get(key)
            if label is not None and isinstance(item, str) and item and item not in references:
                counters[label] = counters.get(label, 0) + 1
                references[item] = f"<{label}:{counters[label]}>"
            _collect_keyed_references(item, references, counters)
    elif isinstance(value, list):
        for item in value:
            _collect_keyed_references(item, references, counters)
