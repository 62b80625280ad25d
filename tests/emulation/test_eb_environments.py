"""Environments: real ids and CNAMEs, DescribeEnvironments' filters, DNS availability, termination."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from .harness import APP, STACK, Aws


def test_create_gives_an_id_and_the_cname_of_the_prefix(aws: Aws) -> None:
    aws.version("v1")

    env = aws.environment("blue-env", "app-prod", "v1")

    assert re.fullmatch(r"e-[a-z0-9]{10}", env["EnvironmentId"])
    assert env["CNAME"] == "app-prod.us-east-1.elasticbeanstalk.com"
    assert (env["VersionLabel"], env["Status"], env["Health"]) == ("v1", "Launching", "Grey")
    assert env["SolutionStackName"] == STACK
    assert (
        env["EnvironmentArn"]
        == "arn:aws:elasticbeanstalk:us-east-1:123456789012:environment/deliverypipeline/blue-env"
    )


def test_without_a_prefix_the_cname_is_unique_under_the_name(aws: Aws) -> None:
    env = aws.eb.create_environment(ApplicationName=APP, EnvironmentName="blue-env", SolutionStackName=STACK)

    assert re.fullmatch(r"blue-env\.eba-[a-z0-9]{8}\.us-east-1\.elasticbeanstalk\.com", env["CNAME"])
    assert "VersionLabel" not in env


def test_a_taken_cname_is_refused(aws: Aws) -> None:
    aws.environment("blue-env", "app-prod")

    with pytest.raises(ClientError) as caught:
        aws.environment("green-env", "app-prod")

    assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert caught.value.response["Error"]["Message"] == (
        "DNS name (app-prod.us-east-1.elasticbeanstalk.com) is not available."
    )


def test_an_unknown_version_label_is_refused_at_creation(aws: Aws) -> None:
    with pytest.raises(ClientError) as caught:
        aws.environment("blue-env", "app-prod", "v9")

    assert caught.value.response["Error"]["Message"] == "No Application Version named 'v9' found."


def test_a_duplicate_name_is_refused(aws: Aws) -> None:
    aws.environment("blue-env", "app-prod")

    with pytest.raises(ClientError) as caught:
        aws.environment("blue-env", "app-other")

    assert caught.value.response["Error"]["Message"] == "Environment blue-env already exists."


def test_check_dns_availability(aws: Aws) -> None:
    aws.environment("blue-env", "app-prod")

    taken = aws.eb.check_dns_availability(CNAMEPrefix="app-prod")
    free = aws.eb.check_dns_availability(CNAMEPrefix="app-free")

    assert (taken["Available"], taken["FullyQualifiedCNAME"]) == (
        False,
        "app-prod.us-east-1.elasticbeanstalk.com",
    )
    assert (free["Available"], free["FullyQualifiedCNAME"]) == (
        True,
        "app-free.us-east-1.elasticbeanstalk.com",
    )


@pytest.fixture
def three(aws: Aws) -> Aws:
    aws.version("v1")
    aws.version("v2")
    aws.eb.create_application(ApplicationName="other-app")
    aws.environment("blue-env", "app-prod", "v1")
    aws.environment("green-env", "app-pre", "v2")
    aws.eb.create_environment(
        ApplicationName="other-app", EnvironmentName="lone-env", SolutionStackName=STACK
    )
    aws.be.advance("lone-env")
    return aws


def names(aws: Aws, **filters: object) -> list[str]:
    return sorted(env["EnvironmentName"] for env in aws.eb.describe_environments(**filters)["Environments"])


def test_describe_environments_honours_its_filters(three: Aws) -> None:
    blue_id = three.describe("blue-env")["EnvironmentId"]

    assert names(three) == ["blue-env", "green-env", "lone-env"]
    assert names(three, ApplicationName=APP) == ["blue-env", "green-env"]
    assert names(three, EnvironmentNames=["green-env", "lone-env"]) == ["green-env", "lone-env"]
    assert names(three, EnvironmentIds=[blue_id]) == ["blue-env"]
    assert names(three, VersionLabel="v2") == ["green-env"]
    assert names(three, ApplicationName=APP, EnvironmentNames=["lone-env"]) == []


def test_terminate_then_terminated_is_listed_only_with_include_deleted(three: Aws) -> None:
    answer = three.eb.terminate_environment(EnvironmentName="lone-env")
    assert answer["Status"] == "Terminating"
    three.be.advance()

    deleted = three.eb.describe_environments(EnvironmentNames=["lone-env"])["Environments"]
    assert [(env["Status"], env["Health"]) for env in deleted] == [("Terminated", "Grey")]
    assert names(three, IncludeDeleted=False) == ["blue-env", "green-env"]
    assert "terminateEnvironment completed successfully." in three.messages(EnvironmentName="lone-env")


def test_terminated_environments_drop_off_after_an_hour(three: Aws) -> None:
    three.eb.terminate_environment(EnvironmentName="lone-env")
    three.be.advance()
    three.clock.tick(3601)

    assert names(three) == ["blue-env", "green-env"]


def test_a_terminated_environment_frees_its_name_and_cname(three: Aws) -> None:
    three.eb.terminate_environment(EnvironmentName="blue-env")
    three.be.advance()

    again = three.environment("blue-env", "app-prod", "v1")

    assert (again["Status"], again["CNAME"]) == ("Launching", "app-prod.us-east-1.elasticbeanstalk.com")


def test_terminate_of_an_updating_environment_needs_force(three: Aws) -> None:
    three.eb.update_environment(EnvironmentName="green-env", VersionLabel="v1")
    with pytest.raises(ClientError) as caught:
        three.eb.terminate_environment(EnvironmentName="green-env")
    assert caught.value.response["Error"]["Message"] == (
        "Cannot terminate environment named green-env. It is currently pending deployment."
    )

    answer = three.eb.terminate_environment(EnvironmentName="green-env", ForceTerminate=True)

    assert answer["Status"] == "Terminating"


def test_terminate_of_an_unknown_id_is_refused(aws: Aws) -> None:
    with pytest.raises(ClientError) as caught:
        aws.eb.terminate_environment(EnvironmentId="e-0000000000")

    assert (
        caught.value.response["Error"]["Message"]
        == "No Environment found for EnvironmentId = 'e-0000000000'."
    )


def test_tags_still_work_on_extended_environments(aws: Aws) -> None:
    env = aws.environment("blue-env", "app-prod")

    aws.eb.update_tags_for_resource(
        ResourceArn=env["EnvironmentArn"], TagsToAdd=[{"Key": "team", "Value": "ops"}]
    )

    tags = aws.eb.list_tags_for_resource(ResourceArn=env["EnvironmentArn"])["ResourceTags"]
    assert tags == [{"Key": "team", "Value": "ops"}]


def test_an_application_with_running_environments_is_deleted_only_by_force(three: Aws) -> None:
    with pytest.raises(ClientError) as caught:
        three.eb.delete_application(ApplicationName=APP)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"

    three.eb.delete_application(ApplicationName=APP, TerminateEnvByForce=True)

    assert [app["ApplicationName"] for app in three.eb.describe_applications()["Applications"]] == [
        "other-app"
    ]
    assert names(three, IncludeDeleted=False) == ["lone-env"]
    assert three.eb.describe_application_versions()["ApplicationVersions"] == []
    assert three.eb.check_dns_availability(CNAMEPrefix="app-prod")["Available"] is True


def test_a_terminating_environment_is_grey(three: Aws) -> None:
    """AWS's TerminateEnvironment example answers Status Terminating and Health Grey."""
    terminating = three.eb.terminate_environment(EnvironmentName="green-env")

    assert (terminating["Status"], terminating["Health"]) == ("Terminating", "Grey")
