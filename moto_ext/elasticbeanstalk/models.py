"""The extended Elastic Beanstalk backend: moto's EBBackend with one method per AWS operation it serves.

Each operation validates its request (`validation.py`), changes state and starts what settles later (the
life cycle, `lifecycle.py`); what a test or a sandbox chooses lives in the controls (`controls.py`). The
resources it holds are in `entities.py`; moto finds this service's URLs in `urls.py`, next to this module.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from moto.elasticbeanstalk.models import Application, EBBackend, eb_backends
from moto.iam.models import iam_backends
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

from . import (
    eventbridge,
    exceptions,
    platforms,
    request_ids,
    resources,
    transitions,
    validation,
)
from . import events as texts
from .controls import Controls, ControlSurface
from .deploy import DeployResult, Outcome
from .entities import ApplicationVersion, Environment, Operation, full_cname, random_id
from .events import Event, EventQuery
from .faults import Fault
from .iam import callers, downstream, judge, roles
from .lifecycle import LifeCycle
from .settings import options as option_settings_

DELETED_VISIBLE_FOR = timedelta(hours=1)  # DescribeEnvironments lists terminated environments this long
SUPERSEDED_USABLE_FOR = timedelta(days=30)  # a superseded platform version the account ran this recently


def utc_now() -> datetime:
    return datetime.now(UTC)


class BeanstalkBackend(LifeCycle, ControlSurface, EBBackend):
    """One account's Elastic Beanstalk in one region."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.clock: Callable[[], datetime] = utc_now
        self.controls = Controls()
        self.versions: dict[tuple[str, str], ApplicationVersion] = {}
        self.deleted_environments: list[Environment] = []
        self.events: list[Event] = []
        self._last_event_dates: dict[tuple[str, str | None], datetime] = {}
        self.outbox = eventbridge.Outbox()
        self._operations: list[Operation] = []
        self._lock = threading.RLock()

    # ----- applications and versions ---------------------------------------------------------------

    def describe_applications(self, names: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """ApplicationDescriptions, with the labels of each application's versions."""
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

    def delete_application(self, application_name: str, terminate_env_by_force: bool = False) -> None:
        """Also its versions (bundles stay in S3) and, when forced, its environments. An unknown name is
        accepted as moto accepts it (no public record shows AWS refusing it)."""
        with self._lock:
            self.settle()
            app = self.applications.get(application_name)
            if app is None:
                return
            running = [env for env in self._live_environments() if env.application_name == application_name]
            if running and not terminate_env_by_force:
                raise exceptions.application_running(application_name)
            now = self.clock()
            for env in running:
                if env.pending is not None:
                    self._drop(env.pending)
                self._complete_termination(self._operation("terminate", 0.0, environments=[env]), now)
            self.versions = {
                key: version for key, version in self.versions.items() if key[0] != application_name
            }
            del self.applications[app.application_name]

    def create_application_version(
        self,
        application_name: str,
        version_label: str,
        description: str | None,
        source_bundle: tuple[str, str] | None,
        auto_create_application: bool,
        process: bool = False,
    ) -> ApplicationVersion:
        with self._lock:
            label = validation.version_label(version_label)
            if application_name not in self.applications:
                if not auto_create_application:
                    raise exceptions.no_application(application_name)
                self.create_application(application_name)
            if (application_name, label) in self.versions:
                raise exceptions.version_exists(label)
            quota = self.controls.version_quota
            if self.controls.active(Fault.VERSION_QUOTA):
                raise exceptions.TooManyApplicationVersions(min(quota, len(self.versions)))
            if len(self.versions) >= quota:
                raise exceptions.TooManyApplicationVersions(quota)
            if source_bundle is not None:
                self.read_bundle(*source_bundle)
            version = ApplicationVersion(
                account_id=self.account_id,
                region=self.region_name,
                application_name=application_name,
                version_label=label,
                description=description,
                source_bundle=source_bundle,
                date_created=self.clock(),
            )
            self.versions[(application_name, label)] = version
            self.controls.new_deployment()
            self._append_event(
                application_name,
                texts.VERSION_CREATED.format(label=label),
                self.clock(),
                request_ids.current(),
            )
            if process:
                version.status = "Processing"
                self._start(self._operation("process", self.controls.timings.process_s, version=version))
            return version

    def describe_application_versions(
        self, application_name: str | None, version_labels: Iterable[str] | None
    ) -> list[ApplicationVersion]:
        with self._lock:
            self.settle()
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
                raise exceptions.no_version(version_label)
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
                raise exceptions.version_in_use(version_label, users)
            del self.versions[(application_name, version_label)]
            if delete_source_bundle and version.source_bundle is not None:
                bucket, key = version.source_bundle
                self._s3().delete_object(bucket, key)
            self._append_event(
                application_name,
                texts.VERSION_DELETED.format(label=version_label),
                self.clock(),
                request_ids.current(),
            )

    def read_bundle(self, bucket: str, key: str) -> bytes:
        """The source bundle's bytes from moto's S3, or the AWS error when it cannot be read."""
        try:
            found = self._s3().get_object(bucket, key)
        except Exception:  # moto raises MissingBucket / MissingKey
            raise exceptions.bundle_unreadable(bucket, key) from None
        if found is None:
            raise exceptions.bundle_unreadable(bucket, key)
        return bytes(found.value)

    def create_storage_location(self) -> str:
        """The account's `elasticbeanstalk-<region>-<account>` bucket, created on first use."""
        bucket = f"elasticbeanstalk-{self.region_name}-{self.account_id}"
        s3 = self._s3()
        if bucket not in s3.buckets:
            s3.create_bucket(bucket, self.region_name)
        return bucket

    # ----- environments ----------------------------------------------------------------------------

    def create_environment(  # type: ignore[override]  # AWS's parameters, not moto's
        self,
        application_name: str,
        environment_name: str,
        solution_stack_name: str | None,
        tags: dict[str, str],
        cname_prefix: str | None,
        version_label: str | None,
        description: str | None,
        platform_arn: str | None = None,
        tier: dict[str, str] | None = None,
        option_settings: option_settings_.Settings | None = None,
        operations_role: str | None = None,
    ) -> Environment:
        """Launching/Grey at once, Ready/Green after the launch time on the emulation's clock."""
        with self._lock:
            self.settle()
            app = self.application(application_name)
            name = validation.environment_name(environment_name)
            stack, arn = validation.platform(solution_stack_name, platform_arn, self.region_name)
            self._require_available(stack, solution_stack_name, platform_arn)
            chosen_tier = validation.tier(tier)
            if name in app.environments:
                raise exceptions.environment_exists(name)
            if version_label is not None and (application_name, version_label) not in self.versions:
                raise exceptions.no_version(version_label)
            cname = self._new_cname(name, cname_prefix, chosen_tier)
            env = Environment(
                app,
                name,
                stack,
                tags,
                platform_arn=arn,
                tier=chosen_tier,
                cname=cname,
                version_label=version_label,
                description=description,
                now=self.clock(),
                option_settings=option_settings,
                operations_role=operations_role,
            )
            app.environments[name] = cast(Any, env)  # moto's own type is too narrow
            self._write(
                env, (transitions.Note(texts.CREATE_STARTING),), env.date_created, request_ids.current()
            )
            self._start(self._operation("launch", self.controls.timings.launch_s, environments=[env]))
            return env

    def check_dns_availability(self, cname_prefix: str) -> tuple[bool, str]:
        """(available, the fully qualified CNAME) of a prefix."""
        cname = full_cname(cname_prefix, self.region_name)
        return self.cname_available(cname), cname

    def cname_available(self, cname: str) -> bool:
        """Whether no live environment of any account in this region holds `cname`."""
        for account_backends in list(eb_backends.values()):
            other = dict.get(account_backends, self.region_name)
            if isinstance(other, BeanstalkBackend) and any(
                env.cname == cname for env in other._live_environments()
            ):
                return False
        return True

    def describe_environments(  # type: ignore[override]  # AWS's filters, not moto's
        self,
        application_name: str | None = None,
        environment_ids: Iterable[str] | None = None,
        environment_names: Iterable[str] | None = None,
        version_label: str | None = None,
        include_deleted: bool = True,
        deleted_back_to: datetime | None = None,
    ) -> list[Environment]:
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

    def update_environment(
        self,
        environment_id: str | None,
        environment_name: str | None,
        version_label: str | None,
        description: str | None,
        option_settings: option_settings_.Settings | None = None,
        caller: callers.Caller | None = None,
    ) -> Environment:
        """Starts deploying `version_label` and/or applying option settings (a configuration update).
        Everything that can refuse the request is checked before anything changes: the version's bundle (AWS
        refuses a version it cannot download) and, with caller permissions on, what Beanstalk does
        downstream (`_refused_downstream`: at once, or the reason the update will fail with)."""
        with self._lock:
            env = self.environment(environment_id, environment_name)
            if self.controls.take(Fault.BUSY):
                raise exceptions.not_ready(env.environment_name)  # a managed update holds it
            self._require_ready(env)
            bundle = None
            if version_label is not None:
                version = self.versions.get((env.application_name, version_label))
                if version is None:
                    raise exceptions.no_version(version_label)
                bundle = self.read_bundle(*version.source_bundle) if version.source_bundle else b""
            refused = self._refused_downstream(env, bundle, bool(option_settings), caller)
            if description is not None:
                env.description = description
            hook = None if refused else self.controls.hooks.get(env.environment_name)
            operation = self._operation(
                "update",
                self.controls.timings.update_s,
                outcome=self.controls.outcomes.get(env.environment_name, Outcome.GREEN),
                version_label=version_label,
                previous_version_label=env.version_label,
                environments=[env],
                hooked=hook is not None and version_label is not None,
                option_settings=option_settings or None,
                hook_result=DeployResult(Outcome.RED, refused) if refused else None,
            )
            self._drop_health_changes(env)
            self._start(operation)
            env.status = "Updating"
            env.health, env.health_cause = "Grey", None
            env.abortable_operation_in_progress = True
            env.date_updated = operation.started
            if version_label is not None:
                env.version_label = version_label
                env.deployment_id += 1
            self._write(
                env, transitions.update_started(version_label), operation.started, operation.request_id
            )
            if hook is not None and version_label is not None and bundle is not None:
                self._start_hook(operation, hook, env, version_label, bundle)
            return env

    def swap_environment_cnames(
        self,
        source_id: str | None,
        source_name: str | None,
        destination_id: str | None,
        destination_name: str | None,
    ) -> None:
        """Both Ready; both Updating until the CNAMEs change hands, when the swap settles."""
        with self._lock:
            if source_id is None and source_name is None:
                raise exceptions.MissingParameter(
                    "Either SourceEnvironmentId or SourceEnvironmentName must be specified."
                )
            if destination_id is None and destination_name is None:
                raise exceptions.MissingParameter(
                    "Either DestinationEnvironmentId or DestinationEnvironmentName must be specified."
                )
            source = self.environment(source_id, source_name)
            destination = self.environment(destination_id, destination_name)
            if source is destination:
                raise exceptions.InvalidParameterValue("Cannot swap the CNAME of an environment with itself.")
            if self.controls.take(Fault.BUSY):
                raise exceptions.not_ready(destination.environment_name)
            for env in (source, destination):
                self._require_ready(env)
                if not env.is_web:
                    raise exceptions.InvalidParameterValue(
                        f"Environment {env.environment_name} is a worker environment: it has no CNAME."
                    )
            operation = self._start(
                self._operation("swap", self.controls.timings.swap_s, environments=[source, destination])
            )
            notes = transitions.swap_started(source.environment_name, destination.environment_name)
            for env in (source, destination):
                env.status = "Updating"
                env.date_updated = operation.started
                self._write(env, notes, operation.started, operation.request_id)

    def terminate_environment(
        self, environment_id: str | None, environment_name: str | None, force: bool
    ) -> Environment:
        with self._lock:
            env = self.environment(environment_id, environment_name)
            if env.status == "Terminating":
                raise exceptions.not_ready(env.environment_name)
            if not force:
                if env.pending is not None and env.pending.kind == "update":
                    raise exceptions.terminate_while_deploying(env.environment_name)
                self._require_ready(env)
            elif env.pending is not None:
                self._drop(env.pending)
            operation = self._start(
                self._operation("terminate", self.controls.timings.terminate_s, environments=[env])
            )
            env.status = "Terminating"
            env.health = "Grey"  # AWS's TerminateEnvironment example answers Terminating and Grey
            env.abortable_operation_in_progress = False
            env.date_updated = operation.started
            self._write(
                env, (transitions.Note(texts.TERMINATE_STARTING),), operation.started, operation.request_id
            )
            return env

    def abort_environment_update(self, environment_id: str | None, environment_name: str | None) -> None:
        """The update stops and the environment is Ready on its previous version."""
        with self._lock:
            env = self.environment(environment_id, environment_name)
            operation = env.pending
            if operation is None or operation.kind != "update" or not env.abortable_operation_in_progress:
                raise exceptions.nothing_to_abort(env.environment_name)
            self._drop(operation)
            landing = transitions.update_aborted(operation.version_label, operation.previous_version_label)
            self._land(env, landing, self.clock(), request_ids.current())
            if operation.version_label is not None and self.controls.active(Fault.MIXED_VERSIONS):
                self.left_partway(env, operation.version_label, self.clock())

    def describe_events(self, query: EventQuery) -> list[Event]:
        with self._lock:
            self.settle()
            return texts.select(self.events, query)

    def describe_environment_health(
        self, environment_id: str | None, environment_name: str | None, attribute_names: Iterable[str]
    ) -> dict[str, Any]:
        env = self._described_environment(environment_id, environment_name)
        return resources.environment_health(env, self.clock(), set(attribute_names) or {"All"})

    def describe_instances_health(
        self, environment_id: str | None, environment_name: str | None
    ) -> dict[str, Any]:
        env = self._described_environment(environment_id, environment_name)
        return resources.instances_health(env, self.clock())

    def describe_environment_resources(
        self, environment_id: str | None, environment_name: str | None
    ) -> dict[str, Any]:
        env = self._described_environment(environment_id, environment_name)
        return resources.environment_resources(env)

    def describe_configuration_settings(
        self, application_name: str, environment_name: str | None, template_name: str | None
    ) -> list[dict[str, Any]]:
        app = self.application(application_name)
        if environment_name is None:
            raise exceptions.InvalidParameterValue(
                f"No Configuration Template named '{template_name}' found."
            )
        env = self.environment(None, environment_name)
        if env.application_name != app.application_name:
            raise exceptions.no_environment("EnvironmentName", environment_name)
        return [resources.configuration_settings(env)]

    def describe_platform_version(self, platform_arn: str) -> dict[str, Any]:
        found = platforms.from_arn(platform_arn)
        if found is None:
            raise exceptions.no_platform(platform_arn)
        return found.description(self.region_name)

    def failing_environments(self) -> set[str]:
        """Names of the environments whose version fails /health (fails-after-swap), for whoever serves
        the environments' traffic (a sandbox's load balancer)."""
        with self._lock:
            self.settle()
            return {env.environment_name for env in self._live_environments() if env.failing}

    def erroring_environments(self) -> set[str]:
        """Names of the environments whose users meet errors (errors-after-swap), for whoever serves the
        environments' traffic (a sandbox's load balancer answers a share of their requests 500)."""
        with self._lock:
            self.settle()
            return {env.environment_name for env in self._live_environments() if env.erroring}

    # ----- lookups ---------------------------------------------------------------------------------

    def application(self, name: str) -> Application:
        try:
            return self.applications[name]
        except KeyError:
            raise exceptions.no_application(name) from None

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
                raise exceptions.no_environment("EnvironmentId", environment_id)
            if environment_name is not None:
                raise exceptions.no_environment("EnvironmentName", environment_name)
            raise exceptions.environment_required()

    def _described_environment(self, environment_id: str | None, environment_name: str | None) -> Environment:
        if environment_id is None and environment_name is None:
            raise exceptions.InvalidRequest("Either EnvironmentId or EnvironmentName must be specified.")
        return self.environment(environment_id, environment_name)

    def _live_environments(self) -> Iterable[Environment]:
        for app in self.applications.values():
            for env in app.environments.values():
                if isinstance(env, Environment):
                    yield env

    def _new_cname(self, name: str, prefix: str | None, tier: dict[str, str]) -> str:
        if tier["Name"] != "WebServer":
            if prefix:
                raise exceptions.InvalidParameterCombination(
                    "A worker environment has no CNAME; omit CNAMEPrefix."
                )
            return ""
        if prefix is None:
            return full_cname(f"{name}.eba-{random_id(8)}", self.region_name)
        cname = full_cname(prefix, self.region_name)
        if not self.cname_available(cname):
            raise exceptions.cname_unavailable(cname)
        return cname

    def _refused_downstream(
        self,
        env: Environment,
        bundle: bytes | None,
        settings_change: bool,
        caller: callers.Caller | None,
    ) -> str | None:
        """With caller permissions on: Beanstalk acts downstream as the environment's operations role, else
        as the caller (downstream.py). A refusal of what it does at once is InsufficientPrivileges; of what it
        does later, the reason the update will fail with. None: nothing is refused (or nobody is judged - the
        root, or checks off)."""
        if not self.controls.caller_permissions:
            return None
        if env.operations_role:
            identity = (
                f"arn:aws:sts::{self.account_id}:assumed-role/{env.operations_role.rsplit('/', 1)[-1]}/"
            )
            identity += "ElasticBeanstalk"
            policies = roles.policies(env.operations_role, self.account_id)
        elif caller is not None:
            identity, policies = caller.arn, list(caller.policies)
        else:
            return None
        configuration = settings_change or downstream.carries_configuration(bundle or b"")
        for request in downstream.of_update(env, configuration, self._instance_role(env)):
            if judge.allows(policies, request.action, request.resource, request.context):
                continue
            if request.at_once:
                raise exceptions.InsufficientPrivileges(request.action)
            return downstream.refusal(identity, request)
        return None

    def _instance_role(self, env: Environment) -> str:
        """The role of the environment's instance profile (what a configuration update passes to EC2)."""
        profile = env.option_settings.get(
            ("aws:autoscaling:launchconfiguration", "IamInstanceProfile"), "aws-elasticbeanstalk-ec2-role"
        )
        try:
            found = iam_backends[self.account_id]["aws"].get_instance_profile(profile.rsplit("/", 1)[-1])
            return str(found.roles[0].arn)
        except Exception:  # no such profile in moto's IAM: the role named like it, as the console makes it
            return f"arn:aws:iam::{self.account_id}:role/{profile.rsplit('/', 1)[-1]}"

    def _require_available(self, stack: str, named_stack: str | None, named_arn: str | None) -> None:
        """A superseded platform version only for an account that ran it in the last 30 days (platforms)."""
        platform = platforms.from_solution_stack(stack) if stack else None
        if platform is None or not platforms.superseded(platform, self.controls.released_platforms):
            return
        since = self.clock() - SUPERSEDED_USABLE_FOR
        ran = [env for env in self._live_environments() if env.solution_stack_name == stack] + [
            env
            for env in self.deleted_environments
            if env.solution_stack_name == stack and env.date_updated >= since
        ]
        if not ran:
            raise (
                exceptions.no_solution_stack(named_stack)
                if named_stack
                else exceptions.no_platform(str(named_arn))
            )

    def _require_ready(self, env: Environment) -> None:
        if env.status != "Ready":
            raise exceptions.not_ready(env.environment_name)
        if env.pending is not None:
            raise exceptions.OperationInProgress()

    def _s3(self) -> Any:
        return s3_backends[self.account_id][get_partition(self.region_name)]
