"""State lives per account and region, moto's reset clears it, installing twice is harmless."""

from __future__ import annotations

from typing import Any

import boto3
from moto.core.base_backend import BackendDict

import moto_ext

from .harness import APP, REGION, STACK, Aws

OTHER_ACCOUNT = "210987654321"


def as_account(aws: Aws, account_id: str) -> Any:
    """An Elastic Beanstalk client that moto attributes to `account_id`."""
    client = boto3.client("elasticbeanstalk", region_name=REGION, endpoint_url=aws.endpoint_url)

    def add_header(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account_id

    client.meta.events.register("before-sign.*.*", add_header)
    return client


def test_another_region_has_its_own_environments(aws: Aws) -> None:
    aws.environment("blue-env", "app-prod")
    west = aws.client("elasticbeanstalk", region="eu-west-1")
    west.create_application(ApplicationName=APP)

    west.create_environment(
        ApplicationName=APP, EnvironmentName="blue-env", CNAMEPrefix="app-prod", SolutionStackName=STACK
    )

    assert (
        west.describe_environments()["Environments"][0]["CNAME"] == "app-prod.eu-west-1.elasticbeanstalk.com"
    )
    assert len(aws.eb.describe_environments()["Environments"]) == 1
    assert moto_ext.backend(region="eu-west-1") is not aws.be


def test_another_account_has_its_own_environments(aws: Aws) -> None:
    aws.environment("blue-env", "app-prod")
    other = as_account(aws, OTHER_ACCOUNT)

    other.create_application(ApplicationName="elsewhere")

    assert [app["ApplicationName"] for app in other.describe_applications()["Applications"]] == ["elsewhere"]
    assert other.describe_environments()["Environments"] == []
    assert moto_ext.backend(account_id=OTHER_ACCOUNT).applications.keys() == {"elsewhere"}


def test_cnames_are_one_namespace_across_accounts_of_a_region(aws: Aws) -> None:
    aws.environment("blue-env", "app-prod")
    other = as_account(aws, OTHER_ACCOUNT)

    assert other.check_dns_availability(CNAMEPrefix="app-prod")["Available"] is False


def test_moto_reset_clears_environments_versions_events_and_controls(aws: Aws) -> None:
    aws.version("v1")
    aws.environment("blue-env", "app-prod", "v1")
    aws.be.set_throttling(1.0, operations=("DescribeApplications",))
    aws.be.settle_after_s = 99

    BackendDict.reset()

    fresh = moto_ext.backend()
    assert isinstance(fresh, moto_ext.BeanstalkBackend)
    assert (fresh.applications, fresh.versions, fresh.events) == ({}, {}, [])
    assert fresh.settle_after_s == 5.0
    assert aws.eb.describe_applications()["Applications"] == []


def test_install_is_idempotent_and_keeps_state(aws: Aws) -> None:
    aws.environment("blue-env", "app-prod")

    moto_ext.install()
    moto_ext.install()

    assert [env["EnvironmentName"] for env in aws.eb.describe_environments()["Environments"]] == ["blue-env"]
