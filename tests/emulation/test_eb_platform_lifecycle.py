"""Platform versions get superseded: only the latest of a branch is listed and offered to a new environment
(an older one only to an account that ran it in the last 30 days), with AWS's "No Solution Stack named"
refusal; an environment already on an older version keeps running and deploying.

https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/platforms-glossary.html ("Platform Branch")
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from .harness import APP, STACK, Aws
from .test_eb_control_api import control

SUPERSEDED = "64bit Amazon Linux 2023 v4.0.0 running Docker"
SUPERSEDED_ARN = (
    "arn:aws:elasticbeanstalk:us-east-1::platform/Docker running on 64bit Amazon Linux 2023/4.0.0"
)
RELEASED = "64bit Amazon Linux 2023 v4.7.0 running Docker"
DOCKER_AL2023 = " running Docker"


def _docker_al2023(stacks: list[str]) -> list[str]:
    return [s for s in stacks if s.startswith("64bit Amazon Linux 2023 ") and s.endswith(DOCKER_AL2023)]


def _refused(aws: Aws, **platform: str) -> str:
    with pytest.raises(ClientError) as caught:
        aws.eb.create_environment(ApplicationName=APP, EnvironmentName="new-env", **platform)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert (
        aws.eb.describe_environments(EnvironmentNames=["new-env"], IncludeDeleted=False)["Environments"] == []
    )
    return str(caught.value.response["Error"]["Message"])


def test_only_the_latest_version_of_a_branch_is_listed(aws: Aws) -> None:
    stacks = aws.eb.list_available_solution_stacks()["SolutionStacks"]
    arns = [
        v["PlatformArn"]
        for v in aws.eb.list_platform_versions(
            Filters=[
                {
                    "Type": "PlatformBranchName",
                    "Operator": "=",
                    "Values": ["Docker running on 64bit Amazon Linux 2023"],
                }
            ]
        )["PlatformSummaryList"]
    ]

    assert _docker_al2023(stacks) == [STACK]
    assert [arn.rsplit("/", 1)[-1] for arn in arns] == ["4.6.0"]


def test_a_superseded_version_is_refused_for_a_new_environment(aws: Aws) -> None:
    assert _refused(aws, SolutionStackName=SUPERSEDED) == f"No Solution Stack named '{SUPERSEDED}' found."
    assert _refused(aws, PlatformArn=SUPERSEDED_ARN) == f"No Platform named '{SUPERSEDED_ARN}' found."


def test_a_release_supersedes_the_version_an_environment_keeps_running(pair: Aws) -> None:
    """blue-env and green-env run v4.6.0; AWS releases v4.7.0."""
    answer = control(pair, "POST", "platform-releases", {"solution_stack": RELEASED})

    assert answer.status_code == 200 and answer.json()["released_platforms"] == [RELEASED]
    assert _docker_al2023(pair.eb.list_available_solution_stacks()["SolutionStacks"]) == [RELEASED]
    pair.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")  # it still deploys
    pair.be.advance("green-env")
    green = pair.describe("green-env")
    assert (green["Status"], green["VersionLabel"], green["SolutionStackName"]) == ("Ready", "v2", STACK)


def test_an_account_that_ran_a_superseded_version_may_use_it_for_30_days(pair: Aws) -> None:
    pair.be.release_platform_version(RELEASED)
    pair.eb.create_environment(ApplicationName=APP, EnvironmentName="third-env", SolutionStackName=STACK)
    for name in ("blue-env", "green-env", "third-env"):
        pair.be.advance(name)
        pair.eb.terminate_environment(EnvironmentName=name)
        pair.be.advance(name)

    pair.clock.tick(29 * 24 * 3600)
    pair.eb.create_environment(ApplicationName=APP, EnvironmentName="fourth-env", SolutionStackName=STACK)
    pair.be.advance("fourth-env")
    pair.eb.terminate_environment(EnvironmentName="fourth-env")
    pair.be.advance("fourth-env")
    pair.clock.tick(31 * 24 * 3600)

    assert _refused(pair, SolutionStackName=STACK) == f"No Solution Stack named '{STACK}' found."


def test_an_unknown_platform_release_is_refused_over_http(aws: Aws) -> None:
    answer = control(
        aws, "POST", "platform-releases", {"solution_stack": "64bit Plan 9 v1.0.0 running Docker"}
    )

    assert answer.status_code == 400
    assert "not a platform the emulation knows" in answer.json()["error"]
