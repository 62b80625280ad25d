"""Real Beanstalk's rough edges, each switched on by its fault name, through the API."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from moto_ext import Fault, Timings

from .harness import APP, Aws


def health(aws: Aws, name: str) -> tuple[str, str, str | None]:
    env = aws.describe(name)
    return env["Status"], env["Health"], env.get("VersionLabel")


def test_stays_red_reaches_ready_on_the_new_label_and_stays_red(pair: Aws) -> None:
    pair.be.set_fault("stays-red")
    update = pair.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")
    pair.be.advance()
    pair.clock.tick(3600)

    assert health(pair, "green-env") == ("Ready", "Red", "v2")
    own = [
        e["Message"]
        for e in pair.eb.describe_events(RequestId=update["ResponseMetadata"]["RequestId"])["Events"]
    ]
    assert own[0] == "Environment update completed successfully."
    assert "Failed to deploy application." not in own
    assert pair.messages(EnvironmentName="green-env")[0] == (
        "Environment health has transitioned from Pending to Severe."
    )


def test_transient_red_turns_green_after_the_recovery_time(pair: Aws) -> None:
    pair.be.set_fault("transient-red")
    pair.be.set_timings(health_recovery_s=45)
    pair.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")
    pair.be.advance()

    assert health(pair, "green-env") == ("Ready", "Red", "v2")
    pair.clock.tick(44)
    assert health(pair, "green-env")[1] == "Red"
    pair.clock.tick(1)
    assert health(pair, "green-env") == ("Ready", "Green", "v2")
    newest = pair.eb.describe_events(EnvironmentName="green-env")["Events"][0]
    assert newest["Message"] == "Environment health has transitioned from Severe to Ok."
    assert "RequestId" not in newest  # health monitoring's, not the update's


def test_busy_refuses_the_next_update_once_with_awss_words(pair: Aws) -> None:
    pair.be.set_fault("busy")

    with pytest.raises(ClientError) as caught:
        pair.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")
    again = pair.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")

    assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert caught.value.response["Error"]["Message"] == (
        "Environment named green-env is in an invalid state for this operation. Must be Ready."
    )
    assert again["Status"] == "Updating"


def test_busy_refuses_a_swap_too(pair: Aws) -> None:
    pair.be.set_fault("busy")

    with pytest.raises(ClientError) as caught:
        pair.eb.swap_environment_cnames(
            SourceEnvironmentName="green-env", DestinationEnvironmentName="blue-env"
        )

    assert caught.value.response["Error"]["Message"].endswith(
        "is in an invalid state for this operation. Must be Ready."
    )
    assert pair.describe("blue-env")["CNAME"] == "app-prod.us-east-1.elasticbeanstalk.com"


def test_mutation_5xx_takes_effect_and_answers_500_so_a_blind_retry_is_refused(pair: Aws) -> None:
    pair.be.set_fault("mutation-5xx")

    with pytest.raises(ClientError) as caught:
        pair.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")
    with pytest.raises(ClientError) as retried:
        pair.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")

    error = caught.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("InternalFailure", 500)
    assert health(pair, "green-env") == ("Updating", "Grey", "v2")
    caused = pair.eb.describe_events(RequestId=error["ResponseMetadata"]["RequestId"])["Events"]
    assert caused[-1]["Message"] == "Environment update is starting."
    assert retried.value.response["Error"]["Message"].endswith("Must be Ready.")


def test_mutation_5xx_on_a_swap_still_swaps(pair: Aws) -> None:
    pair.be.set_fault("mutation-5xx")

    with pytest.raises(ClientError) as caught:
        pair.eb.swap_environment_cnames(
            SourceEnvironmentName="green-env", DestinationEnvironmentName="blue-env"
        )
    pair.be.advance()

    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert pair.describe("green-env")["CNAME"] == "app-prod.us-east-1.elasticbeanstalk.com"


def test_version_quota_refuses_new_versions_until_cleared(pair: Aws) -> None:
    pair.be.set_fault("version-quota")
    with pytest.raises(ClientError) as caught:
        pair.version("v3")

    assert caught.value.response["Error"]["Code"] == "TooManyApplicationVersionsException"
    pair.be.clear_faults("version-quota")
    assert pair.version("v3")["VersionLabel"] == "v3"


def test_the_version_quota_counts_the_accounts_versions_and_a_deletion_frees_one(pair: Aws) -> None:
    pair.be.set_version_quota(3)
    pair.version("v3")
    with pytest.raises(ClientError) as caught:
        pair.version("v4")
    pair.eb.delete_application_version(ApplicationName=APP, VersionLabel="v3")

    assert caught.value.response["Error"]["Message"] == (  # AWS's text (github.com/boto/boto3/issues/920)
        "You cannot have more than 3 Application Versions. Either remove some Application Versions or "
        "request a limit increase."
    )
    assert pair.version("v4")["VersionLabel"] == "v4"


def test_throttle_answers_throttling_to_some_describe_calls(pair: Aws) -> None:
    pair.be.set_fault("throttle")
    codes = []
    for _ in range(40):
        try:
            pair.eb.describe_environments(ApplicationName=APP)
            codes.append("ok")
        except ClientError as error:
            codes.append(error.response["Error"]["Code"])

    assert set(codes) == {"ok", "Throttling"}
    pair.be.clear_faults()
    pair.eb.describe_environments(ApplicationName=APP)


def test_fails_after_swap_turns_the_new_version_red_once_it_has_the_other_cname(pair: Aws) -> None:
    pair.be.set_fault("fails-after-swap")
    pair.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")
    pair.be.advance()
    assert health(pair, "green-env") == ("Ready", "Green", "v2")

    pair.eb.swap_environment_cnames(SourceEnvironmentName="green-env", DestinationEnvironmentName="blue-env")
    pair.be.advance()

    assert pair.describe("green-env")["CNAME"] == "app-prod.us-east-1.elasticbeanstalk.com"
    assert health(pair, "green-env") == ("Ready", "Red", "v2")
    assert health(pair, "blue-env") == ("Ready", "Green", "v1")


def test_errors_after_swap_marks_the_new_version_erroring_once_production_and_health_stays_green(
    pair: Aws,
) -> None:
    """The new version answers a share of its users' requests with 500 (the sandbox's load balancer serves
    them) while /health and Beanstalk's health stay good: only its metrics tell; the next update ends it."""
    pair.be.set_fault("errors-after-swap")
    pair.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")
    pair.be.advance()
    assert pair.be.erroring_environments() == set()

    pair.eb.swap_environment_cnames(SourceEnvironmentName="green-env", DestinationEnvironmentName="blue-env")
    pair.be.advance()

    assert pair.be.erroring_environments() == {"green-env"}
    assert health(pair, "green-env") == ("Ready", "Green", "v2")
    assert pair.be.failing_environments() == set()
    pair.be.clear_faults("errors-after-swap")
    pair.version("v3")
    pair.eb.update_environment(EnvironmentName="green-env", VersionLabel="v3")
    pair.be.advance()
    assert pair.be.erroring_environments() == set()


