"""What AWS always does and the emulation does by default: platforms, launch states, processing, tiers,
storage location, resources, health, configuration, and AWS-style errors for what it lacks."""

from __future__ import annotations

import re

import pytest
import requests
from botocore.exceptions import ClientError

from .harness import APP, STACK, Aws

SCOPE = "us-east-1/elasticbeanstalk/aws4_request"
DOCKER_ARN = "arn:aws:elasticbeanstalk:us-east-1::platform/Docker running on 64bit Amazon Linux 2023/4.6.0"


def test_create_environment_launches_then_is_ready_after_the_launch_time(aws: Aws) -> None:
    aws.be.set_timings(launch_s=200)
    created = aws.eb.create_environment(
        ApplicationName=APP, EnvironmentName="blue-env", SolutionStackName=STACK
    )

    aws.clock.tick(199)
    during = aws.describe("blue-env")
    aws.clock.tick(1)
    after = aws.describe("blue-env")

    assert (created["Status"], created["Health"]) == ("Launching", "Grey")
    assert (during["Status"], during["Health"]) == ("Launching", "Grey")
    assert (after["Status"], after["Health"]) == ("Ready", "Green")
    own = aws.eb.describe_events(RequestId=created["ResponseMetadata"]["RequestId"])["Events"]
    assert own[0]["Message"] == "Successfully launched environment: blue-env"


def test_environments_carry_the_platform_arn_of_their_solution_stack(aws: Aws) -> None:
    env = aws.environment("blue-env", "app-prod")

    assert env["PlatformArn"] == DOCKER_ARN
    assert (
        aws.eb.describe_platform_version(PlatformArn=DOCKER_ARN)["PlatformDescription"]["SolutionStackName"]
        == STACK
    )


def test_an_environment_can_be_created_from_a_platform_arn(aws: Aws) -> None:
    env = aws.eb.create_environment(ApplicationName=APP, EnvironmentName="blue-env", PlatformArn=DOCKER_ARN)

    assert (env["SolutionStackName"], env["PlatformArn"]) == (STACK, DOCKER_ARN)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"SolutionStackName": "stack"}, "No Solution Stack named 'stack' found."),
        (
            {"SolutionStackName": "64bit Amazon Linux 2023 v4.6.0 running Cobol 85"},
            "No Solution Stack named '64bit Amazon Linux 2023 v4.6.0 running Cobol 85' found.",
        ),
        ({"PlatformArn": "arn:aws:elasticbeanstalk:us-east-1::platform/Nope/1.0.0"}, "No Platform named"),
    ],
)
def test_an_unknown_platform_is_refused_and_nothing_is_created(
    aws: Aws, params: dict[str, str], message: str
) -> None:
    with pytest.raises(ClientError) as caught:
        aws.eb.create_environment(ApplicationName=APP, EnvironmentName="blue-env", **params)

    assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert message in caught.value.response["Error"]["Message"]
    assert aws.eb.describe_environments()["Environments"] == []


def test_a_newer_version_on_a_known_platform_is_accepted(aws: Aws) -> None:
    env = aws.eb.create_environment(
        ApplicationName=APP,
        EnvironmentName="py-env",
        SolutionStackName="64bit Amazon Linux 2023 v4.9.0 running Python 3.14",
    )

    assert env["PlatformArn"].endswith("platform/Python 3.14 running on 64bit Amazon Linux 2023/4.9.0")


def test_platform_branches_and_versions_list_docker(aws: Aws) -> None:
    branches = aws.eb.list_platform_branches(
        Filters=[{"Attribute": "PlatformName", "Operator": "=", "Values": ["Docker"]}]
    )["PlatformBranchSummaryList"]
    versions = aws.eb.list_platform_versions(
        Filters=[
            {
                "Type": "PlatformBranchName",
                "Operator": "=",
                "Values": ["Docker running on 64bit Amazon Linux 2023"],
            }
        ]
    )["PlatformSummaryList"]

    assert "Docker running on 64bit Amazon Linux 2023" in [branch["BranchName"] for branch in branches]
    assert {branch["PlatformName"] for branch in branches} == {"Docker"}
    assert [version["PlatformArn"] for version in versions] == [DOCKER_ARN]


def test_a_bad_platform_filter_is_refused(aws: Aws) -> None:
    with pytest.raises(ClientError) as caught:
        aws.eb.list_platform_versions(Filters=[{"Type": "Colour", "Operator": "=", "Values": ["red"]}])

    assert "Invalid filter type 'Colour'" in caught.value.response["Error"]["Message"]


def test_a_processed_version_goes_processing_then_processed(aws: Aws) -> None:
    aws.be.set_timings(process_s=10)
    created = aws.eb.create_application_version(
        ApplicationName=APP, VersionLabel="v1", SourceBundle=aws.bundle("v1"), Process=True
    )["ApplicationVersion"]

    aws.clock.tick(10)
    later = aws.eb.describe_application_versions(ApplicationName=APP, VersionLabels=["v1"])[
        "ApplicationVersions"
    ]

    assert created["Status"] == "Processing"
    assert later[0]["Status"] == "Processed"
    assert "Finished processing application version v1. Status: PROCESSED." in aws.messages(
        ApplicationName=APP
    )


def test_a_version_without_process_stays_unprocessed(aws: Aws) -> None:
    aws.version("v1")
    aws.clock.tick(3600)

    listed = aws.eb.describe_application_versions(ApplicationName=APP)["ApplicationVersions"]
    assert listed[0]["Status"] == "Unprocessed"


