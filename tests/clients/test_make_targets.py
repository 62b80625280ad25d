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
