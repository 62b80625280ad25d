"""Deploy hooks: the sandbox's say in what deploying means; the environment waits for the hook's answer."""

from __future__ import annotations

import threading

import pytest
from botocore.exceptions import ClientError

from moto_ext import DeployRequest, DeployResult, Outcome

from .harness import APP, BUCKET, Aws, wait_until


class GatedHook:
    """A hook that records its request and answers `result` only once the test opens the gate."""

    def __init__(self, result: DeployResult) -> None:
        self.result = result
        self.gate = threading.Event()
        self.requests: list[DeployRequest] = []

    def __call__(self, request: DeployRequest) -> DeployResult:
        self.requests.append(request)
        assert self.gate.wait(timeout=30)
        return self.result


@pytest.fixture
def env(aws: Aws) -> Aws:
    aws.version("v1")
    aws.version("v2", body=b"PK-the-v2-bundle")
    aws.environment("green-env", "app-pre", "v1")
    return aws


def settled(aws: Aws) -> bool:
    return bool(aws.describe("green-env")["Status"] == "Ready")


def test_the_hook_gets_the_environment_and_the_bundle(env: Aws) -> None:
    hook = GatedHook(DeployResult(Outcome.GREEN))
    hook.gate.set()
    env.be.set_deploy_hook("green-env", hook)
    described = env.describe("green-env")

    env.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")
    wait_until(lambda: settled(env))

    assert hook.requests == [
        DeployRequest(
            environment_name="green-env",
            environment_id=described["EnvironmentId"],
            cname="app-pre.us-east-1.elasticbeanstalk.com",
            version_label="v2",
            previous_version_label="v1",
            source_bundle=b"PK-the-v2-bundle",
        )
    ]
    after = env.describe("green-env")
    assert (after["Health"], after["VersionLabel"]) == ("Green", "v2")


def test_the_environment_stays_updating_until_the_hook_answers(env: Aws) -> None:
    hook = GatedHook(DeployResult(Outcome.GREEN))
    env.be.set_deploy_hook("green-env", hook)
    env.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")
    wait_until(lambda: len(hook.requests) == 1)

    env.clock.tick(3600)
    env.be.advance()
    during = env.describe("green-env")
    hook.gate.set()
    wait_until(lambda: settled(env))

    assert (during["Status"], during["Health"]) == ("Updating", "Grey")
    assert env.messages(EnvironmentName="green-env")[0] == "Environment update completed successfully."


def test_a_red_answer_fails_the_deployment_with_the_hooks_message(env: Aws) -> None:
    hook = GatedHook(DeployResult(Outcome.RED, "container exited with code 3"))
    hook.gate.set()
    env.be.set_deploy_hook("green-env", hook)

    env.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")
    wait_until(lambda: settled(env))

    after = env.describe("green-env")
    assert (after["Health"], after["VersionLabel"]) == ("Red", "v1")
    errors = env.messages(EnvironmentName="green-env", Severity="ERROR")
    assert errors[0] == "Failed to deploy application."
    assert errors[-1] == "container exited with code 3"


def test_a_hook_that_raises_is_a_failed_deployment(env: Aws) -> None:
    def broken(_request: DeployRequest) -> DeployResult:
        raise RuntimeError("port already in use")

    env.be.set_deploy_hook("green-env", broken)
    env.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")
    wait_until(lambda: settled(env))

    assert env.describe("green-env")["Health"] == "Red"
    assert any("port already in use" in message for message in env.messages(Severity="ERROR"))


def test_abort_while_the_hook_runs_wins_over_its_late_answer(env: Aws) -> None:
    hook = GatedHook(DeployResult(Outcome.GREEN))
    env.be.set_deploy_hook("green-env", hook)
    env.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")
    wait_until(lambda: len(hook.requests) == 1)

    env.eb.abort_environment_update(EnvironmentName="green-env")
    env.be.set_deploy_hook("green-env", None)
    env.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")
    hook.gate.set()
    for thread in threading.enumerate():
        if thread.name == "eb-deploy-green-env":
            thread.join(timeout=30)

    after = env.describe("green-env")
    assert (after["Status"], after["VersionLabel"]) == ("Updating", "v2")


def test_removing_the_hook_returns_to_clock_settling(env: Aws) -> None:
    env.be.set_deploy_hook("green-env", GatedHook(DeployResult(Outcome.RED)))
    env.be.set_deploy_hook("green-env", None)

    env.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")
    env.be.advance()

    assert env.describe("green-env")["Health"] == "Green"


@pytest.mark.parametrize("hooked", [True, False], ids=["with a deploy hook", "without"])
def test_an_update_whose_bundle_is_gone_is_refused_before_anything_changes(env: Aws, hooked: bool) -> None:
    """AWS refuses UpdateEnvironment whose version's bundle it cannot read, and the environment stays as it
    was (issue 23, item 9): it used to be left Updating for good, and every later deployment failed."""
    hook = GatedHook(DeployResult(Outcome.GREEN))
    hook.gate.set()
    if hooked:
        env.be.set_deploy_hook("green-env", hook)
    env.version("v3")
    env.client("s3").delete_object(Bucket=BUCKET, Key=f"{APP}/v3.zip")
    before = env.describe("green-env")
    events_before = len(env.eb.describe_events(EnvironmentName="green-env")["Events"])

    with pytest.raises(ClientError) as refused:
        env.eb.update_environment(EnvironmentName="green-env", VersionLabel="v3")

    error = refused.value.response["Error"]
    assert error["Code"] == "InvalidParameterCombination"
    assert f"(Bucket: {BUCKET}  Key: {APP}/v3.zip)" in error["Message"]
    after = env.describe("green-env")
    assert (after["Status"], after["VersionLabel"], after["Health"]) == ("Ready", "v1", before["Health"])
    assert after["AbortableOperationInProgress"] is False
    assert len(env.eb.describe_events(EnvironmentName="green-env")["Events"]) == events_before
    assert hook.requests == []

    env.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")  # the next one goes through
    env.be.advance("green-env")
    wait_until(lambda: settled(env))
    assert env.describe("green-env")["VersionLabel"] == "v2"