def test_slow_drain_is_a_flag_for_the_load_balancer_with_its_timing(pair: Aws) -> None:
    """Whoever serves the environments' traffic (a sandbox's DNS) keeps a share of production's callers on
    the environment that lost the name for `slow_drain_s` after a swap; the emulation answers as usual."""
    pair.be.set_fault("slow-drain")
    pair.be.set_timings(slow_drain_s=8, metrics_period_s=1)

    assert pair.be.controls.active(Fault.SLOW_DRAIN)
    assert (pair.be.controls.timings.slow_drain_s, pair.be.controls.timings.metrics_period_s) == (8.0, 1.0)
    assert Timings().slow_drain_s > Timings().dns_ttl_s, "well past the TTL"
    assert Timings().metrics_period_s == 60.0, "ELB publishes its metrics every minute"


def test_unknown_fault_names_are_refused_with_the_known_ones(pair: Aws) -> None:
    with pytest.raises(ValueError, match="unknown fault 'slow'; known faults: transient-red"):
        pair.be.set_fault("slow")


def test_a_one_shot_fault_for_every_deployment_re_arms_with_each_new_version(pair: Aws) -> None:
    pair.be.set_fault("busy", every_deployment=True)
    refusals = []
    for label in ("v3", "v4"):
        pair.version(label)
        for _ in range(2):
            try:
                pair.eb.update_environment(EnvironmentName="green-env", VersionLabel=label)
                refusals.append("accepted")
            except ClientError:
                refusals.append("refused")
        pair.be.advance()

    assert refusals == ["refused", "accepted", "refused", "accepted"]


