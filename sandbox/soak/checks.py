"""The soak's invariants, checked after each round over what it observed (pure).

- Every deployment that ran under a fault ends as `plan.EXPECTED` says (survived, failed before
  production, or swapped back).
- At most one swap per deployment and its swap back: the CNAME swaps Beanstalk completed during the round
  are exactly those the records and the accepted rollbacks account for.
- Production never serves a version before its deployment's swap started, so never one that failed its
  smoke test (or anything else before the swap); a failure before the swap never touches production.
- Production answers, after the round, the version the records say it runs.
- No record stuck; no tick in the dead-letter queue; every production call answered (but the 500s the
  errors-after-swap fault makes the new version answer, in its round); two rollback requests for one
  deployment at once are never both accepted.
- No environment is redeployed while the front still sends it production's traffic: no request for the
  production name reached an environment between the start and the end of an update of it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from moto_ext import Fault
from sandbox.soak.plan import EXPECTED, Round

# The records' step times are whole seconds; a version first answering within this of its swap is on time.
TIMESTAMP_SLACK = timedelta(seconds=1)
SHOWN_FAILURES = 3
CONTROLLER_ROLLBACK = "rolled back by the controller"
REQUESTED_ROLLBACK = "rolled back by request"
INJECTED_ERROR = "errors-after-swap"  # what the front's 500s for that fault say


@dataclass(frozen=True)
class UpdateSeen:
    """An update of an environment Beanstalk ran during the round, and how many of production's requests
    the front sent to that environment meanwhile."""

    environment: str
    started: datetime
    ended: datetime
    user_requests: int


@dataclass(frozen=True)
class RollbackAnswer:
    """What `POST /deployments/{id}/rollback` answered, and the version that deployment replaced."""

    deployment_id: str
    status: int
    previous_label: str | None
    error: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status == 202


@dataclass(frozen=True)
class RoundResult:
    round: Round
    records: tuple[dict[str, Any], ...]  # the round's deployments as GET /deployments/{id} shows them
    rollbacks: tuple[RollbackAnswer, ...]
    swaps: int  # CNAME swaps Beanstalk completed during the round
    served_before: str | None  # the version production answered before the round (None: no answer)
    served_after: str | None
    unfinished: tuple[str, ...] = ()  # records left queued/running, with why (the runner's findings)
    failed_calls: tuple[str, ...] = ()  # production calls that failed during the round
    first_seen: dict[str, datetime] = field(default_factory=dict)  # versions production first answered now
    dead_letters: int = 0
    quiet: bool = True  # Beanstalk had settled every operation when the round was checked
    updates: tuple[UpdateSeen, ...] = ()


@dataclass
class History:
    """What earlier rounds left: every deployment's latest view by version label, and the initial version."""

    initial_label: str
    initial_served: str
    by_label: dict[str, dict[str, Any]] = field(default_factory=dict)
    dead_letters: int = 0

    def served(self, label: str | None) -> str | None:
        """What production answers (the web app's version) while it runs that version label."""
        return self.initial_served if label == self.initial_label else label

    def absorb(self, result: RoundResult) -> None:
        self.update(result.records)
        self.dead_letters = max(self.dead_letters, result.dead_letters)

    def update(self, records: Iterable[dict[str, Any]]) -> None:
        for record in records:
            self.by_label[str(record["version_label"])] = record

    def rollback_target(self) -> dict[str, Any] | None:
        """The most recent succeeded deployment (what a rollback may undo), if any."""
        succeeded = [r for r in self.by_label.values() if r["status"] == "succeeded"]
        return max(succeeded, key=_finished_at) if succeeded else None


def check_round(result: RoundResult, history: History) -> list[str]:
    """Every invariant the round broke, as sentences (empty: none)."""
    where = f"round {result.round.number} ({result.round.kind}, fault {result.round.fault_name})"
    known = {**history.by_label, **{str(r["version_label"]): r for r in result.records}}
    violations = [f"{where}: {problem}" for problem in result.unfinished]
    violations += [f"{where}: {problem}" for problem in _outcomes(result)]
    violations += [f"{where}: {problem}" for problem in _swaps(result)]
    violations += [f"{where}: {problem}" for problem in _production(result, history)]
    violations += [f"{where}: {problem}" for problem in _served_too_early(result.first_seen, known, history)]
    violations += [f"{where}: {problem}" for problem in _rollbacks(result)]
    failed = [call for call in result.failed_calls if not _injected(call, result.round)]
    if failed:
        shown = "; ".join(failed[:SHOWN_FAILURES])
        violations.append(f"{where}: {len(failed)} production calls failed: {shown}")
    violations += [f"{where}: {problem}" for problem in _redeployed_in_use(result.updates)]
    if result.dead_letters > history.dead_letters:
        violations.append(f"{where}: {result.dead_letters} tick(s) in the reconcile dead-letter queue")
    if not result.quiet:
        violations.append(f"{where}: Beanstalk still had operations in progress after the round")
    return violations


