"""The `AWS::ElasticBeanstalk::*` resource types, created in the Beanstalk emulation's backend.

What CloudFormation does with each (its resource reference): Ref of an Application, Environment or
ConfigurationTemplate is its name, of an ApplicationVersion its label (generated, since the resource type
has no label property: `<stack>-<logical id>-<random>`); Environment's attributes are EndpointURL (the load
balancer's DNS name). An Environment resource is complete when the environment is Ready: until then the
stack stays CREATE_IN_PROGRESS. A configuration template is kept with its settings for the environments
created from it (the emulation applies no option settings). Updates of these resources are not emulated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from moto.cloudformation.utils import random_suffix
from moto.core.common_models import CloudFormationModel

from sandbox import beanstalk


def _backend(account_id: str, region_name: str) -> beanstalk.BeanstalkBackend:
    return beanstalk.backend(account_id=account_id, region=region_name)


class _BeanstalkResource:
    """What the four types share. moto finds resource types among CloudFormationModel's direct subclasses,
    so each class below names CloudFormationModel itself."""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    def is_created(self) -> bool:
        return True


class CloudFormationApplication(_BeanstalkResource, CloudFormationModel):
    def __init__(self, name: str, lifecycle: dict[str, Any]) -> None:
        self.name = name
        self.lifecycle = lifecycle  # ResourceLifecycleConfig, as given (the emulation enforces no rule)

    @staticmethod
    def cloudformation_name_type() -> str:
        return "ApplicationName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ElasticBeanstalk::Application"

    @property
    def physical_resource_id(self) -> str:
        return self.name

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
        _backend(account_id, region_name).remove_application(resource_name, terminate_environments=False)


class CloudFormationApplicationVersion(_BeanstalkResource, CloudFormationModel):
    def __init__(self, label: str) -> None:
        self.label = label

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""  # no name property: CloudFormation generates the label

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ElasticBeanstalk::ApplicationVersion"

    @property
    def physical_resource_id(self) -> str:
        return self.label

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


class CloudFormationConfigurationTemplate(_BeanstalkResource, CloudFormationModel):
    def __init__(self, name: str) -> None:
        self.name = name

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ElasticBeanstalk::ConfigurationTemplate"

    @property
    def physical_resource_id(self) -> str:
        return self.name

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


class CloudFormationEnvironment(_BeanstalkResource, CloudFormationModel):
    def __init__(self, account_id: str, region_name: str, name: str, endpoint_url: str) -> None:
        self.account_id = account_id
        self.region_name = region_name
        self.name = name
        self.endpoint_url = endpoint_url

    @staticmethod
    def cloudformation_name_type() -> str:
        return "EnvironmentName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ElasticBeanstalk::Environment"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "EndpointURL"

    @property
    def physical_resource_id(self) -> str:
        return self.name

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.endpoint_url

    def is_created(self) -> bool:
        """Complete once the environment is Ready, as CloudFormation waits for on AWS."""
        found = _backend(self.account_id, self.region_name).find_environments(
            environment_names=[self.name], include_deleted=False
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
        if stack is None and "TemplateName" in properties:
            stack = _templates[
                (account_id, region_name, application, properties["TemplateName"])
            ].solution_stack
        env = _backend(account_id, region_name).launch_environment(
            application_name=application,
            environment_name=resource_name,
            solution_stack_name=stack or "",
            tags={tag["Key"]: tag["Value"] for tag in properties.get("Tags", [])},
            cname_prefix=properties.get("CNAMEPrefix"),
            version_label=properties.get("VersionLabel"),
            description=properties.get("Description"),
        )
        return cls(account_id, region_name, resource_name, env.endpoint_url)
