"""The AWS CLI's elasticbeanstalk commands and botocore's waiters against the emulation."""

from __future__ import annotations

import subprocess

import pytest

from .conftest import AWS_CLI, REPO, Clients, create_environment

pytestmark = pytest.mark.clients


@pytest.fixture
def app(clients: Clients) -> Clients:
    clients.aws_json("elasticbeanstalk", "create-application", "--application-name", "myapp")
    return clients


def statuses(clients: Clients, *names: str) -> dict[str, str]:
    described = clients.aws_json("elasticbeanstalk", "describe-environments", "--environment-names", *names)
    return {env["EnvironmentName"]: env["Status"] for env in described["Environments"]}


def test_create_environment_answers_launching_and_the_exists_waiter_waits_for_ready(app: Clients) -> None:
    created = app.environment("myapp-blue", "myapp-prod")

    waited = app.aws("elasticbeanstalk", "wait", "environment-exists", "--environment-names", "myapp-blue")

    assert (created["Status"], created["Health"]) == ("Launching", "Grey")
    assert waited.returncode == 0, waited.stderr
    assert statuses(app, "myapp-blue") == {"myapp-blue": "Ready"}


def test_environment_updated_after_a_swap_returns_only_once_the_cnames_moved(app: Clients) -> None:
    app.environment("myapp-blue", "myapp-prod")
    app.environment("myapp-green", "myapp-pre")
    app.controls.settle()
    app.controls.set_timings(swap_s=8)

    swap = app.aws(
        "elasticbeanstalk",
        "swap-environment-cnames",
        "--source-environment-name",
        "myapp-green",
        "--destination-environment-name",
        "myapp-blue",
    )
    during = statuses(app, "myapp-blue", "myapp-green")
    waited = app.aws(
        "elasticbeanstalk", "wait", "environment-updated", "--environment-names", "myapp-blue", "myapp-green"
    )

    assert swap.returncode == 0, swap.stderr
    assert during == {"myapp-blue": "Updating", "myapp-green": "Updating"}
    assert waited.returncode == 0, waited.stderr
    described = app.aws_json(
        "elasticbeanstalk", "describe-environments", "--environment-names", "myapp-green"
    )
    assert described["Environments"][0]["CNAME"] == "myapp-prod.us-east-1.elasticbeanstalk.com"


def test_the_terminated_waiter_waits_for_the_termination(app: Clients) -> None:
    app.environment("myapp-blue", "myapp-prod")
    app.controls.settle()

    app.aws_json("elasticbeanstalk", "terminate-environment", "--environment-name", "myapp-blue")
    waited = app.aws(
        "elasticbeanstalk", "wait", "environment-terminated", "--environment-names", "myapp-blue"
    )

    assert waited.returncode == 0, waited.stderr
    assert statuses(app, "myapp-blue") == {"myapp-blue": "Terminated"}


def test_an_unknown_solution_stack_is_an_invalid_parameter_value(app: Clients) -> None:
    done = app.aws(
        *create_environment("myapp-blue", stack="64bit Amazon Linux 2023 v4.6.0 running Docker Deluxe")
    )

    assert done.returncode != 0
    assert "(InvalidParameterValue)" in done.stderr
    assert (
        "No Solution Stack named '64bit Amazon Linux 2023 v4.6.0 running Docker Deluxe' found." in done.stderr
    )


def test_an_action_the_emulation_lacks_is_an_aws_error_not_invalid_xml(app: Clients) -> None:
    done = app.aws("elasticbeanstalk", "describe-account-attributes")

    assert done.returncode != 0
    assert "(InvalidAction)" in done.stderr
    assert "DescribeAccountAttributes" in done.stderr
    assert "invalid XML" not in done.stderr


def test_a_processed_version_leaves_unprocessed(app: Clients) -> None:
    app.aws_json("s3api", "create-bucket", "--bucket", "bundles")
    bundle = app.project / "bundle.zip"
    bundle.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    app.aws_json("s3api", "put-object", "--bucket", "bundles", "--key", "v1.zip", "--body", str(bundle))

    created = app.aws_json(
        "elasticbeanstalk",
        "create-application-version",
        "--application-name",
        "myapp",
        "--version-label",
        "v1",
        "--source-bundle",
        "S3Bucket=bundles,S3Key=v1.zip",
        "--process",
    )
    app.controls.move_clock(5)
    listed = app.aws_json("elasticbeanstalk", "describe-application-versions", "--application-name", "myapp")

    assert created["ApplicationVersion"]["Status"] == "Processing"
    assert listed["ApplicationVersions"][0]["Status"] == "Processed"


def test_describe_events_filters_on_the_request_id_of_a_call(app: Clients) -> None:
    created = app.aws(*create_environment("myapp-blue", "--debug"))
    request_ids = [
        line.split("x-amzn-requestid': '", 1)[1].split("'", 1)[0]
        for line in created.stderr.splitlines()
        if "x-amzn-requestid': '" in line
    ]
    app.controls.settle()

    events = app.aws_json("elasticbeanstalk", "describe-events", "--request-id", request_ids[-1])["Events"]

    assert [event["Message"] for event in events][-1] == "createEnvironment is starting."
    assert events[0]["Message"] == "Successfully launched environment: myapp-blue"
    assert {event["RequestId"] for event in events} == {request_ids[-1]}


def test_make_provisions_command_gives_the_stack_the_outputs_create_stack_gives(clients: Clients) -> None:
    """`make provision` runs `aws cloudformation deploy` (a change set): its stack must answer the same
    Outputs as `create-stack` with the same template (the rehearsal reads them)."""
    clients.controls.set_timings(launch_s=0)  # the stack completes before the CLI's first look
    template = str(REPO / "infra" / "pipeline.yaml")
    platform = subprocess.run(  # the platform make provision resolves for a new stack
        [str(REPO / "scripts" / "solution-stack.sh"), "by-deploy"],
        env={**clients.env(), "AWS": str(AWS_CLI)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.strip()

    deployed = clients.aws(
        "cloudformation", "deploy", "--stack-name", "by-deploy", "--template-file", template,
        "--capabilities", "CAPABILITY_IAM", "--no-fail-on-empty-changeset",
        "--parameter-overrides", "ApplicationName=by-deploy", "ProductionCnamePrefix=by-deploy-prod",
        "ConfigureApiGatewayLogging=false", f"SolutionStackName={platform}",
    )  # fmt: skip
    created = clients.aws(
        "cloudformation", "create-stack", "--stack-name", "by-create", "--template-body", f"file://{template}",
        "--capabilities", "CAPABILITY_IAM", "--parameters",
        "ParameterKey=ApplicationName,ParameterValue=by-create",
        "ParameterKey=ProductionCnamePrefix,ParameterValue=by-create-prod",
        "ParameterKey=ConfigureApiGatewayLogging,ParameterValue=false",
        f"ParameterKey=SolutionStackName,ParameterValue={platform}",
    )  # fmt: skip
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert created.returncode == 0, created.stderr

    def outputs(stack: str) -> set[str]:
        described = clients.aws_json("cloudformation", "describe-stacks", "--stack-name", stack)["Stacks"][0]
        return {output["OutputKey"] for output in described.get("Outputs", [])}

    assert outputs("by-deploy") == outputs("by-create")
    assert {"ArtifactBucketName", "BlueEnvironmentName", "ProductionUrl"} <= outputs("by-deploy")