def expected_production(result: RoundResult, history: History) -> str | None:
    """What production must answer after the round: the last deployment that succeeded in it; else the
    version the last accepted rollback went back to; else what it answered before."""
    succeeded = [r for r in result.records if r["status"] == "succeeded"]
    if succeeded:
        return history.served(str(max(succeeded, key=_finished_at)["version_label"]))
    accepted = [a for a in result.rollbacks if a.accepted]
    if accepted:
        return history.served(accepted[-1].previous_label)
    return result.served_before


def outcomes(records: Iterable[dict[str, Any]]) -> Counter[str]:
    return Counter(str(r["status"]) for r in records)


# --- the invariants ---------------------------------------------------------------------------------------


def _outcomes(result: RoundResult) -> list[str]:
    expected = EXPECTED[result.round.fault]
    problems = []
    for record in result.records:
        status = str(record["status"])
        if status in ("queued", "running"):
            continue  # reported as unfinished
        if status == "superseded":
            continue  # never ran: a newer notification replaced it
        ended = "succeeded" if _rolled_back_by_request(record) else status
        if ended != expected:
            problems.append(
                f"{record['id']} ({record['version_label']}) ended {status}, expected {expected} under "
                f"fault {result.round.fault_name}: {record.get('error')}"
            )
    return problems


def _swaps(result: RoundResult) -> list[str]:
    forward = sum(1 for r in result.records if r["status"] in ("succeeded", "rolled_back"))
    back = sum(1 for r in result.records if str(r.get("error") or "").startswith(CONTROLLER_ROLLBACK))
    requested = sum(1 for answer in result.rollbacks if answer.accepted)
    accounted = forward + back + requested
    if result.swaps == accounted:
        return []
    return [
        f"Beanstalk completed {result.swaps} CNAME swap(s); the records account for {accounted} "
        f"({forward} forward, {back} swapped back by the controller, {requested} rollback(s) by request)"
    ]


def _production(result: RoundResult, history: History) -> list[str]:
    expected = expected_production(result, history)
    if result.served_after is None:
        return [f"production did not answer GET /health after the round (the records say {expected!r})"]
    if result.served_after == expected:
        return []
    return [f"production answers {result.served_after!r} after the round; the records say {expected!r}"]


def _served_too_early(
    first_seen: dict[str, datetime], known: dict[str, dict[str, Any]], history: History
) -> list[str]:
    """Production traffic never met a version before its deployment's swap started (a failure before the
    swap, a smoke test included, never reached production)."""
    problems = []
    for version, seen in sorted(first_seen.items()):
        if version == history.initial_served:
            continue
        record = known.get(version)
        if record is None:
            problems.append(f"production served {version}, which no deployment of this soak made")
            continue
        swap = _step(record, "swap")
        started = _moment(swap.get("started_at")) if swap else None
        if started is None:
            problems.append(
                f"production served {version} at {seen:%H:%M:%S.%f}, though {record['id']} "
                f"({record['status']}) never started its swap: {record.get('error')}"
            )
        elif seen < started - TIMESTAMP_SLACK:
            problems.append(
                f"production served {version} at {seen:%H:%M:%S.%f}, before {record['id']} started its swap "
                f"({started:%H:%M:%S})"
            )
    return problems


def _rollbacks(result: RoundResult) -> list[str]:
    accepted = Counter(answer.deployment_id for answer in result.rollbacks if answer.accepted)
    return [
        f"{count} rollbacks of {target} at once were all accepted"
        for target, count in accepted.items()
        if count > 1
    ]


def _injected(call: str, played: Round) -> bool:
    """A 500 the errors-after-swap fault had the new version answer, in that fault's round."""
    return played.fault is Fault.ERRORS_AFTER_SWAP and INJECTED_ERROR in call


def _redeployed_in_use(updates: tuple[UpdateSeen, ...]) -> list[str]:
    return [
        f"{u.user_requests} of production's requests reached {u.environment} while it was redeployed "
        f"({u.started:%H:%M:%S.%f} to {u.ended:%H:%M:%S.%f}): it was not drained"
        for u in updates
        if u.user_requests
    ]


# --- reading the records -------------------------------------------------------------------------------


def _rolled_back_by_request(record: dict[str, Any]) -> bool:
    return record["status"] == "rolled_back" and str(record.get("error") or "").startswith(REQUESTED_ROLLBACK)


def _step(record: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((s for s in record.get("steps", []) if s["name"] == name), None)


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _finished_at(record: dict[str, Any]) -> str:
    return str(record.get("updated_at") or "")
