"""The operation life cycle: what has started and settles later, and what settling does to the resources.

Settling is lazy: an operation records when it started and how long it takes; every call that reads or
changes state first settles the operations whose `started + settle_after_s <= clock()` (or, with a deploy
hook, whose hook has answered). `advance()` settles the rest now, except STUCK updates and running hooks.
Every event an operation writes carries the RequestId of the call that started it.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, cast

from moto.elasticbeanstalk.models import Application

from . import eventbridge, request_ids, transitions
from . import events as texts
from .controls import Controls
from .deploy import DeployHook, DeployRequest, Outcome, answer
from .entities import ApplicationVersion, Environment, Operation
from .events import Event
from .faults import Fault
from .iam import roles
from .settings import health, options

ONE_MS = timedelta(milliseconds=1)


class LifeCycle:
    """The pending operations of one backend and how each settles (a mixin of the backend)."""

    account_id: str
    region_name: str
    applications: dict[str, Application]
    clock: Callable[[], datetime]
    outbox: eventbridge.Outbox
    controls: Controls
    events: list[Event]
    _last_event_dates: dict[tuple[str, str | None], datetime]  # per (application, environment)
    deleted_environments: list[Environment]
    versions: dict[tuple[str, str], ApplicationVersion]
    _operations: list[Operation]
    _lock: threading.RLock

    def settle(self) -> None:
        """Settle every operation that is due by the clock."""
        with self._lock:
            now = self.clock()
            for operation in sorted(self._operations, key=_due):
                if operation in self._operations:
                    self._settle(operation, now, forced=False)
            self._deliver(now)

    def advance(self, env_name: str | None = None) -> None:
        """Settle pending operations now (of that environment, or all); STUCK and running hooks stay."""
        with self._lock:
            now = self.clock()
            pending = [
                operation
                for operation in self._operations
                if env_name is None or env_name in {env.environment_name for env in operation.environments}
            ]
            for operation in sorted(pending, key=_due):  # not those that settling starts (health changes)
                if operation in self._operations:
                    self._settle(operation, now, forced=True)
            self._deliver(now)

    def pending_operations(self) -> list[dict[str, Any]]:
        """What has started and not settled, as JSON-ready data (the HTTP control surface's state)."""
        with self._lock:
            return [
                {
                    "kind": operation.kind,
                    "environments": [env.environment_name for env in operation.environments],
                    "due": _due(operation).isoformat(),
                    "request_id": operation.request_id,
                }
                for operation in self._operations
            ]

    # ----- starting and dropping -------------------------------------------------------------------

    def _start(self, operation: Operation) -> Operation:
        """Make `operation` pending (the environments it holds point at it)."""
        if operation.kind != "health":
            for env in operation.environments:
                env.pending = operation
        self._operations.append(operation)
        return operation

    def _operation(self, kind: str, settle_after_s: float, **details: Any) -> Operation:
        return Operation(
            kind=kind,
            started=self.clock(),
            settle_after_s=settle_after_s,
            request_id=request_ids.current(),
            **details,
        )

    def _drop(self, operation: Operation) -> None:
        if operation in self._operations:
            self._operations.remove(operation)
        for env in operation.environments:
            if env.pending is operation:
                env.pending = None

    def _drop_health_changes(self, env: Environment) -> None:
        for operation in list(self._operations):
            if operation.kind == "health" and env in operation.environments:
                self._drop(operation)

    # ----- settling ------------------------------------------------------------------------------

    def _settle(self, operation: Operation, now: datetime, forced: bool) -> None:
        if _waits_on_others(operation):
            return  # a hook settles its own update; a stuck one waits for an abort
        due = _due(operation)
        if forced or due <= now:
            self._drop(operation)
            self._complete(operation, min(due, now))

    def _complete(self, operation: Operation, at: datetime) -> None:
        self._shown_late(operation, at)
        completions: dict[str, Callable[[Operation, datetime], None]] = {
            "launch": self._complete_launch,
            "update": self._complete_update,
            "swap": self._complete_swap,
            "terminate": self._complete_termination,
            "process": self._complete_processing,
            "health": self._complete_health_change,
        }
        completions[operation.kind](operation, at)

    def _shown_late(self, operation: Operation, at: datetime) -> None:
        """events-before-state: the end of a launch, update, swap or termination goes out on EventBridge at
        once, while DescribeEnvironments keeps showing the environments as they were for `state_lag_s`."""
        if operation.kind not in SHOWN_LATE or not self.controls.active(Fault.EVENTS_BEFORE_STATE):
            return
        until = at + timedelta(seconds=self.controls.timings.state_lag_s)
        for env in operation.environments:
            env.shown_before = (env.describe(), until)

    def shown(self, env: Environment) -> dict[str, Any]:
        """The EnvironmentDescription DescribeEnvironments answers for `env` now."""
        lagging = env.shown_before
        if lagging is not None and self.clock() < lagging[1]:
            return lagging[0]
        return env.describe()

    def _complete_launch(self, operation: Operation, at: datetime) -> None:
        env = operation.environments[0]
        env.status = "Ready"
        env.health = "Green"
        env.date_updated = at
        self._write(env, transitions.launched(env.environment_name), at, operation.request_id)
        self._write(env, (transitions.initialized(at - env.date_created),), at, None)
        self._judge_requests(env, at)
        managed = env.option_settings.get((options.MANAGED_ACTIONS, "ManagedActionsEnabled"), "false")
        role = env.option_settings.get((options.MANAGED_ACTIONS, "ServiceRoleForManagedUpdates"))
        if managed.lower() == "true" and not (role and roles.assumable(role, self.account_id)):
            self._write(
                env, (transitions.Note(texts.NO_MANAGED_UPDATES_ROLE, "WARN", monitor=True),), at, None
            )

    def _monitored(self, env: Environment) -> tuple[str, str] | None:
        """What health monitoring finds wrong with a Ready environment beyond its deployments: (color, cause)
        - a service role it cannot assume (Severe, iam/roles.py), else requests that degrade it
        (Warning, settings/health.py) - or None."""
        role = env.option_settings.get((options.ENVIRONMENT, "ServiceRole"))
        if role and not roles.assumable(role, self.account_id):
            return "Red", roles.unassumable(role, self.account_id)
        cause = health.degraded_by_requests(env, self.controls.active(Fault.SCANNER_4XX))
        return ("Yellow", cause) if cause else None

    def _judge_requests(self, env: Environment, at: datetime) -> None:
        """Health monitoring looks at a Ready environment (`_monitored`): it turns Red or Yellow with the
        cause, and back to Green once the cause that made it so is gone."""
        if env.status != "Ready":
            return
        found = self._monitored(env)
        if found is not None:
            color, cause = found
            worse = env.health == "Green" or (color == "Red" and env.health != "Red")
            if worse or (env.health == color and env.health_cause is None and color != "Green"):
                self._write(env, (transitions.health_changed(env.health, color, cause),), at, None)
                env.health, env.health_cause = color, cause
        elif env.health in ("Yellow", "Red") and env.health_cause is not None:
            self._write(env, (transitions.health_changed(env.health, "Green"),), at, None)
            env.health, env.health_cause = "Green", None

    def judge_requests(self) -> None:
        """Look at every environment's requests again (a fault about them was switched on or off)."""
        with self._lock:
            now = self.clock()
            for app in self.applications.values():
                for env in list(app.environments.values()):
                    if isinstance(env, Environment):
                        self._judge_requests(env, now)
            self._deliver(now)

    def _complete_update(self, operation: Operation, at: datetime) -> None:
        outcome, failure = operation.outcome, None
        if operation.hook_result is not None:
            outcome, failure = operation.hook_result.outcome, operation.hook_result.message
        partway = operation.version_label is not None and self.controls.active(Fault.MIXED_VERSIONS)
        if partway and outcome is not Outcome.STUCK:
            outcome = Outcome.RED  # a batch failed: the deployment fails, some instances already run it
        unhealthy, recovers = self._health_after_update()
        landing = transitions.update_settled(
            outcome,
            operation.version_label,
            operation.previous_version_label,
            failure,
            unhealthy_after=unhealthy if operation.version_label is not None else None,
        )
        if landing is None:
            self._start(operation)  # stuck: in progress until aborted
            return
        env = operation.environments[0]
        if operation.option_settings and outcome is not Outcome.RED:
            env.option_settings.update(operation.option_settings)
        self._land(env, landing, at, operation.request_id)
        if landing.version_label == operation.version_label and operation.version_label is not None:
            env.deployed_at = at
            env.failing = env.erroring = False
            env.stray_version, env.expected_deployment = None, env.deployment_id
        elif partway:
            self.left_partway(env, operation.version_label, at)
        if unhealthy is not None and landing.health == unhealthy and recovers:
            self._change_health_later(env, "Green", self.controls.timings.health_recovery_s, at)
        self._judge_requests(env, at)

    def left_partway(self, env: Environment, label: str | None, at: datetime) -> None:
        """mixed-versions: an update stopped partway leaves MIXED_LEFT of MIXED_FLEET instances on `label`
        until a later one lands; health monitoring says so."""
        env.stray_version = label
        cause = env.mixed_cause()
        assert cause is not None
        self._write(env, (transitions.Note(cause, "WARN", monitor=True),), at, None)

    def _health_after_update(self) -> tuple[str | None, bool]:
        """(the color health monitoring finds after a successful update, whether it recovers)."""
        if self.controls.active(Fault.STAYS_RED):
            return "Red", False
        if self.controls.active(Fault.TRANSIENT_RED):
            return "Red", True
        return self.controls.settling_health, True

    def _complete_swap(self, operation: Operation, at: datetime) -> None:
        source, destination = operation.environments
        source.cname, destination.cname = destination.cname, source.cname
        pointing = {env.cname: env.endpoint_url for env in (source, destination)}
        notes = transitions.swap_settled(source.environment_name, destination.environment_name, pointing)
        for env in (source, destination):
            env.status = "Ready"
            env.date_updated = at
            self._write(env, notes, at, operation.request_id)
        newest = max((source, destination), key=lambda env: env.deployed_at or env.date_created)
        if self.controls.active(Fault.FAILS_AFTER_SWAP):
            newest.failing = True  # the sandbox's front answers its /health 503 from now on
            self._change_health_later(newest, "Red", 0.0, at)
        if self.controls.active(Fault.ERRORS_AFTER_SWAP):
            newest.erroring = True  # the sandbox's front answers some of its users 500; health stays

    def _complete_termination(self, operation: Operation, at: datetime) -> None:
        env = operation.environments[0]
        self._drop_health_changes(env)
        env.status = "Terminated"
        env.health = "Grey"
        env.abortable_operation_in_progress = False
        env.date_updated = at
        app = self.applications.get(env.application_name)
        if app is not None and app.environments.get(env.environment_name) is cast(Any, env):
            del app.environments[env.environment_name]
        self.deleted_environments.append(env)
        self._write(env, (transitions.Note(texts.TERMINATE_COMPLETED),), at, operation.request_id)

    def _complete_processing(self, operation: Operation, at: datetime) -> None:
        version = operation.version
        assert version is not None
        version.status = "Processed"
        version.date_updated = at
        message = texts.VERSION_PROCESSED.format(label=version.version_label)
        self._append_event(version.application_name, message, at, operation.request_id, version.version_label)

    def _complete_health_change(self, operation: Operation, at: datetime) -> None:
        env = operation.environments[0]
        assert operation.health is not None
        target, cause = operation.health, None
        if target == "Green" and (found := self._monitored(env)) is not None:  # still something wrong
            target, cause = found
        if env.status != "Ready" or env.health == target:
            return
        note = transitions.health_changed(env.health, target, cause)
        env.health, env.health_cause = target, cause
        self._write(env, (note,), at, None)

    def _change_health_later(self, env: Environment, color: str, after_s: float, at: datetime) -> None:
        """Health monitoring changes `env`'s color after `after_s` (no RequestId: no call caused it)."""
        change = Operation(
            kind="health", started=at, settle_after_s=after_s, environments=[env], health=color
        )
        self._start(change)
        if after_s == 0:
            self._drop(change)
            self._complete(change, at)

    def _land(
        self, env: Environment, landing: transitions.Landing, at: datetime, request_id: str | None
    ) -> None:
        env.status = "Ready"
        env.health = landing.health
        env.health_cause = None
        env.version_label = landing.version_label
        env.abortable_operation_in_progress = False
        env.date_updated = at
        self._write(env, landing.notes, at, request_id)

    # ----- deploy hooks -------------------------------------------------------------------------------

    def _start_hook(
        self, operation: Operation, hook: DeployHook, env: Environment, label: str, bundle: bytes
    ) -> None:
        request = DeployRequest(
            environment_name=env.environment_name,
            environment_id=env.environment_id,
            cname=env.cname,
            version_label=label,
            previous_version_label=operation.previous_version_label,
            source_bundle=bundle,
        )
        lock = self._lock  # moto's reset replaces the backend's state; this run belongs to the old one
        thread = threading.Thread(
            target=self._run_hook,
            args=(operation, hook, request, lock),
            name=f"eb-deploy-{env.environment_name}",
            daemon=True,
        )
        thread.start()

    def _run_hook(
        self, operation: Operation, hook: DeployHook, request: DeployRequest, lock: threading.RLock
    ) -> None:
        result = answer(hook, request)
        with lock:
            if operation not in self.__dict__.get("_operations", []):
                return  # aborted, terminated or reset meanwhile
            operation.hook_result = result
            self._drop(operation)
            now = self.clock()
            self._shown_late(operation, now)
            self._complete_update(operation, now)

    # ----- events --------------------------------------------------------------------------------------

    def _write(
        self, env: Environment, notes: Iterable[transitions.Note], at: datetime, request_id: str | None
    ) -> None:
        for note in notes:
            self._append(
                Event(
                    sequence=len(self.events),
                    event_date=at,
                    message=note.message,
                    severity=note.severity,
                    application_name=env.application_name,
                    environment_name=env.environment_name,
                    environment_id=env.environment_id,
                    version_label=note.version_label,
                    request_id=None if note.monitor else request_id,
                )
            )

    def _append_event(
        self,
        application_name: str,
        message: str,
        at: datetime,
        request_id: str | None,
        version_label: str | None = None,
    ) -> None:
        self._append(
            Event(
                sequence=len(self.events),
                event_date=at,
                message=message,
                severity="INFO",
                application_name=application_name,
                version_label=version_label,
                request_id=request_id,
            )
        )

    def _append(self, event: Event) -> None:
        """Keep `event`; one written in the same millisecond as its environment's last is stamped a
        millisecond later. On AWS an operation's events are seconds apart, and clients rely on it: the EB
        CLI asks for the events after the last one it showed, by the millisecond, and would skip the rest.
        The stamp is the event's; its EventBridge delivery stays due by the clock's time of writing."""
        written = event.event_date
        key = (event.application_name, event.environment_name)
        last = self._last_event_dates.get(key)
        if last is not None and event.event_date < last + ONE_MS:
            event = dataclasses.replace(event, event_date=last + ONE_MS)
        self._last_event_dates[key] = event.event_date
        self.events.append(event)
        sent = eventbridge.message(event, self.account_id, self.region_name)
        if sent is not None:
            delivery = self.controls.delivery
            self.outbox.add(sent, written + eventbridge.delay(delivery), delivery.copies())
            self._deliver(self.clock())

    def _deliver(self, now: datetime) -> None:
        """Put the EventBridge events that are due on moto's default bus (best effort, as AWS)."""
        eventbridge.publish(self.outbox.due(now), self.account_id, self.region_name)


SHOWN_LATE = frozenset({"launch", "update", "swap", "terminate"})


def _due(operation: Operation) -> datetime:
    return operation.started + timedelta(seconds=operation.settle_after_s)


def _waits_on_others(operation: Operation) -> bool:
    return operation.kind == "update" and (operation.hooked or operation.outcome is Outcome.STUCK)