def test_a_worker_environment_has_no_cname_and_its_queue(aws: Aws) -> None:
    env = aws.eb.create_environment(
        ApplicationName=APP,
        EnvironmentName="work-env",
        SolutionStackName=STACK,
        Tier={"Name": "Worker", "Type": "SQS/HTTP"},
    )
    aws.be.advance()

    resources = aws.eb.describe_environment_resources(EnvironmentName="work-env")["EnvironmentResources"]
    assert (env["CNAME"], env["Tier"]["Name"]) == ("", "Worker")
    assert resources["Queues"][0]["Name"] == "WorkerQueue"
    assert resources["LoadBalancers"] == []


# An Application Load Balancer environment's resources name the ALB by its ARN (as Beanstalk's own events do:
# "Created load balancer named: arn:aws:elasticloadbalancing:...:loadbalancer/app/awseb-AWSEB-.../<id>"),
# and the EB CLI tells an ALB from a Classic one by that "arn:aws:elasticloadbalancing" (ebcli/lib/elb.py).
# Its CloudWatch metrics carry the dimension LoadBalancer = the ARN's last part, "app/<name>/<id>"
# (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html);
# the EndpointURL is the ALB's DNS name, "<name>-<digits>.<region>.elb.amazonaws.com".
ALB_ARN = re.compile(
    r"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/(awseb-AWSEB-[A-Z0-9]{12})/[0-9a-f]{16}"
)


def test_a_web_environment_names_its_application_load_balancer_by_arn(aws: Aws) -> None:
    blue = aws.environment("blue-env", "app-prod")
    green = aws.environment("green-env", "app-green")

    named = {
        env["EnvironmentName"]: aws.eb.describe_environment_resources(EnvironmentName=env["EnvironmentName"])[
            "EnvironmentResources"
        ]["LoadBalancers"]
        for env in (blue, green)
    }

    found = {name: ALB_ARN.fullmatch(balancers[0]["Name"]) for name, balancers in named.items()}
    assert all(found.values()), named
    assert found["blue-env"] != found["green-env"]
    for env in (blue, green):
        match = found[env["EnvironmentName"]]
        assert match is not None
        assert re.fullmatch(
            rf"{match.group(1)}-[0-9]{{10}}\.us-east-1\.elb\.amazonaws\.com", env["EndpointURL"]
        )


def test_a_worker_environment_cannot_take_part_in_a_swap(aws: Aws) -> None:
    aws.environment("blue-env", "app-prod")
    aws.eb.create_environment(
        ApplicationName=APP, EnvironmentName="work-env", SolutionStackName=STACK, Tier={"Name": "Worker"}
    )
    aws.be.advance()

    with pytest.raises(ClientError) as caught:
        aws.eb.swap_environment_cnames(
            SourceEnvironmentName="work-env", DestinationEnvironmentName="blue-env"
        )

    assert "worker environment" in caught.value.response["Error"]["Message"]


def test_a_third_web_environment_and_an_auto_generated_cname(aws: Aws) -> None:
    aws.environment("blue-env", "app-prod")
    aws.environment("green-env", "app-pre")
    third = aws.eb.create_environment(
        ApplicationName=APP, EnvironmentName="extra-env", SolutionStackName=STACK
    )

    assert re.fullmatch(r"extra-env\.eba-[a-z0-9]{8}\.us-east-1\.elasticbeanstalk\.com", third["CNAME"])
    assert len(aws.eb.describe_environments(ApplicationName=APP)["Environments"]) == 3


def test_create_storage_location_makes_the_accounts_bucket(aws: Aws) -> None:
    bucket = aws.eb.create_storage_location()["S3Bucket"]
    again = aws.eb.create_storage_location()["S3Bucket"]

    assert bucket == again == "elasticbeanstalk-us-east-1-123456789012"
    assert bucket in [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]]


def test_configuration_settings_name_the_platform_and_options(aws: Aws) -> None:
    aws.environment("blue-env", "app-prod")

    settings = aws.eb.describe_configuration_settings(ApplicationName=APP, EnvironmentName="blue-env")[
        "ConfigurationSettings"
    ][0]

    assert (settings["EnvironmentName"], settings["PlatformArn"]) == ("blue-env", DOCKER_ARN)
    options = {(o["Namespace"], o["OptionName"]): o["Value"] for o in settings["OptionSettings"]}
    assert options[("aws:elasticbeanstalk:environment", "EnvironmentType")] == "LoadBalanced"


def test_instances_health_and_environment_health_follow_the_environment(aws: Aws) -> None:
    aws.environment("blue-env", "app-prod")

    instances = aws.eb.describe_instances_health(EnvironmentName="blue-env", AttributeNames=["All"])
    health = aws.eb.describe_environment_health(EnvironmentName="blue-env", AttributeNames=["All"])

    assert [(i["HealthStatus"], i["Color"]) for i in instances["InstanceHealthList"]] == [("Ok", "Green")]
    assert health["InstancesHealth"]["Ok"] == 1


def test_an_action_the_emulation_lacks_answers_an_aws_style_400(aws: Aws) -> None:
    with pytest.raises(ClientError) as caught:
        aws.eb.describe_environment_managed_actions(EnvironmentName="blue-env")

    error = caught.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("InvalidAction", 400)
    assert "DescribeEnvironmentManagedActions" in error["Error"]["Message"]


def test_the_unimplemented_answer_is_xml_not_html(eb_server_url: str) -> None:
    answer = requests.post(
        eb_server_url,
        data={"Action": "RebuildEnvironment", "Version": "2010-12-01", "EnvironmentName": "blue-env"},
        headers={"Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20261126/{SCOPE}"},
        timeout=10,
    )

    assert answer.status_code == 400
    assert answer.text.lstrip().startswith("<")
    assert "<Code>InvalidAction</Code>" in answer.text
    assert "<html" not in answer.text.lower()
