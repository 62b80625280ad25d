"""The `AWS::ElasticBeanstalk::*` resource types, created in the Beanstalk emulation's backend.

What CloudFormation does with each (its resource reference): Ref of an Application, Environment or
ConfigurationTemplate is its name, of an ApplicationVersion its label (generated, since the resource type
has no label property: `<stack>-<logical id>-<random>`); Environment's attributes are EndpointURL (the load
balancer's DNS name). An Environment resource is complete when the environment is Ready: until then the
stack stays CREATE_IN_PROGRESS. A configuration template is kept with its settings for the environments
created from it: an environment gets the template's option settings, outranked by its own. Updates of these
resources are not emulated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from moto.cloudformation.utils import random_suffix
from moto.core.common_models import CloudFormationModel

from moto_ext.elasticbeanstalk import BeanstalkBackend, backend
from moto_ext.elasticbeanstalk.settings import options

from .resource_type import ResourceType


def _backend(account_id: str, region_name: str) -> BeanstalkBackend:
    return backend(account_id=account_id, region=region_name)


class CloudFormationApplication(ResourceType, CloudFormationModel):
    TYPE = "AWS::ElasticBeanstalk::Application"
    NAME_PROPERTY = "ApplicationName"

    def __init__(self, name: str, lifecycle: dict[str, Any]) -> None:
        self.physical_id = name
        self.lifecycle = lifecycle  # ResourceLifecycleConfig, as given (the emulation enforces no rule)

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CloudFormationApplication:
        properties = cloudformation_json.get("Properties", {})
        _backend(account_id, region_name).create_application(resource_name)
        return cls(resource_name, properties.get("ResourceLifecycleConfig", {}))

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        _backend(account_id, region_name).delete_application(resource_name, terminate_env_by_force=False)


class CloudFormationApplicationVersion(ResourceType, CloudFormationModel):
    TYPE = "AWS::ElasticBeanstalk::ApplicationVersion"  # no name property: CloudFormation makes the label

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CloudFormationApplicationVersion:
        properties = cloudformation_json["Properties"]
        bundle = properties["SourceBundle"]
        _backend(account_id, region_name).create_application_version(
            application_name=properties["ApplicationName"],
            version_label=resource_name,
            description=properties.get("Description"),
            source_bundle=(bundle["S3Bucket"], bundle["S3Key"]),
            auto_create_application=False,
        )
        return cls(resource_name)


@dataclass
class _Template:
    solution_stack: str
    settings: list[dict[str, Any]] = field(default_factory=list)


_templates: dict[tuple[str, str, str, str], _Template] = {}  # (account, region, application, name)


class CloudFormationConfigurationTemplate(ResourceType, CloudFormationModel):
    TYPE = "AWS::ElasticBeanstalk::ConfigurationTemplate"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CloudFormationConfigurationTemplate:
        properties = cloudformation_json["Properties"]
        application = properties["ApplicationName"]
        _backend(account_id, region_name).application(application)  # the AWS error when it does not exist
        name = f"{application}-{random_suffix()}".lower()
        _templates[(account_id, region_name, application, name)] = _Template(
            properties["SolutionStackName"], list(properties.get("OptionSettings", []))
        )
        return cls(name)


class CloudFormationEnvironment(ResourceType, CloudFormationModel):
    TYPE = "AWS::ElasticBeanstalk::Environment"
    NAME_PROPERTY = "EnvironmentName"

    def __init__(self, account_id: str, region_name: str, name: str, endpoint_url: str) -> None:
        self.account_id = account_id
        self.region_name = region_name
        self.physical_id = name
        self.endpoint_url = endpoint_url

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "EndpointURL"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.endpoint_url

    def is_created(self) -> bool:
        """Complete once the environment is Ready, as CloudFormation waits for on AWS."""
        found = _backend(self.account_id, self.region_name).describe_environments(
            environment_names=[self.physical_id], include_deleted=False
        )
        return bool(found) and found[0].status == "Ready"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CloudFormationEnvironment:
        properties = cloudformation_json["Properties"]
        application = properties["ApplicationName"]
        stack = properties.get("SolutionStackName")
        settings: dict[tuple[str, str], str] = {}
        if "TemplateName" in properties:
            template = _templates[(account_id, region_name, application, properties["TemplateName"])]
            stack = stack or template.solution_stack
            settings.update(options.from_request(_present(template.settings)))
        own = _present(properties.get("OptionSettings", []))
        settings.update(options.from_request(own))  # they outrank the template's
        env = _backend(account_id, region_name).create_environment(
            application_name=application,
            environment_name=resource_name,
            solution_stack_name=stack or "",
            tags={tag["Key"]: tag["Value"] for tag in properties.get("Tags", [])},
            cname_prefix=properties.get("CNAMEPrefix"),
            version_label=properties.get("VersionLabel"),
            description=properties.get("Description"),
            option_settings=settings,
            operations_role=properties.get("OperationsRole"),
        )
        return cls(account_id, region_name, resource_name, env.endpoint_url)

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        """Terminated, and waited for as CloudFormation waits (the application can only go after it; on AWS
        DELETE_IN_PROGRESS lasts until it is Terminated, here the termination completes at once)."""
        backend = _backend(account_id, region_name)
        live = backend.describe_environments(environment_names=[resource_name], include_deleted=False)
        if live:
            if live[0].status != "Terminating":
                backend.terminate_environment(None, resource_name, force=True)
            backend.advance(resource_name)


def _present(items: list[Any]) -> list[Any]:
    """A list with the elements `!Ref AWS::NoValue` removed, as CloudFormation removes them (moto leaves
    None in their place)."""
    return [item for item in items if item is not None]
