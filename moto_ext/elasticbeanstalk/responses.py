"""The Query API edge: request parameters in, results out, one method per Elastic Beanstalk action.

moto picks the method from the action name (SwapEnvironmentCNAMEs -> swap_environment_cnam_es) and
serialises the returned dicts by botocore's service model, so the XML has AWS's shape. Around every action:
the RequestId is chosen first, so the events the action causes carry the id its response carries (moto
would choose it afterwards and rewrite every <RequestId> element, the events' too); throttling and the
`mutation-5xx` fault answer as AWS does; an action the emulation lacks answers an AWS-style 400.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from moto.core.common_types import TYPE_RESPONSE
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import camelcase_to_underscores, method_names_from_class
from moto.elasticbeanstalk.models import eb_backends
from moto.elasticbeanstalk.responses import EBResponse
from moto.utilities.aws_headers import gen_amzn_requestid_long

from . import exceptions, platforms, request_ids
from .events import EventQuery
from .faults import MUTATING_OPERATIONS, Fault
from .iam import callers
from .models import BeanstalkBackend
from .settings import options

T = TypeVar("T")
MAX_EVENTS = 1000
_METADATA_REQUEST_ID = re.compile(r"(<ResponseMetadata>\s*<RequestId>)[^<]*(</RequestId>)")
_ERROR_REQUEST_ID = re.compile(r"(</Error>\s*<RequestId>)[^<]*(</RequestId>)")


class BeanstalkResponse(EBResponse):
    @property
    def backend(self) -> BeanstalkBackend:
        return cast(BeanstalkBackend, eb_backends[self.current_account][self.region])

    def call_action(self) -> TYPE_RESPONSE:
        self.request_id = gen_amzn_requestid_long()
        action = self._get_action()
        if self.backend.throttled(action):
            return self._error(exceptions.Throttling())
        if camelcase_to_underscores(action) not in method_names_from_class(self.__class__):
            return self._error(exceptions.NotImplementedAction(action))
        with request_ids.serving(self.request_id):
            status, headers, body = super().call_action()
        if status < 300 and action in MUTATING_OPERATIONS and self.backend.controls.take(Fault.MUTATION_5XX):
            return self._error(exceptions.InternalFailure())  # it took effect; the caller cannot tell
        return status, headers, body

    def _enrich_response(self, headers: dict[str, str], body: Any) -> tuple[dict[str, str], Any]:  # type: ignore[override]
        """This call's RequestId in the header and the response metadata only (events keep theirs)."""
        if "status" in headers:
            headers["status"] = str(headers["status"])
        headers["x-amzn-requestid"] = self.request_id
        if isinstance(body, str):
            body = _METADATA_REQUEST_ID.sub(rf"\g<1>{self.request_id}\g<2>", body)
            body = _ERROR_REQUEST_ID.sub(rf"\g<1>{self.request_id}\g<2>", body)
        return headers, body

    def serialized(self, action_result: ActionResult) -> TYPE_RESPONSE:
        # Common errors (Throttling, MissingParameter) have no shape in the EB model; moto warns.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return super().serialized(action_result)

    def _error(self, error: ServiceException) -> TYPE_RESPONSE:
        status, headers, body = self.serialized(ActionResult(error))
        status = int(getattr(error, "http_status", status))
        headers["status"] = str(status)
        headers, body = self._enrich_response(headers, body)
        return status, headers, body

    # ----- applications and versions ---------------------------------------------------------------

    def describe_applications(self) -> ActionResult:
        names = self._get_param("ApplicationNames") or None
        return ActionResult({"Applications": self.backend.describe_applications(names)})

    def delete_application(self) -> ActionResult:
        self.backend.delete_application(
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
            process=bool(self._get_param("Process", False)),
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

    def create_storage_location(self) -> ActionResult:
        return ActionResult({"S3Bucket": self.backend.create_storage_location()})

    # ----- platforms and configuration ---------------------------------------------------------------

    def list_available_solution_stacks(self) -> ActionResult:
        """The latest version of each platform branch only: superseded ones are no longer offered."""
        stacks = platforms.available_solution_stacks(self.backend.controls.released_platforms)
        details = [{"SolutionStackName": stack, "PermittedFileTypes": ["zip"]} for stack in stacks]
        return ActionResult({"SolutionStacks": stacks, "SolutionStackDetails": details})

    def list_platform_versions(self) -> ActionResult:
        released = self.backend.controls.released_platforms
        found = self._filtered(lambda filters: platforms.list_versions(filters, self.region, released))
        shown, token = self._page(found)
        return ActionResult(_with_token({"PlatformSummaryList": list(shown)}, token))

    def list_platform_branches(self) -> ActionResult:
        found = self._filtered(platforms.list_branches)
        shown, token = self._page(found)
        return ActionResult(_with_token({"PlatformBranchSummaryList": list(shown)}, token))

    def describe_platform_version(self) -> ActionResult:
        arn = self._get_param("PlatformArn")
        return ActionResult({"PlatformDescription": self.backend.describe_platform_version(arn)})

    def describe_configuration_settings(self) -> TYPE_RESPONSE:
        """AWS also answers each description's Tier, which botocore's public model lacks (the EB CLI's
        own model has it, and `eb health` reads it): it is written into the XML here."""
        settings = self.backend.describe_configuration_settings(
            self._get_param("ApplicationName"),
            self._get_param("EnvironmentName"),
            self._get_param("TemplateName"),
        )
        status, headers, serialized = self.serialized(ActionResult({"ConfigurationSettings": settings}))
        body = serialized.decode() if isinstance(serialized, bytes) else str(serialized)
        for described in settings:
            tier = "".join(f"<{key}>{value}</{key}>" for key, value in described["Tier"].items())
            name = f"<EnvironmentName>{described['EnvironmentName']}</EnvironmentName>"
            body = body.replace(name, f"{name}<Tier>{tier}</Tier>", 1)
        return status, headers, body

    def describe_configuration_options(self) -> ActionResult:
        env_name = self._get_param("EnvironmentName")
        stack = self._get_param("SolutionStackName")
        arn = self._get_param("PlatformArn")
        if env_name is not None:
            env = self.backend.environment(None, env_name)
            stack, arn = env.solution_stack_name, env.platform_arn
        elif stack is not None:
            found = platforms.from_solution_stack(stack)
            if found is None:
                raise exceptions.no_solution_stack(stack)
            arn = found.arn(self.region)
        return ActionResult({"SolutionStackName": stack or "", "PlatformArn": arn or "", "Options": []})

    # ----- environments ----------------------------------------------------------------------------

    def create_environment(self) -> ActionResult:
        tags = {tag["Key"]: tag["Value"] for tag in self._get_param("Tags", [])}
        env = self.backend.create_environment(
            application_name=self._get_param("ApplicationName"),
            environment_name=self._get_param("EnvironmentName"),
            solution_stack_name=self._get_param("SolutionStackName"),
            tags=tags,
            cname_prefix=self._get_param("CNAMEPrefix"),
            version_label=self._get_param("VersionLabel"),
            description=self._get_param("Description"),
            platform_arn=self._get_param("PlatformArn"),
            tier=self._get_param("Tier"),
            option_settings=options.from_request(self._get_param("OptionSettings")),
            operations_role=self._get_param("OperationsRole"),
        )
        return ActionResult(env.describe())

    def describe_environments(self) -> ActionResult:
        include_deleted = self._get_param("IncludeDeleted")
        envs = self.backend.describe_environments(
            application_name=self._get_param("ApplicationName"),
            environment_ids=self._get_param("EnvironmentIds"),
            environment_names=self._get_param("EnvironmentNames"),
            version_label=self._get_param("VersionLabel"),
            include_deleted=True if include_deleted is None else bool(include_deleted),
            deleted_back_to=_utc(self._get_param("IncludedDeletedBackTo")),
        )
        shown, token = self._page(envs)
        described = [self.backend.shown(env) for env in shown]
        return ActionResult(_with_token({"Environments": described}, token))

    def check_dns_availability(self) -> ActionResult:
        available, cname = self.backend.check_dns_availability(self._get_param("CNAMEPrefix"))
        return ActionResult({"Available": available, "FullyQualifiedCNAME": cname})

    def update_environment(self) -> ActionResult:
        env = self.backend.update_environment(
            environment_id=self._get_param("EnvironmentId"),
            environment_name=self._get_param("EnvironmentName"),
            version_label=self._get_param("VersionLabel"),
            description=self._get_param("Description"),
            option_settings=options.from_request(self._get_param("OptionSettings")),
            caller=callers.identify(self.headers, self.current_account),
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
        health = self.backend.describe_environment_health(
            self._get_param("EnvironmentId"),
            self._get_param("EnvironmentName"),
            self._get_param("AttributeNames") or ["All"],
        )
        return ActionResult(health)

    def describe_instances_health(self) -> ActionResult:
        health = self.backend.describe_instances_health(
            self._get_param("EnvironmentId"), self._get_param("EnvironmentName")
        )
        return ActionResult(health)

    def describe_environment_resources(self) -> ActionResult:
        described = self.backend.describe_environment_resources(
            self._get_param("EnvironmentId"), self._get_param("EnvironmentName")
        )
        return ActionResult({"EnvironmentResources": described})

    def describe_events(self) -> ActionResult:
        query = EventQuery(
            application_name=self._get_param("ApplicationName"),
            environment_name=self._get_param("EnvironmentName"),
            environment_id=self._get_param("EnvironmentId"),
            version_label=self._get_param("VersionLabel"),
            request_id=self._get_param("RequestId"),
            platform_arn=self._get_param("PlatformArn"),
            severity=self._get_param("Severity"),
            start_time=_utc(self._get_param("StartTime")),
            end_time=_utc(self._get_param("EndTime")),
        )
        shown, token = self._page(self.backend.describe_events(query), MAX_EVENTS)
        return ActionResult(_with_token({"Events": [event.describe() for event in shown]}, token))

    # ----- filters and pagination ------------------------------------------------------------------

    def _filtered(self, select: Any) -> list[dict[str, Any]]:
        try:
            return list(select(self._get_param("Filters") or []))
        except ValueError as error:
            raise exceptions.InvalidParameterValue(str(error)) from None

    def _page(self, items: Sequence[T], default_size: int | None = None) -> tuple[Sequence[T], str | None]:
        """MaxRecords / NextToken over `items` (the token is the offset of the next page)."""
        token = self._get_param("NextToken")
        try:
            start = int(token) if token else 0
        except ValueError:
            raise exceptions.InvalidParameterValue(f"Invalid NextToken: {token}") from None
        size = self._get_param("MaxRecords") or default_size
        if size is None:
            return items[start:], None
        end = start + int(size)
        return items[start:end], (str(end) if end < len(items) else None)


def _with_token(result: dict[str, Any], token: str | None) -> dict[str, Any]:
    return {**result, "NextToken": token} if token else result


def _utc(value: datetime | None) -> datetime | None:
    """Query timestamps arrive naive, meaning UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
