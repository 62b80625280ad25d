"""Option settings are applied: what CreateEnvironment, a configuration template (CloudFormation) and
UpdateEnvironment set is what DescribeConfigurationSettings shows, an environment's own outranking its
template's; a value Beanstalk cannot use is refused and nothing is created or changed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .harness import APP, STACK, Aws

SECRETS = "aws:elasticbeanstalk:application:environmentsecrets"
HEALTH = "aws:elasticbeanstalk:healthreporting:system"
PARAMETER_ARN = "arn:aws:ssm:us-east-1:123456789012:parameter/deliverypipeline/mongodb-uri"


def _settings(aws: Aws, name: str) -> dict[tuple[str, str], str]:
    described = aws.eb.describe_configuration_settings(ApplicationName=APP, EnvironmentName=name)
    return {
        (o["Namespace"], o["OptionName"]): o.get("Value", "")
        for o in described["ConfigurationSettings"][0]["OptionSettings"]
    }


def _create(aws: Aws, name: str, *options: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return dict(
        aws.eb.create_environment(
            ApplicationName=APP,
            EnvironmentName=name,
            SolutionStackName=STACK,
            OptionSettings=list(options),
            **extra,
        )
    )


def test_create_environment_applies_its_option_settings(aws: Aws) -> None:
    _create(
        aws,
        "blue-env",
        {"Namespace": SECRETS, "OptionName": "MONGODB_URI", "Value": PARAMETER_ARN},
        {"Namespace": "aws:elasticbeanstalk:command", "OptionName": "DeploymentPolicy", "Value": "Immutable"},
    )

    settings = _settings(aws, "blue-env")
    assert settings[(SECRETS, "MONGODB_URI")] == PARAMETER_ARN
    assert (
        settings[("aws:elasticbeanstalk:command", "DeploymentPolicy")] == "Immutable"
    )  # outranks the default


@pytest.mark.parametrize("value", [None, "", "mongodb://user:secret@db.example.com/app"])
def test_an_environment_secret_that_is_no_arn_is_refused(aws: Aws, value: str | None) -> None:
    option: dict[str, Any] = {"Namespace": SECRETS, "OptionName": "MONGODB_URI"}
    if value is not None:
        option["Value"] = value

    with pytest.raises(ClientError) as caught:
        _create(aws, "blue-env", option)

    assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert caught.value.response["Error"]["Message"].startswith(
        f"Invalid option value: '{value or ''}' (Namespace: '{SECRETS}', OptionName: 'MONGODB_URI'): "
    )
    assert aws.eb.describe_environments(IncludeDeleted=False)["Environments"] == []


def test_a_configuration_update_applies_its_settings_once_it_succeeds(aws: Aws) -> None:
    aws.environment("blue-env", "app-prod")
    document = json.dumps(
        {"Rules": {"Environment": {"Application": {"ApplicationRequests4xx": {"Enabled": False}}}}}
    )

    aws.eb.update_environment(
        EnvironmentName="blue-env",
        OptionSettings=[{"Namespace": HEALTH, "OptionName": "ConfigDocument", "Value": document}],
    )
    pending = _settings(aws, "blue-env")
    aws.be.advance("blue-env")

    assert (HEALTH, "ConfigDocument") not in pending
    assert _settings(aws, "blue-env")[(HEALTH, "ConfigDocument")] == document


def test_a_config_document_that_is_no_json_object_is_refused(aws: Aws) -> None:
    aws.environment("blue-env", "app-prod")

    with pytest.raises(ClientError) as caught:
        aws.eb.update_environment(
            EnvironmentName="blue-env",
            OptionSettings=[{"Namespace": HEALTH, "OptionName": "ConfigDocument", "Value": "Rules: off"}],
        )

    assert (
        "(Namespace: 'aws:elasticbeanstalk:healthreporting:system', OptionName: 'ConfigDocument')"
        in (caught.value.response["Error"]["Message"])
    )
    assert aws.describe("blue-env")["Status"] == "Ready"


def test_the_operations_role_is_described(aws: Aws) -> None:
    role = "arn:aws:iam::123456789012:role/deliverypipeline-operations"

    created = _create(aws, "blue-env", OperationsRole=role)

    assert created["OperationsRole"] == role
    assert aws.describe("blue-env")["OperationsRole"] == role


def test_cloudformation_gives_an_environment_its_templates_settings_outranked_by_its_own(aws: Aws) -> None:
    policy = "aws:elasticbeanstalk:command"
    template = {
        "Resources": {
            "Settings": {
                "Type": "AWS::ElasticBeanstalk::ConfigurationTemplate",
                "Properties": {
                    "ApplicationName": APP,
                    "SolutionStackName": STACK,
                    "OptionSettings": [
                        {"Namespace": policy, "OptionName": "DeploymentPolicy", "Value": "Rolling"},
                        {"Namespace": policy, "OptionName": "Timeout", "Value": "900"},
                    ],
                },
            },
            "Blue": {
                "Type": "AWS::ElasticBeanstalk::Environment",
                "Properties": {
                    "ApplicationName": APP,
                    "EnvironmentName": "blue-env",
                    "TemplateName": {"Ref": "Settings"},
                    "OptionSettings": [
                        {"Namespace": policy, "OptionName": "DeploymentPolicy", "Value": "Immutable"}
                    ],
                },
            },
        }
    }

    aws.client("cloudformation").create_stack(StackName="app", TemplateBody=json.dumps(template))

    settings = _settings(aws, "blue-env")
    assert settings[(policy, "DeploymentPolicy")] == "Immutable"
    assert settings[(policy, "Timeout")] == "900"


def test_cloudformation_drops_an_option_setting_that_is_no_value(aws: Aws) -> None:
    """`!If [Cond, {...}, !Ref AWS::NoValue]` in a list removes the element, as on AWS."""
    template = {
        "Conditions": {"Never": {"Fn::Equals": ["a", "b"]}},
        "Resources": {
            "Blue": {
                "Type": "AWS::ElasticBeanstalk::Environment",
                "Properties": {
                    "ApplicationName": APP,
                    "EnvironmentName": "blue-env",
                    "SolutionStackName": STACK,
                    "OptionSettings": [
                        {
                            "Fn::If": [
                                "Never",
                                {"Namespace": SECRETS, "OptionName": "MONGODB_URI", "Value": PARAMETER_ARN},
                                {"Ref": "AWS::NoValue"},
                            ]
                        }
                    ],
                },
            }
        },
    }

    aws.client("cloudformation").create_stack(StackName="app", TemplateBody=json.dumps(template))

    assert (SECRETS, "MONGODB_URI") not in _settings(aws, "blue-env")