def test_settling_health_is_yellow_after_each_update_then_green(pair: Aws) -> None:
    pair.be.set_settling_health("Yellow")
    pair.be.set_timings(health_recovery_s=20)
    pair.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")
    pair.be.advance()

    assert health(pair, "green-env") == ("Ready", "Yellow", "v2")
    pair.clock.tick(20)
    assert health(pair, "green-env") == ("Ready", "Green", "v2")


def _versions_on_instances(aws: Aws, name: str) -> list[tuple[str, str]]:
    found = aws.eb.describe_instances_health(EnvironmentName=name, AttributeNames=["All"])
    return sorted(
        (i["Deployment"]["VersionLabel"], i["Deployment"]["Status"]) for i in found["InstanceHealthList"]
    )


def test_mixed_versions_an_update_that_fails_partway_leaves_some_instances_on_the_new_version(
    pair: Aws,
) -> None:
    """AWS: "If a rolling deployment fails, the version of your application running on the instances in
    your environment may vary": VersionLabel goes back to the last successful deployment's, 2 of 5
    instances keep the new one, and health says so
    (https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/environments-health-messages.html)."""
    pair.be.set_fault("mixed-versions")
    update = pair.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")
    pair.be.advance()

    assert health(pair, "green-env") == ("Ready", "Red", "v1")
    assert _versions_on_instances(pair, "green-env") == [("v1", "Deployed")] * 3 + [("v2", "Failed")] * 2
    expected = 'Incorrect application version found on 2 out of 5 instances. Expected version "v1"'
    causes = pair.eb.describe_environment_health(EnvironmentName="green-env", AttributeNames=["Causes"])
    assert any(cause.startswith(expected) for cause in causes["Causes"]), causes
    own = pair.eb.describe_events(RequestId=update["ResponseMetadata"]["RequestId"])["Events"]
    assert any(e["Severity"] == "ERROR" and e["Message"] == "Failed to deploy application." for e in own)
    assert any(m.startswith(expected) for m in pair.messages(EnvironmentName="green-env", Severity="WARN"))


def test_mixed_versions_an_aborted_update_leaves_them_too_and_a_full_deployment_clears_them(
    pair: Aws,
) -> None:
    pair.be.set_fault("mixed-versions")
    pair.be.set_timings(update_s=600)
    pair.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")
    pair.eb.abort_environment_update(EnvironmentName="green-env")

    assert health(pair, "green-env")[0::2] == ("Ready", "v1")
    assert [label for label, _ in _versions_on_instances(pair, "green-env")].count("v2") == 2

    pair.be.clear_faults("mixed-versions")
    pair.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")
    pair.be.advance()
    assert health(pair, "green-env") == ("Ready", "Green", "v2")
    assert {label for label, _ in _versions_on_instances(pair, "green-env")} == {"v2"}
    causes = pair.eb.describe_environment_health(EnvironmentName="green-env", AttributeNames=["Causes"])
    assert causes["Causes"] == []


def test_without_the_fault_a_failed_update_leaves_every_instance_on_the_previous_version(pair: Aws) -> None:
    from moto_ext import Outcome

    pair.be.set_outcome("green-env", Outcome.RED)
    pair.eb.update_environment(EnvironmentName="green-env", VersionLabel="v2")
    pair.be.advance()

    assert {label for label, _ in _versions_on_instances(pair, "green-env")} == {"v1"}
