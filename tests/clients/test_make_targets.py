"""The Makefile's AWS targets with the real AWS CLI against the emulation: `make deploy-controller` stops
with a message saying what to do when the provisioning stack is missing or has no artifact bucket yet,
before anything is packaged or deployed (the AWS CLI prints "None" for a missing output, which the recipe
once took for a bucket name); `make provision` takes the newest Docker platform Beanstalk offers."""

from __future__ import annotations

import json
import subprocess

from .conftest import AWS_CLI, REPO, STACK, Clients

NO_OUTPUTS = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}


def _deploy_controller(clients: Clients, infra_stack: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "deploy-controller", f"INFRA_STACK={infra_stack}", f"AWS={AWS_CLI}"],
        cwd=REPO,
        env=clients.env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_deploy_controller_stops_when_the_provisioning_stack_has_no_bucket_yet(clients: Clients) -> None:
    body = json.dumps(NO_OUTPUTS)
    clients.aws_json("cloudformation", "create-stack", "--stack-name", "half-made", "--template-body", body)

    result = _deploy_controller(clients, "half-made")

    assert result.returncode != 0
    assert "error: the stack half-made has no output ArtifactBucketName yet" in result.stderr
    assert "Creating deployment package" not in result.stdout + result.stderr  # stopped before packaging
    stacks = clients.aws_json("cloudformation", "describe-stacks")["Stacks"]
    assert [s["StackName"] for s in stacks] == ["half-made"]


def test_deploy_controller_stops_when_there_is_no_provisioning_stack(clients: Clients) -> None:
    result = _deploy_controller(clients, "never-made")

    assert result.returncode != 0
    assert "error: there is no stack never-made (run make provision first, or set INFRA_STACK)" in (
        result.stderr
    )


def _solution_stack(clients: Clients, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REPO / "scripts" / "solution-stack.sh"), *args],
        cwd=REPO,
        env={**clients.env(), "AWS": str(AWS_CLI)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_provision_takes_the_newest_docker_platform_for_a_new_stack(clients: Clients) -> None:
    newest = _solution_stack(clients, "not-yet")
    clients.controls.release_platform_version("64bit Amazon Linux 2023 v4.10.1 running Docker")
    after_a_release = _solution_stack(clients, "not-yet")

    assert (newest.returncode, newest.stdout) == (0, STACK + "\n")
    assert after_a_release.stdout == "64bit Amazon Linux 2023 v4.10.1 running Docker\n"


def test_provision_keeps_an_existing_stacks_platform_unless_one_is_named(clients: Clients) -> None:
    clients.aws_json(
        "cloudformation", "create-stack", "--stack-name", "made", "--template-body", json.dumps(NO_OUTPUTS)
    )
    chosen = "64bit Amazon Linux 2023 v4.6.0 running Docker"

    kept = _solution_stack(clients, "made")
    named = _solution_stack(clients, "made", chosen)

    assert (kept.returncode, kept.stdout) == (0, "")
    assert named.stdout == chosen + "\n"


def test_ci_deploys_the_controller_with_nothing_but_the_policy_the_provisioning_stack_gives_it(
    clients: Clients,
) -> None:
    """IAM checks on: CloudFormation creates the controller's stack as ControllerDeployRole (--role-arn), so
    CI's own permissions - CiDeployPolicy, attached to its IAM user - are CloudFormation on its stacks, the
    serverless transform, passing that role and uploading the code."""
    clients.controls.set_timings(launch_s=0)
    admin = clients.env()
    provisioned = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "provision",
            "INFRA_STACK=shop",
            "CNAME_PREFIX=shop-prod",
            f"AWS={AWS_CLI}",
        ],
        cwd=REPO,
        env=admin,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert provisioned.returncode == 0, provisioned.stderr
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in clients.aws_json("cloudformation", "describe-stacks", "--stack-name", "shop")["Stacks"][0][
            "Outputs"
        ]
    }
    clients.aws_json("iam", "create-user", "--user-name", "ci")
    clients.aws_json(
        "iam", "attach-user-policy", "--user-name", "ci", "--policy-arn", outputs["CiDeployPolicyArn"]
    )
    key = clients.aws_json("iam", "create-access-key", "--user-name", "ci")["AccessKey"]
    clients.controls.set_caller_permissions(True)

    deployed = subprocess.run(
        ["make", "--no-print-directory", "deploy-controller", "INFRA_STACK=shop", f"AWS={AWS_CLI}"],
        cwd=REPO,
        env={
            **admin,
            "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        },
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert deployed.returncode == 0, deployed.stderr[-1000:] + "\n".join(
        _failures(clients, "shop-controller")
    )
    stack = clients.aws_json("cloudformation", "describe-stacks", "--stack-name", "shop-controller")[
        "Stacks"
    ][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert stack["RoleARN"] == outputs["ControllerDeployRoleArn"]
    endpoint = next(o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == "EndpointURL")
    assert deployed.stdout.strip().endswith(endpoint)


def _failures(clients: Clients, stack: str) -> list[str]:
    events = clients.aws_json("cloudformation", "describe-stack-events", "--stack-name", stack)["StackEvents"]
    return [
        f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}"
        for e in events
        if "FAILED" in e["ResourceStatus"]
    ]
