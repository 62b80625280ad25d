"""The Query API edge: request parameters in, results out, one method per Elastic Beanstalk action.

moto picks the method from the action name (SwapEnvironmentCNAMEs -> swap_environment_cnam_es) and
serialises the returned dicts by botocore's service model, so the XML has AWS's shape.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from moto.core.common_types import TYPE_RESPONSE
from moto.core.responses import ActionResult, EmptyResult
from moto.elasticbeanstalk.models import eb_backends
from moto.elasticbeanstalk.responses import EBResponse

from . import errors
from .backend import BeanstalkBackend
from .events import EventQuery

T = TypeVar("T")
MAX_EVENTS = 1000


class BeanstalkResponse(EBResponse):
    @property
    def backend(self) -> BeanstalkBackend:
        return cast(BeanstalkBackend, eb_backends[self.current_account][self.region])

    def call_action(self) -> TYPE_RESPONSE:
        if self.backend.throttled(self._get_action()):
            status, headers, body = self.serialized(ActionResult(errors.Throttling()))
            headers["status"] = str(status)
            headers, body = self._enrich_response(headers, body)
            return status, headers, body
        return super().call_action()

    def serialized(self, action_result: ActionResult) -> TYPE_RESPONSE:
        # Common errors (Throttling, MissingParameter) have no shape in the EB model; moto warns.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return super().serialized(action_result)

    # ----- applications and versions ---------------------------------------------------------------

    def describe_applications(self) -> ActionResult:
        names = self._get_param("ApplicationNames") or None
        return ActionResult({"Applications": self.backend.describe_applications_with_versions(names)})

    def delete_application(self) -> ActionResult:
        self.backend.remove_application(
            self._get_param("ApplicationName"), bool(self._get_param("TerminateEnvByForce", False))
        )
        return EmptyResult()

    def create_application_version(self) -> ActionResult:
        bundle = self._get_param("SourceBundle")
        version = self.backend.create_application_version(
            application_name=self._get_param("ApplicationName"),
            version_label=self._get_param("VersionLabel"),
            description=self._get_param("Description"),
            source_bundle=(bundle["S3Bucket"], bundle["S3Key"]) if bundle else None,
            auto_create_application=bool(self._get_param("AutoCreateApplication", False)),
        )
        return ActionResult({"ApplicationVersion": version.describe()})

    def describe_application_versions(self) -> ActionResult:
        versions = self.backend.describe_application_versions(
            self._get_param("ApplicationName"), self._get_param("VersionLabels")
        )
        shown, token = self._page(versions)
        result: dict[str, Any] = {"ApplicationVersions": [version.describe() for version in shown]}
        if token:
            result["NextToken"] = token
        return ActionResult(result)

    def delete_application_version(self) -> ActionResult:
        self.backend.delete_application_version(
            self._get_param("ApplicationName"),
            self._get_param("VersionLabel"),
            bool(self._get_param("DeleteSourceBundle", False)),
        )
        return EmptyResult()

    # ----- environments ----------------------------------------------------------------------------

    def create_environment(self) -> ActionResult:
        tags = {tag["Key"]: tag["Value"] for tag in self._get_param("Tags", [])}
        env = self.backend.launch_environment(
            application_name=self._get_param("ApplicationName"),
            environment_name=self._get_param("EnvironmentName"),
            solution_stack_name=self._get_param("SolutionStackName") or "",
            tags=tags,
            cname_prefix=self._get_param("CNAMEPrefix"),
            version_label=self._get_param("VersionLabel"),
            description=self._get_param("Description"),
        )
        return ActionResult(env.describe())

    def describe_environments(self) -> ActionResult:
        include_deleted = self._get_param("IncludeDeleted")
        envs = self.backend.find_environments(
            application_name=self._get_param("ApplicationName"),
            environment_ids=self._get_param("EnvironmentIds"),
            environment_names=self._get_param("EnvironmentNames"),
            version_label=self._get_param("VersionLabel"),
            include_deleted=True if include_deleted is None else bool(include_deleted),
            deleted_back_to=_utc(self._get_param("IncludedDeletedBackTo")),
        )
        shown, token = self._page(envs)
        result: dict[str, Any] = {"Environments": [env.describe() for env in shown]}
        if token:
            result["NextToken"] = token
        return ActionResult(result)

    def check_dns_availability(self) -> ActionResult:
        from .models import full_cname

        cname = full_cname(self._get_param("CNAMEPrefix"), self.region)
        available = self.backend.cname_available(cname)
        return ActionResult({"Available": available, "FullyQualifiedCNAME": cname})

    def update_environment(self) -> ActionResult:
        env = self.backend.update_environment(
            environment_id=self._get_param("EnvironmentId"),
            environment_name=self._get_param("EnvironmentName"),
            version_label=self._get_param("VersionLabel"),
            description=self._get_param("Description"),
        )
        return ActionResult(env.describe())

    def swap_environment_cnam_es(self) -> ActionResult:
        self.backend.swap_environment_cnames(
            source_id=self._get_param("SourceEnvironmentId"),
            source_name=self._get_param("SourceEnvironmentName"),
            destination_id=self._get_param("DestinationEnvironmentId"),
            destination_name=self._get_param("DestinationEnvironmentName"),
        )
        return EmptyResult()

    def terminate_environment(self) -> ActionResult:
        env = self.backend.terminate_environment(
            self._get_param("EnvironmentId"),
            self._get_param("EnvironmentName"),
            bool(self._get_param("ForceTerminate", False)),
        )
        return ActionResult(env.describe())

    def abort_environment_update(self) -> ActionResult:
        self.backend.abort_environment_update(
            self._get_param("EnvironmentId"), self._get_param("EnvironmentName")
        )
        return EmptyResult()

    def describe_environment_health(self) -> ActionResult:
        env_id = self._get_param("EnvironmentId")
        env_name = self._get_param("EnvironmentName")
        if env_id is None and env_name is None:
            raise errors.InvalidRequest("Either EnvironmentId or EnvironmentName must be specified.")
        env = self.backend.environment(env_id, env_name)
        health = {
            "Status": env.status,
            "Color": env.health,
            "HealthStatus": env.health_status,
            "Causes": _causes(env.status, env.health),
            "RefreshedAt": self.backend.clock(),
        }
        names = set(self._get_param("AttributeNames") or ["All"])
        shown = health if "All" in names else {key: value for key, value in health.items() if key in names}
        return ActionResult({"EnvironmentName": env.environment_name, **shown})

    def describe_events(self) -> ActionResult:
        query = EventQuery(
            application_name=self._get_param("ApplicationName"),
            environment_name=self._get_param("EnvironmentName"),
            environment_id=self._get_param("EnvironmentId"),
            version_label=self._get_param("VersionLabel"),
            severity=self._get_param("Severity"),
            start_time=_utc(self._get_param("StartTime")),
            end_time=_utc(self._get_param("EndTime")),
        )
        shown, token = self._page(self.backend.describe_events(query), MAX_EVENTS)
        result: dict[str, Any] = {"Events": [event.describe() for event in shown]}
        if token:
            result["NextToken"] = token
        return ActionResult(result)

    # ----- pagination ------------------------------------------------------------------------------

    def _page(self, items: Sequence[T], default_size: int | None = None) -> tuple[Sequence[T], str | None]:
        """MaxRecords / NextToken over `items` (the token is the offset of the next page)."""
        token = self._get_param("NextToken")
        try:
            start = int(token) if token else 0
        except ValueError:
            raise errors.InvalidParameterValue(f"Invalid NextToken: {token}") from None
        size = self._get_param("MaxRecords") or default_size
        if size is None:
            return items[start:], None
        end = start + int(size)
        return items[start:end], (str(end) if end < len(items) else None)


def _utc(value: datetime | None) -> datetime | None:
    """Query timestamps arrive naive, meaning UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _causes(status: str, health: str) -> list[str]:
    if status == "Updating":
        return ["Command is executing on all instances."]
    if health == "Red":
        return ["Failed to deploy application."]
    if health == "Yellow":
        return ["Impaired services on all instances."]
    return []
