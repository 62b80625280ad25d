"""Everything a parity run creates, under one unique prefix and tag, and its deletion when the run ends
(the rehearsal's Teardown: written down before created, deleted newest first, Ctrl-C ignored meanwhile)."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from rehearsal.teardown import Teardown, gone_if_missing

__all__ = ["TAG_KEY", "Ledger", "gone_if_missing", "new_prefix"]

TAG_KEY = "deliverypipeline-parity"


def new_prefix(kind: str = "parity") -> str:
    """`par-` + 6 hex: short enough for every name AWS limits (environment names 4-40, CNAME prefixes)."""
    return f"{kind[:3]}-{secrets.token_hex(3)}"


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass
class Ledger:
    prefix: str
    say: Callable[[str], None] = field(default=_to_stderr)
    teardown: Teardown = field(init=False)

    def __post_init__(self) -> None:
        self.teardown = Teardown(say=lambda _line: None)

    @property
    def tag(self) -> dict[str, str]:
        return {"Key": TAG_KEY, "Value": self.prefix}

    @property
    def tags(self) -> list[dict[str, str]]:
        return [self.tag]

    def name(self, suffix: str) -> str:
        return f"{self.prefix}-{suffix}"

    def will_create(self, what: str, delete: Callable[[], None]) -> None:
        """Record `what` before creating it; `delete` must accept that it may not exist."""
        self.teardown.will_create(what, delete)

    def cleanup(self) -> list[str]:
        """Delete everything recorded, newest first; the failures (empty: all gone)."""
        count = len(self.teardown.recorded)
        if count:
            self.say(f"parity: deleting the {count} resources of run {self.prefix} ...")
        failures = self.teardown.run()
        for failure in failures:
            self.say(f"parity: could not delete {failure} - delete it by hand (tag {TAG_KEY}={self.prefix})")
        return failures
