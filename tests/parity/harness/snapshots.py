"""Snapshot files: what AWS answered (or documents) for one test, with where that knowledge comes from.

    tests/parity/snapshots/<test name>.json
    {
      "test": "test_versions.py::test_a_label_that_exists_is_refused",
      "documented": "https://...",              # or "recorded": {"region", "date", "client versions"}
      "sources": {"refused.message": "https://... (what it is)"},   # where one value comes from, if elsewhere
      "match": "at-least",                       # or "exact-keys", "exact" (comparison.py)
      "unchecked": {"refused.message": "why this value is not compared"},
      "content": {"refused": {"status": 400, "code": "...", "message": "..."}}
    }

A test calls `snapshot.match(key, observed)` for each thing it checks; when the test ends the session either
compares every key with the file (a missing file or key is a failure: nothing passes unrecorded) or, with
`--record`, writes what the target answered, with `recorded` provenance and `exact-keys` matching. What the
test declared volatile (`snapshot.volatile(path, reason)`) stays unchecked in a recording; a documented file's
other notes go, since the recording is now the better knowledge.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .comparison import AT_LEAST, EXACT_KEYS, Rules, differences
from .placeholders import Placeholders

PROVENANCES = ("documented", "recorded")


class SnapshotError(AssertionError):
    """The target's answer does not hold against the snapshot (or there is no snapshot to hold it against)."""


@dataclass
class SnapshotFile:
    path: Path
    data: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> SnapshotFile:
        if not path.exists():
            raise SnapshotError(
                f"no snapshot {path}: record one (--record) or write it from AWS's documentation"
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise SnapshotError(f"{path} is not valid JSON: {error}") from None
        found = cls(path, data)
        found.validate()
        return found

    def validate(self) -> None:
        named = [key for key in PROVENANCES if key in self.data]
        if len(named) != 1:
            raise SnapshotError(
                f"{self.path}: names its provenance once, as one of {PROVENANCES}; found {named}"
            )
        documented = self.data.get("documented")
        if documented is not None and not str(documented).startswith("https://"):
            raise SnapshotError(f"{self.path}: 'documented' must be the URL of the page, got {documented!r}")
        recorded = self.data.get("recorded")
        if recorded is not None and not {"region", "date", "client versions"} <= set(recorded):
            raise SnapshotError(f"{self.path}: 'recorded' needs region, date and client versions")
        if not isinstance(self.data.get("content"), dict):
            raise SnapshotError(f"{self.path}: has no 'content' object")

    @property
    def content(self) -> dict[str, Any]:
        return dict(self.data["content"])

    @property
    def rules(self) -> Rules:
        default = AT_LEAST if "documented" in self.data else EXACT_KEYS
        return Rules(self.data.get("match", default), tuple(self.data.get("unchecked", {})))


@dataclass
class Session:
    """One test's snapshot: the keys it matched, the names it gave, and how it ends (compare or record)."""

    test: str
    path: Path
    placeholders: Placeholders
    record: bool
    provenance: dict[str, Any] | None = None  # the `recorded` block, when recording
    observed: dict[str, Any] = field(default_factory=dict)
    volatiles: dict[str, str] = field(default_factory=dict)

    def name(self, value: str, label: str) -> str:
        """Show `value` (a name this run chose) as `<label>` in the snapshot."""
        return self.placeholders.name(value, label)

    def volatile(self, path: str, reason: str) -> None:
        """A value that differs from run to run even on AWS (never compared, kept so in a recording)."""
        self.volatiles[path] = reason

    def match(self, key: str, observed: Any) -> None:
        if key in self.observed:
            raise ValueError(f"snapshot key {key!r} matched twice in {self.test}")
        self.observed[key] = observed

    def finish(self) -> None:
        """Compare what the test observed with the file, or write it (--record)."""
        if not self.observed:
            raise SnapshotError(f"{self.test} matched nothing against its snapshot")
        observed = self.placeholders.apply(self.observed)
        if self.record:
            self._write(observed)
            return
        snapshot = SnapshotFile.load(self.path)
        expected = snapshot.content
        rules = snapshot.rules
        rules = Rules(rules.match, (*rules.unchecked, *self.volatiles))
        found = [
            f"{key}: not in the snapshot (record it)"
            for key in observed
            if key not in expected and not rules.skips(key)
        ]
        found += [
            f"{key}: in the snapshot, not observed by the test" for key in expected if key not in observed
        ]
        for key in expected.keys() & observed.keys():
            found.extend(differences(expected[key], observed[key], rules, key))
        if found:
            source = snapshot.data.get("documented") or f"recorded {snapshot.data['recorded']}"
            seen = json.dumps(observed, indent=1, ensure_ascii=False)
            raise SnapshotError(
                f"{self.path.name} ({source}) does not hold:\n  "
                + "\n  ".join(found)
                + f"\nwhat the target answered (placeholders applied):\n{seen[:6000]}"
            )

    def _write(self, observed: dict[str, Any]) -> None:
        data: dict[str, Any] = {"test": self.test, "recorded": self.provenance, "match": EXACT_KEYS}
        if self.volatiles:
            data["unchecked"] = dict(sorted(self.volatiles.items()))
        data["content"] = observed
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
