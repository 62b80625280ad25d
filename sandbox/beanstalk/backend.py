"""The extended Elastic Beanstalk backend: moto's EBBackend plus versions, a deployment life cycle and events.

Settling is lazy: an operation records when it started; every call that reads or changes state first
settles the operations whose `started + settle_after_s <= clock()` (or, with a deploy hook, whose hook
has answered). `advance()` settles the rest now, except STUCK updates and hooks still running.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any, cast

import moto.elasticbeanstalk.urls
from moto.elasticbeanstalk.models import Application, EBBackend
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

from . import errors, lifecycle
from . import events as texts
from .deploy import DeployHook, DeployRequest, Outcome, answer
from .events import Event, EventQuery
from .models import ApplicationVersion, Environment, Operation, full_cname, random_id
from .throttling import THROTTLED_BY_DEFAULT, Throttle, throttle

DEFAULT_SETTLE_AFTER_S = 5.0
DELETED_VISIBLE_FOR = timedelta(hours=1)  # DescribeEnvironments lists terminated environments this long


def utc_now() -> datetime:
    return datetime.now(UTC)


class BeanstalkBackend(EBBackend):
    """One account's Elastic Beanstalk in one region."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.settle_after_s: float = DEFAULT_SETTLE_AFTER_S
        self.clock: Callable[[], datetime] = utc_now
        self.versions: dict[tuple[str, str], ApplicationVersion] = {}
        self.deleted_environments: list[Environment] = []
        self.events: list[Event] = []
        self._operations: list[Operation] = []
        self._outcomes: dict[str, Outcome] = {}
        self._hooks: dict[str, DeployHook] = {}
        self._throttle: Throttle | None = None
        self._lock = threading.RLock()

    @property
    def _url_module(self) -> ModuleType:
        # moto derives it from the class's module, which is this one, not moto's.
        return moto.elasticbeanstalk.urls

    # ----- the test/sandbox controls (public API) -------------------------------------------------

    def set_outcome(self, env_name: str, outcome: Outcome) -> None:
        """The outcome of that environment's next update(s), until changed."""
        with self._lock:
            self._outcomes[env_name] = outcome

    def set_deploy_hook(self, env_name: str, hook: DeployHook | None) -> None:
        """Let `hook` decide that environment's updates (None removes it)."""
        with self._lock:
            if hook is None:
                self._hooks.pop(env_name, None)
            else:
                self._hooks[env_name] = hook

    def set_throttling(
        self,
        rate: float,
        operations: Sequence[str] = THROTTLED_BY_DEFAULT,
        seed: int | None = None,
    ) -> None:
        """Answer `Throttling` to that share (0..1) of calls to `operations`; rate 0 turns it off."""
        chosen = throttle(rate, operations, seed)
        with self._lock:
            self._throttle = chosen

    def advance(self, env_name: str | None = None) -> None:
        """Settle pending operations now (of that environment, or all); STUCK and running hooks stay."""
        with self._lock:
            now = self.clock()
            for operation in list(self._operations):
                names = {env.environment_name for env in operation.environments}
                if env_name is None or env_name in names:
                    self._settle(operation, now, forced=True)

    def throttled(self, operation: str) -> bool:
        with self._lock:
            return self._throttle is not None and self._throttle.hits(operation)

    def settle(self) -> None:
        """Settle every operation that is due by the clock."""
        with self._lock:
            now = self.clock()
            for operation in list(self._operations):
                self._settle(operation, now, forced=False)

    # ----- applications and versions ---------------------------------------------------------------

    def application(self, name: str) -> Application:
        try:
            return self.applications[name]
        except KeyError:
            raise errors.no_application(name) from None

    def describe_applications_with_versions(self, names: Iterable[str] | None) -> list[dict[str, Any]]:
        """DescribeApplications' ApplicationDescriptions, with the labels of each application's versions."""
        with self._lock:
            wanted = set(names) if names else None
            return [
                {
                    "ApplicationArn": app.arn,
                    "ApplicationName": name,
                    "Versions": [
                        version.version_label for version in self.describe_application_versions(name, None)
                    ],
                    "ConfigurationTemplates": [],
                }
                for name, app in self.applications.items()
                if wanted is None or name in wanted
            ]

    def remove_application(self, name: str, terminate_environments: bool) -> None:
        """DeleteApplication: also its versions (bundles stay in S3) and, when forced, its environments."""
        with self._lock:
            self.settle()
            app = self.application(name)
            running = [env for env in self._live_environments() if env.application_name == name]
            if running and not terminate_environments:
                raise errors.application_running(name)
            now = self.clock()
            for env in running:
                if env.pending is not None:
                    self._drop(env.pending)
                self._complete_termination(Operation(kind="terminate", started=now, environments=[env]), now)
            self.versions = {key: version for key, version in self.versions.items() if key[0] != name}
            del self.applications[app.application_name]

    def create_application_version(
        self,
        application_name: str,
        version_label: str,
        description: str | None,
        source_bundle: tuple[str, str] | None,
        auto_create_application: bool,
    ) -> ApplicationVersion:
        with self._lock:
            if not version_label:
                raise errors.label_empty()
            if len(version_label) > 100:
                raise errors.label_too_long(version_label)
            if "/" in version_label:
                raise errors.label_invalid(version_label)
            if application_name not in self.applications:
                if not auto_create_application:
                    raise errors.no_application(application_name)
                self.create_application(application_name)
            if (application_name, version_label) in self.versions:
                raise errors.version_exists(version_label)
            if source_bundle is not None:
                self.read_bundle(*source_bundle)
            version = ApplicationVersion(
                account_id=self.account_id,
                region=self.region_name,
                application_name=application_name,
                version_label=version_label,
                description=description,
                source_bundle=source_bundle,
                date_created=self.clock(),
            )
            self.versions[(application_name, version_label)] = version
            self._emit(application_name, texts.VERSION_CREATED.format(label=version_label))
            return version

    def describe_application_versions(
        self, application_name: str | None, version_labels: Iterable[str] | None
    ) -> list[ApplicationVersion]:
        with self._lock:
            wanted = set(version_labels) if version_labels else None
            found = [
                version
                for version in self.versions.values()
                if (application_name is None or version.application_name == application_name)
                and (wanted is None or version.version_label in wanted)
            ]
            return sorted(found, key=lambda version: version.date_created, reverse=True)

    def delete_application_version(
        self, application_name: str, version_label: str, delete_source_bundle: bool
    ) -> None:
        with self._lock:
            self.settle()
            version = self.versions.get((application_name, version_label))
            if version is None:
                raise errors.no_version(version_label)
            users = [
                env.environment_name
                for env in self._live_environments()
                if env.application_name == application_name
                and (
                    env.version_label == version_label
                    or (env.pending is not None and env.pending.version_label == version_label)
                )
            ]
            if users:
                raise errors.version_in_use(version_label, users)
            del self.versions[(application_name, version_label)]
            if delete_source_bundle and version.source_bundle is not None:
                bucket, key = version.source_bundle
                self._s3().delete_object(bucket, key)
            self._emit(application_name, texts.VERSION_DELETED.format(label=version_label))

    def read_bundle(self, bucket: str, key: str) -> bytes:
        """The source bundle's bytes from moto's S3, or the AWS error when it cannot be read."""
        try:
            found = self._s3().get_object(bucket, key)
        except Exception:  # moto raises MissingBucket / MissingKey
            raise errors.bundle_unreadable(bucket, key) from None
        if found is None:
            raise errors.bundle_unreadable(bucket, key)
        return bytes(found.value)

    # ----- environments ----------------------------------------------------------------------------

    def launch_environment(
        self,
        application_name: str,
        environment_name: str,
        solution_stack_name: str,
        tags: dict[str, str],
        cname_prefix: str | None,
        version_label: str | None,
        description: str | None,
    ) -> Environment:
        """CreateEnvironment; the environment is Ready and Green at once (launching is not emulated)."""
        with self._lock:
            self.settle()
            app = self.application(application_name)
            if environment_name in app.environments:
                raise errors.environment_exists(environment_name)
            if version_label is not None and (application_name, version_label) not in self.versions:
                raise errors.no_version(version_label)
            if cname_prefix is not None:
                cname = full_cname(cname_prefix, self.region_name)
                if not self.cname_available(cname):
                    raise errors.cname_unavailable(cname)
            else:
                cname = full_cname(f"{environment_name}.eba-{random_id(8)}", self.region_name)
            env = Environment(
                app,
                environment_name,
                solution_stack_name,
                tags,
                cname=cname,
                version_label=version_label,
                description=description,
                now=self.clock(),
            )
            app.environments[environment_name] = cast(Any, env)  # moto's own type is too narrow
            launched = texts.CREATE_COMPLETED.format(name=environment_name)
            self._write(
                env, (lifecycle.Note(texts.CREATE_STARTING), lifecycle.Note(launched)), env.date_created
            )
            return env

    def cname_available(self, cname: str) -> bool:
        """Whether no live environment of any account in this region holds `cname`."""
        from .registry import backends_in_region

        return all(
            env.cname != cname
            for backend in backends_in_region(self.region_name)
            for env in backend._live_environments()
        )

    def find_environments(
        self,
        application_name: str | None = None,
        environment_ids: Iterable[str] | None = None,
        environment_names: Iterable[str] | None = None,
        version_label: str | None = None,
        include_deleted: bool = True,
        deleted_back_to: datetime | None = None,
    ) -> list[Environment]:
        """DescribeEnvironments with its filters."""
        with self._lock:
            self.settle()
            ids = set(environment_ids) if environment_ids else None
            names = set(environment_names) if environment_names else None
            candidates = list(self._live_environments())
            if include_deleted:
                since = deleted_back_to or (self.clock() - DELETED_VISIBLE_FOR)
                candidates += [env for env in self.deleted_environments if env.date_updated >= since]
            return [
                env
                for env in candidates
                if (application_name is None or env.application_name == application_name)
                and (ids is None or env.environment_id in ids)
                and (names is None or env.environment_name in names)
                and (version_label is None or env.version_label == version_label)
            ]

    def environment(self, environment_id: str | None, environment_name: str | None) -> Environment:
        """The live environment with that id or name, or the AWS error."""
        with self._lock:
            self.settle()
            for env in self._live_environments():
                if environment_id is not None and env.environment_id == environment_id:
                    return env
                if environment_id is None and env.environment_name == environment_name:
                    return env
            if environment_id is not None:
                raise errors.no_environment("EnvironmentId", environment_id)
            if environment_name is not None:
                raise errors.no_environment("EnvironmentName", environment_name)
            raise errors.environment_required()

    def update_environment(
        self,
        environment_id: str | None,
        environment_name: str | None,
        version_label: str | None,
        description: str | None,
    ) -> Environment:
        """UpdateEnvironment: starts deploying `version_label` (or a configuration-only update)."""
        with self._lock:
            env = self.environment(environment_id, environment_name)
            self._require_ready(env)
            if version_label is not None and (env.application_name, version_label) not in self.versions:
                raise errors.no_version(version_label)
            if description is not None:
                env.description = description
            now = self.clock()
            hook = self._hooks.get(env.environment_name)
            operation = Operation(
                kind="update",
                started=now,
                outcome=self._outcomes.get(env.environment_name, Outcome.GREEN),
                version_label=version_label,
                previous_version_label=env.version_label,
                environments=[env],
                hooked=hook is not None and version_label is not None,
            )
            self._begin(operation)
            env.status = "Updating"
            env.health = "Grey"
            env.abortable_operation_in_progress = True
            env.date_updated = now
            if version_label is not None:
                env.version_label = version_label
            self._write(env, lifecycle.update_started(version_label), now)
            if hook is not None and version_label is not None:
                self._start_hook(operation, hook, env, version_label)
            return env

    def swap_environment_cnames(
        self,
        source_id: str | None,
        source_name: str | None,
        destination_id: str | None,
        destination_name: str | None,
    ) -> None:
        """SwapEnvironmentCNAMEs: both Ready; the CNAMEs change hands when the swap settles."""
        with self._lock:
            if source_id is None and source_name is None:
                raise errors.MissingParameter(
                    "Either SourceEnvironmentId or SourceEnvironmentName must be specified."
                )
            if destination_id is None and destination_name is None:
                raise errors.MissingParameter(
                    "Either DestinationEnvironmentId or DestinationEnvironmentName must be specified."
                )
            source = self.environment(source_id, source_name)
            destination = self.environment(destination_id, destination_name)
            if source is destination:
                raise errors.InvalidParameterValue("Cannot swap the CNAME of an environment with itself.")
            self._require_ready(source)
            self._require_ready(destination)
            operation = Operation(kind="swap", started=self.clock(), environments=[source, destination])
            self._begin(operation)
            notes = lifecycle.swap_started(source.environment_name, destination.environment_name)
            for env in (source, destination):
                self._write(env, notes, operation.started)

    def terminate_environment(
        self, environment_id: str | None, environment_name: str | None, force: bool
    ) -> Environment:
        with self._lock:
            env = self.environment(environment_id, environment_name)
            if env.status == "Terminating":
                raise errors.not_ready(env.environment_name)
            if not force:
                if env.pending is not None and env.pending.kind == "update":
                    raise errors.terminate_while_deploying(env.environment_name)
                self._require_ready(env)
            elif env.pending is not None:
                self._drop(env.pending)
            now = self.clock()
            self._begin(Operation(kind="terminate", started=now, environments=[env]))
            env.status = "Terminating"
            env.abortable_operation_in_progress = False
            env.date_updated = now
            self._write(env, (lifecycle.Note(texts.TERMINATE_STARTING),), now)
            return env

    def abort_environment_update(self, environment_id: str | None, environment_name: str | None) -> None:
        """AbortEnvironmentUpdate: the update stops and the environment is Ready on its previous version."""
        with self._lock:
            env = self.environment(environment_id, environment_name)
            operation = env.pending
            if operation is None or operation.kind != "update" or not env.abortable_operation_in_progress:
                raise errors.nothing_to_abort(env.environment_name)
            self._drop(operation)
            landing = lifecycle.update_aborted(operation.version_label, operation.previous_version_label)
            self._land(env, landing, self.clock())

    def describe_events(self, query: EventQuery) -> list[Event]:
        with self._lock:
            self.settle()
            return texts.select(self.events, query)

    # ----- life cycle ------------------------------------------------------------------------------

    def _begin(self, operation: Operation) -> None:
        for env in operation.environments:
            env.pending = operation
        self._operations.append(operation)

    def _drop(self, operation: Operation) -> None:
        if operation in self._operations:
            self._operations.remove(operation)
        for env in operation.environments:
            if env.pending is operation:
                env.pending = None

    def _settle(self, operation: Operation, now: datetime, forced: bool) -> None:
        if operation.kind == "update" and (operation.hooked or operation.outcome is Outcome.STUCK):
            return  # a hook settles its own update; a stuck one waits for an abort
        due = operation.started + timedelta(seconds=self.settle_after_s)
        if forced or due <= now:
            self._complete(operation, min(due, now))

    def _complete(self, operation: Operation, at: datetime) -> None:
        self._drop(operation)
        if operation.kind == "update":
            self._complete_update(operation, at)
        elif operation.kind == "swap":
            self._complete_swap(operation, at)
        else:
            self._complete_termination(operation, at)

    def _complete_update(self, operation: Operation, at: datetime) -> None:
        outcome, failure = operation.outcome, None
        if operation.hook_result is not None:
            outcome, failure = operation.hook_result.outcome, operation.hook_result.message
        landing = lifecycle.update_settled(
            outcome, operation.version_label, operation.previous_version_label, failure
        )
        if landing is None:
            self._begin(operation)  # stuck: in progress until aborted
            return
        self._land(operation.environments[0], landing, at)

    def _complete_swap(self, operation: Operation, at: datetime) -> None:
        source, destination = operation.environments
        source.cname, destination.cname = destination.cname, source.cname
        pointing = {env.cname: env.endpoint_url for env in (source, destination)}
        notes = lifecycle.swap_settled(source.environment_name, destination.environment_name, pointing)
        for env in (source, destination):
            env.date_updated = at
            self._write(env, notes, at)

    def _complete_termination(self, operation: Operation, at: datetime) -> None:
        env = operation.environments[0]
        env.status = "Terminated"
        env.health = "Grey"
        env.abortable_operation_in_progress = False
        env.date_updated = at
        app = self.applications.get(env.application_name)
        if app is not None and app.environments.get(env.environment_name) is cast(Any, env):
            del app.environments[env.environment_name]
        self.deleted_environments.append(env)
        self._write(env, (lifecycle.Note(texts.TERMINATE_COMPLETED),), at)

    def _land(self, env: Environment, landing: lifecycle.Landing, at: datetime) -> None:
        env.status = "Ready"
        env.health = landing.health
        env.version_label = landing.version_label
        env.abortable_operation_in_progress = False
        env.date_updated = at
        self._write(env, landing.notes, at)

    def _start_hook(self, operation: Operation, hook: DeployHook, env: Environment, label: str) -> None:
        version = self.versions[(env.application_name, label)]
        bundle = self.read_bundle(*version.source_bundle) if version.source_bundle else b""
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
            self._complete_update(operation, self.clock())

    # ----- small pieces ----------------------------------------------------------------------------

    def _live_environments(self) -> Iterable[Environment]:
        for app in self.applications.values():
            for env in app.environments.values():
                if isinstance(env, Environment):
                    yield env

    def _require_ready(self, env: Environment) -> None:
        if env.status != "Ready":
            raise errors.not_ready(env.environment_name)
        if env.pending is not None:
            raise errors.OperationInProgress()

    def _s3(self) -> Any:
        return s3_backends[self.account_id][get_partition(self.region_name)]

    def _emit(self, application_name: str, message: str, severity: str = "INFO") -> None:
        self._append(Event(len(self.events), self.clock(), message, severity, application_name))

    def _write(self, env: Environment, notes: Iterable[lifecycle.Note], at: datetime) -> None:
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
                )
            )

    def _append(self, event: Event) -> None:
        self.events.append(event)
