"""SwapEnvironmentCNAMEs: by names or ids, both Ready, CNAMEs change hands when the swap settles."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from .harness import Aws

PROD = "app-prod.us-east-1.elasticbeanstalk.com"
PRE = "app-pre.us-east-1.elasticbeanstalk.com"


@pytest.fixture
def pair(aws: Aws) -> Aws:
    aws.version("v1")
    aws.version("v2")
    aws.environment("blue-env", "app-prod", "v1")
    aws.environment("green-env", "app-pre", "v2")
    return aws


def cnames(aws: Aws) -> dict[str, str]:
    return {env["EnvironmentName"]: env["CNAME"] for env in aws.eb.describe_environments()["Environments"]}


def test_swap_by_names_exchanges_the_cnames_and_both_stay_ready(pair: Aws) -> None:
    pair.eb.swap_environment_cnames(SourceEnvironmentName="green-env", DestinationEnvironmentName="blue-env")
    pair.be.advance()

    assert cnames(pair) == {"blue-env": PRE, "green-env": PROD}
    assert {pair.describe(name)["Status"] for name in ("blue-env", "green-env")} == {"Ready"}


def test_swap_by_ids(pair: Aws) -> None:
    blue, green = (pair.describe(name)["EnvironmentId"] for name in ("blue-env", "green-env"))

    pair.eb.swap_environment_cnames(SourceEnvironmentId=green, DestinationEnvironmentId=blue)
    pair.be.advance()

    assert cnames(pair) == {"blue-env": PRE, "green-env": PROD}


def test_swap_settles_by_the_clock(pair: Aws) -> None:
    pair.be.settle_after_s = 20
    pair.eb.swap_environment_cnames(SourceEnvironmentName="green-env", DestinationEnvironmentName="blue-env")

    assert cnames(pair) == {"blue-env": PROD, "green-env": PRE}
    pair.clock.tick(20)
    assert cnames(pair) == {"blue-env": PRE, "green-env": PROD}


def test_swap_writes_awss_events_on_both_environments(pair: Aws) -> None:
    pair.eb.swap_environment_cnames(SourceEnvironmentName="green-env", DestinationEnvironmentName="blue-env")
    pair.be.advance()

    for name in ("green-env", "blue-env"):
        messages = pair.messages(EnvironmentName=name)
        assert messages[0] == "Completed swapping CNAMEs for environments 'green-env' and 'blue-env'."
        assert messages[3:5] == [
            "Swapping CNAMEs for environments 'green-env' and 'blue-env'.",
            "swapEnvironmentCNAMEs is starting.",
        ]
        assert any(message.startswith(f"'{PROD}' now points to 'awseb-") for message in messages)


def test_swapping_twice_restores_the_cnames(pair: Aws) -> None:
    for _ in range(2):
        pair.eb.swap_environment_cnames(
            SourceEnvironmentName="green-env", DestinationEnvironmentName="blue-env"
        )
        pair.be.advance()

    assert cnames(pair) == {"blue-env": PROD, "green-env": PRE}


def test_swap_with_an_updating_environment_is_refused(pair: Aws) -> None:
    pair.eb.update_environment(EnvironmentName="green-env", VersionLabel="v1")

    with pytest.raises(ClientError) as caught:
        pair.eb.swap_environment_cnames(
            SourceEnvironmentName="green-env", DestinationEnvironmentName="blue-env"
        )

    assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert caught.value.response["Error"]["Message"] == (
        "Environment named green-env is in an invalid state for this operation. Must be Ready."
    )
    assert cnames(pair) == {"blue-env": PROD, "green-env": PRE}


def test_a_pending_swap_shows_both_environments_updating_until_the_cnames_move(pair: Aws) -> None:
    pair.eb.swap_environment_cnames(SourceEnvironmentName="green-env", DestinationEnvironmentName="blue-env")

    during = {name: pair.describe(name)["Status"] for name in ("green-env", "blue-env")}
    before = cnames(pair)
    pair.be.advance()

    assert during == {"green-env": "Updating", "blue-env": "Updating"}
    assert before == {"blue-env": PROD, "green-env": PRE}
    assert {name: pair.describe(name)["Status"] for name in ("green-env", "blue-env")} == {
        "green-env": "Ready",
        "blue-env": "Ready",
    }
    assert cnames(pair) == {"blue-env": PRE, "green-env": PROD}


def test_an_update_during_a_pending_swap_is_refused(pair: Aws) -> None:
    pair.eb.swap_environment_cnames(SourceEnvironmentName="green-env", DestinationEnvironmentName="blue-env")

    with pytest.raises(ClientError) as caught:
        pair.eb.update_environment(EnvironmentName="blue-env", VersionLabel="v2")

    assert caught.value.response["Error"]["Message"] == (
        "Environment named blue-env is in an invalid state for this operation. Must be Ready."
    )


def test_swap_with_an_unknown_environment_is_refused(pair: Aws) -> None:
    with pytest.raises(ClientError) as caught:
        pair.eb.swap_environment_cnames(
            SourceEnvironmentName="green-env", DestinationEnvironmentName="nope-env"
        )

    assert (
        caught.value.response["Error"]["Message"] == "No Environment found for EnvironmentName = 'nope-env'."
    )


def test_swap_needs_a_destination(pair: Aws) -> None:
    with pytest.raises(ClientError) as caught:
        pair.eb.swap_environment_cnames(SourceEnvironmentName="green-env")

    assert caught.value.response["Error"]["Code"] == "MissingParameter"
