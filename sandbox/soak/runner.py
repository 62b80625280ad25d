"""`python -m sandbox soak [--deployments N] [--seed S]`: many deployments through the whole sandbox, as
`sandbox up --realistic` runs it, under the emulation's faults, with notifications arriving together and
rollbacks racing them, while production traffic runs throughout.

Each round (`plan.py`) switches one fault on over the emulation's HTTP control surface, sends its
notifications (and rollback requests) through the controller's signed API, waits until every record has
finished (a record left queued or running with no tick on the queue is stuck, found as soon as it is),
waits until Beanstalk has settled every operation, switches the fault off, and checks the invariants
(`checks.py`) against what the controller's records, Beanstalk's events and production's answers show.
Production is called on its public name through the CNAME front (DNS lag included) by two callers all the
time; at the end, the web app's own count must equal the calls answered, version by version.

Progress goes to stderr; the last line on stdout is one JSON summary (contract §3).
"""

from __future__ import annotations

import functools
import json
import shutil
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from moto_ext import ControlClient, ControlError
from sandbox import pipeline_api
from sandbox.pipeline_api import PipelineError
from sandbox.soak.checks import (
    INJECTED_ERROR,
    History,
    RollbackAnswer,
    RoundResult,
    UpdateSeen,
    check_round,
    outcomes,
)
from sandbox.soak.plan import Kind, Round, plan
from sandbox.stack import CONTROLLER_LOG, FAKE_CREDENTIALS, INSTANCE_LOGS, Stack
from sandbox.traffic import Background, Production

FINISHED = frozenset({"succeeded", "failed", "superseded", "rolled_back"})
ROUND_TIMEOUT_S = 600.0  # the longest a round's records may take to finish (all waits end well before)
QUIET_TIMEOUT_S = 120.0  # the longest Beanstalk may take to settle what a round started
STUCK_AFTER_S = 3.0  # a record unchanged this long with nothing on the queue is stuck
POLL_S = 0.5
CALLERS = 2
CALL_INTERVAL_S = 0.05
SWAP_COMPLETED = "Completed swapping CNAMEs"
UPDATE_STARTING = "Environment update is starting."
UPDATE_ENDED = (  # how Beanstalk's events say an update is over (succeeded, failed, aborted)
    "Environment update completed successfully.",
    "Failed to deploy application.",
    "Environment update was aborted.",
)
RETRIES = Config(retries={"mode": "standard", "max_attempts": 20})  # `throttle` answers a share Throttling

_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))

Report = Callable[[str], None]


@dataclass
class Summary:
    seed: int
    deployments: int = 0
    rounds: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    rollbacks: Counter[str] = field(default_factory=Counter)
    swaps: int = 0
    prod_calls: int = 0
    prod_failed_calls: int = 0
    prod_injected_errors: int = 0  # of those, the 500s errors-after-swap had the new version answer
    counts_exact: bool = False
    violations: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "deployments": self.deployments,
            "outcomes": dict(sorted(self.outcomes.items())),
            "faults": dict(sorted(self.faults.items())),
            "swaps": self.swaps,
            "prod_calls": self.prod_calls,
            "prod_failed_calls": self.prod_failed_calls,
            "prod_injected_errors": self.prod_injected_errors,
            "counts_exact": self.counts_exact,
            "violations": self.violations,
            "seed": self.seed,
            "rounds": self.rounds,
            "rollbacks": dict(sorted(self.rollbacks.items())),
            "seconds": round(self.seconds, 1),
        }


def run(stack: Stack, deployments: int, seed: int, report: Report) -> Summary:
    """Soak the started `stack` with `deployments` deployments planned from `seed`."""
    rounds = plan(deployments, seed)
    report(f"soak: {sum(r.notifications for r in rounds)} deployments in {len(rounds)} rounds, seed {seed}")
    with Soak(stack, report, seed) as soak:
        try:
            for chosen in rounds:
                soak.play(chosen)
        except (SoakError, ControlError, PipelineError, OSError) as error:  # a part stopped answering
            soak.summary.violations.append(
                f"the soak could not go on after {soak.summary.rounds} rounds: {error}"
            )
        summary = soak.finish()
    if summary.violations:
        report(f"soak: the controller's and the instances' logs are kept in {keep_logs(stack)}")
    return summary


def keep_logs(stack: Stack) -> Path:
    """A copy of the run's logs that outlives the stack (its run directory goes when it stops)."""
    kept = Path(tempfile.mkdtemp(prefix="deliverypipeline-soak-logs-"))
    for log in [stack.run_dir / CONTROLLER_LOG, *sorted((stack.run_dir / INSTANCE_LOGS).glob("*.log"))]:
        if log.is_file():
            shutil.copy2(log, kept / log.name)
    return kept


class Soak:
    """Production traffic runs from `with Soak(...)` to `finish()`; `play(round)` runs and checks a round."""

    def __init__(self, stack: Stack, report: Report, seed: int = 0) -> None:
        assert stack.info is not None, "start the stack first"
        self.info = stack.info
        self.stack = stack
        self.names = stack.options.names
        self.image = stack.options.image_repository
        self.report = report
        self.controls = ControlClient(self.info.aws_endpoint)
        self.production = Production(self.names.cname(self.names.prod_prefix), self.info.cname_proxy)
        session = boto3.session.Session(
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=self.info.region,
        )
        self.eb = session.client("elasticbeanstalk", endpoint_url=self.info.aws_endpoint, config=RETRIES)
        self.sqs = session.client("sqs", endpoint_url=self.info.aws_endpoint, config=RETRIES)
        cfn = session.client("cloudformation", endpoint_url=self.info.aws_endpoint, config=RETRIES)
        outputs = {
            o["OutputKey"]: o["OutputValue"]
            for o in cfn.describe_stacks(StackName=self.names.controller_stack)["Stacks"][0]["Outputs"]
        }
        self.queue_url = self._queue_url(outputs["ReconcileQueueUrl"])
        self.dead_letter_url = self._queue_url(outputs["ReconcileDeadLetterQueueUrl"])
        self.base_faults = self.controls.active()  # --realistic keeps dns-lag on: never switched off here
        self.tags = (f"1.{n}.0" for n in range(1, 1_000_000))
        self.history = History(self._production_label(), initial_served=stack.options.first_tag)
        self.summary = Summary(seed=seed)
        self.ids: list[str] = []
        self._traffic = Background(self.production, callers=CALLERS, interval_s=CALL_INTERVAL_S)
        self.tally = self._traffic.tally
        self._started = time.monotonic()

    def __enter__(self) -> Soak:
        self._traffic.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._traffic.__exit__()

    def play(self, chosen: Round) -> tuple[RoundResult, list[str]]:
        """Run one round and check it; what it did and the invariants it broke."""
        result = self._round(chosen)
        found = check_round(result, self.history)
        self.history.absorb(result)
        self.ids += [str(r["id"]) for r in result.records]
        summary = self.summary
        summary.rounds += 1
        summary.deployments += len(result.records)
        summary.faults[chosen.fault_name] += len(result.records)
        summary.swaps += result.swaps
        summary.rollbacks.update("accepted" if a.accepted else "refused" for a in result.rollbacks)
        summary.violations += found
        self._progress(chosen, result, found)
        return result, found

    def finish(self) -> Summary:
        """Stop the traffic, check the web app's count against it, and sum up."""
        self._traffic.__exit__()
        summary = self.summary
        answered, failures, _ = self.tally.snapshot()
        summary.prod_failed_calls = len(failures)
        summary.prod_injected_errors = sum(1 for failure in failures if INJECTED_ERROR in failure)
        summary.prod_calls = sum(answered.values()) + len(failures)
        summary.counts_exact, problem = self._counts_exact(answered)
        if problem is not None:
            summary.violations.append(problem)
        try:
            summary.outcomes = outcomes(self._record(deployment_id) for deployment_id in self.ids)
        except (PipelineError, OSError) as error:
            summary.violations.append(f"the deployments' outcomes could not be read: {error}")
        summary.seconds = time.monotonic() - self._started
        return summary

    # --- one round ----------------------------------------------------------------------------------------

    def _round(self, chosen: Round) -> RoundResult:
        since = datetime.now(UTC)  # the last round's swaps settled (and were stamped) before this
        _, failures_before, seen_before = self.tally.snapshot()
        served_before = self._served()
        switched = chosen.fault is not None and chosen.fault not in self.base_faults
        if switched and chosen.fault is not None:
            self.controls.arm(chosen.fault)
        rollbacks: list[RollbackAnswer] = []
        unfinished: list[str] = []
        try:
            ids, raced = self._notify(chosen)
            rollbacks += raced
            unfinished += self._await_finished(ids)
            if chosen.kind is Kind.ROLLBACK and self._record(ids[-1])["status"] == "succeeded":
                rollbacks += self._concurrently(
                    [lambda: self._rollback(self._record(ids[-1])) for _ in range(2)]
                )
            # a rollback runs until production answers the previous version
            unfinished += self._await_finished(sorted({a.deployment_id for a in rollbacks if a.accepted}))
            quiet = self._await_quiet()
        finally:
            if switched and chosen.fault is not None:
                self.controls.clear(chosen.fault)
        targets = {a.deployment_id for a in rollbacks} - set(ids)
        self.history.update(self._record(t) for t in targets)  # a raced rollback changed its record
        _, failures, seen = self.tally.snapshot()
        return RoundResult(
            round=chosen,
            records=tuple(self._record(deployment_id) for deployment_id in ids),
            rollbacks=tuple(rollbacks),
            swaps=self._swaps_since(since),
            served_before=served_before,
            served_after=self._served(),
            unfinished=tuple(unfinished),
            failed_calls=tuple(failures[len(failures_before) :]),
            first_seen={v: at for v, at in seen.items() if v not in seen_before},
            dead_letters=self._messages(self.dead_letter_url),
            quiet=quiet,
            updates=self.updates_since(since),
        )

    def _notify(self, chosen: Round) -> tuple[list[str], list[RollbackAnswer]]:
        """Send the round's notifications (together, for a burst), and a racing rollback; the ids."""
        tags = [next(self.tags) for _ in range(chosen.notifications)]
        posts: list[Callable[[], Any]] = [functools.partial(self._deploy, tag) for tag in tags]
        target = self.history.rollback_target() if chosen.kind is Kind.RACE else None
        if target is not None:
            posts.append(lambda: self._rollback(target))
        answers = self._concurrently(posts)
        ids = [answer for answer in answers if isinstance(answer, str)]
        return ids, [answer for answer in answers if isinstance(answer, RollbackAnswer)]

    def _deploy(self, tag: str) -> str:
        status, answer = self._post("/deployments", {"image": self.image, "tag": tag})
        if status != 202:
            raise SoakError(f"POST /deployments for {tag} answered {status}: {answer}")
        return str(answer["id"])

    def _rollback(self, record: dict[str, Any]) -> RollbackAnswer:
        deployment_id = str(record["id"])
        status, answer = self._post(f"/deployments/{deployment_id}/rollback")
        if status not in (202, 409):
            raise SoakError(f"POST /deployments/{deployment_id}/rollback answered {status}: {answer}")
        return RollbackAnswer(
            deployment_id, status, record.get("previous_version_label"), answer.get("error")
        )

    def _await_finished(self, ids: list[str]) -> list[str]:
        """Wait until every record has finished; what is left unfinished, and why (stuck, or too slow)."""
        deadline = time.monotonic() + ROUND_TIMEOUT_S
        idle_since: float | None = None
        last: dict[str, str] = {}
        while True:
            records = {deployment_id: self._record(deployment_id) for deployment_id in ids}
            waiting = {i: r for i, r in records.items() if r["status"] not in FINISHED}
            if not waiting:
                return []
            now = time.monotonic()
            changes = {i: str(r["updated_at"]) + str(r["steps"]) for i, r in waiting.items()}
            if changes != last or self._messages(self.queue_url, in_flight=True) > 0:
                idle_since, last = None, changes
            elif idle_since is None:
                idle_since = now
            elif now - idle_since >= STUCK_AFTER_S:
                return [
                    f"{i} is stuck: {r['status']} ({_current_step(r)}) with no tick on the queue"
                    for i, r in waiting.items()
                ]
            if now > deadline:
                return [
                    f"{i} still {r['status']} after {ROUND_TIMEOUT_S:g} s ({_current_step(r)})"
                    for i, r in waiting.items()
                ]
            time.sleep(POLL_S)

    def _await_quiet(self) -> bool:
        """Wait until Beanstalk has no update, swap or launch in progress and every environment is Ready, and
        no caller of production's name lingers on the environment that lost it (slow-drain)."""
        deadline = time.monotonic() + QUIET_TIMEOUT_S
        while time.monotonic() < deadline:
            state = self.controls.state()
            busy = [op for op in state["pending_operations"] if op["kind"] != "health"]
            settled = not busy and all(env["status"] == "Ready" for env in state["environments"].values())
            if settled and self.stack.lingering_until() is None:
                return True
            time.sleep(POLL_S)
        return False

    # --- what the soak looks at -----------------------------------------------------------------------

    def _record(self, deployment_id: str) -> dict[str, Any]:
        path = f"/deployments/{deployment_id}"
        return pipeline_api.get(self.info.controller_url, self.info.signing_secret, path)

    def _post(self, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        return pipeline_api.post(self.info.controller_url, self.info.signing_secret, path, body)

    def _served(self) -> str | None:
        """The version production answers now (its loadbalancer, no DNS), or None when it does not."""
        try:
            with _DIRECT.open(f"{self.info.prod_url}/health", timeout=10) as response:
                return str(json.loads(response.read()).get("version"))
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def _production_label(self) -> str:
        prod = self.names.cname(self.names.prod_prefix)
        described = self.eb.describe_environments(ApplicationName=self.info.application, IncludeDeleted=False)
        return next(str(e["VersionLabel"]) for e in described["Environments"] if e.get("CNAME") == prod)

    def _swaps_since(self, since: datetime) -> int:
        """CNAME swaps Beanstalk completed since `since` (its event on the blue environment, one per swap)."""
        pages = self.eb.get_paginator("describe_events").paginate(
            ApplicationName=self.info.application, EnvironmentName=self.names.blue, StartTime=since
        )
        return sum(1 for page in pages for e in page["Events"] if e["Message"].startswith(SWAP_COMPLETED))

    def deploy_and_wait(self) -> dict[str, Any]:
        """Deploy the next tag alone and wait until it has finished; its record."""
        deployment_id = self._deploy(next(self.tags))
        self.ids.append(deployment_id)
        problems = self._await_finished([deployment_id])
        if problems:
            raise SoakError("; ".join(problems))
        return self._record(deployment_id)

    def updates_since(self, since: datetime) -> tuple[UpdateSeen, ...]:
        """The updates Beanstalk ran on either environment since `since`, from its events, with the
        production requests the front sent to that environment meanwhile."""
        found = []
        for env_name in (self.names.blue, self.names.green):
            pages = self.eb.get_paginator("describe_events").paginate(
                ApplicationName=self.info.application, EnvironmentName=env_name, StartTime=since
            )
            events = sorted((e["EventDate"], e["Message"]) for page in pages for e in page["Events"])
            started: datetime | None = None
            for moment, message in events:
                if message == UPDATE_STARTING:
                    started = moment
                elif started is not None and message.startswith(UPDATE_ENDED):
                    found.append(self._update(env_name, started, moment))
                    started = None
            if started is not None:
                found.append(self._update(env_name, started, datetime.now(UTC)))
        return tuple(found)

    def _update(self, env_name: str, started: datetime, ended: datetime) -> UpdateSeen:
        reached = self.stack.traffic_log.reached(env_name, started.timestamp(), ended.timestamp())
        return UpdateSeen(env_name, started, ended, len(reached))

    def _messages(self, queue_url: str, in_flight: bool = False) -> int:
        names = ["ApproximateNumberOfMessages"]
        if in_flight:
            names += ["ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]
        found = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)["Attributes"]
        return sum(int(found.get(name, 0)) for name in names)

    def _queue_url(self, output: str) -> str:
        name = output.rstrip("/").rsplit("/", 1)[-1]
        return str(self.sqs.get_queue_url(QueueName=name)["QueueUrl"])

    def _counts_exact(self, answered: Counter[str]) -> tuple[bool, str | None]:
        """With the traffic stopped: does the web app count exactly the calls production answered?"""
        try:
            final = self.production.call()
        except OSError as error:
            return False, f"the final count could not be read from production: {error}"
        expected = answered + Counter({str(final["version"]): 1})
        counted = Counter({str(v): int(n) for v, n in final["calls_by_version"].items()})
        if int(final["calls"]) == sum(expected.values()) and counted == expected:
            return True, None
        return False, (
            f"the web app counted {final['calls']} calls {dict(counted)}; production answered "
            f"{sum(expected.values())} {dict(expected)}"
        )

    def _progress(self, chosen: Round, result: RoundResult, found: list[str]) -> None:
        ended = ", ".join(f"{r['version_label']} {r['status']}" for r in result.records)
        raced = "".join(
            f"; rollback of {a.deployment_id}: {a.status}" + (f" ({a.error})" if a.error else "")
            for a in result.rollbacks
        )
        answered, failures, _ = self.tally.snapshot()
        self.report(
            f"soak: round {chosen.number} ({chosen.kind}, fault {chosen.fault_name}): {ended}{raced}; "
            f"{result.swaps} swap(s); production {result.served_after}; "
            f"{sum(answered.values()) + len(failures)} calls, {len(failures)} failed"
            + (f"; {len(found)} VIOLATION(S): " + " | ".join(found) if found else "")
        )

    @staticmethod
    def _concurrently(calls: list[Callable[[], Any]]) -> list[Any]:
        """Run the calls at the same moment on threads; their answers in order (an error is raised here)."""
        answers: list[Any] = [None] * len(calls)
        errors: list[BaseException] = []
        start = threading.Barrier(len(calls))

        def run(index: int, call: Callable[[], Any]) -> None:
            try:
                start.wait()
                answers[index] = call()
            except BaseException as error:  # handed to the caller below
                errors.append(error)

        threads = [threading.Thread(target=run, args=(i, c), daemon=True) for i, c in enumerate(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        return answers


class SoakError(RuntimeError):
    """The soak could not go on (the controller refused a notification, the stack stopped answering)."""


def _current_step(record: dict[str, Any]) -> str:
    step = next((s for s in record["steps"] if s["status"] not in ("succeeded", "skipped")), None)
    return "no step" if step is None else f"{step['name']}: {step['detail']}"


def to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
