"""Throttling injection: chosen operations answer AWS's Throttling error at a chosen, seeded rate."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from .harness import APP, Aws


def outcomes(client: Any, calls: int) -> list[bool]:
    """For each call: True when DescribeEnvironments was throttled."""
    answers = []
    for _ in range(calls):
        try:
            client.describe_environments(ApplicationName=APP)
            answers.append(False)
        except ClientError as error:
            assert error.response["Error"]["Code"] == "Throttling"
            answers.append(True)
    return answers


def test_throttled_calls_answer_awss_throttling_error(aws: Aws) -> None:
    aws.be.set_throttling(1.0)

    with pytest.raises(ClientError) as caught:
        aws.eb.describe_events()

    error = caught.value.response
    assert (error["Error"]["Code"], error["Error"]["Message"]) == ("Throttling", "Rate exceeded")
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_only_the_chosen_operations_are_throttled(aws: Aws) -> None:
    aws.be.set_throttling(1.0, operations=("DescribeEvents",))

    aws.eb.describe_environments()
    with pytest.raises(ClientError):
        aws.eb.describe_events()


def test_the_rate_is_roughly_kept_and_a_seed_repeats_the_sequence(aws: Aws) -> None:
    aws.be.set_throttling(0.3, seed=7)
    first = outcomes(aws.eb, 60)
    aws.be.set_throttling(0.3, seed=7)
    second = outcomes(aws.eb, 60)

    assert first == second
    assert 5 <= sum(first) <= 35


def test_rate_zero_turns_throttling_off(aws: Aws) -> None:
    aws.be.set_throttling(1.0)
    aws.be.set_throttling(0.0)

    assert outcomes(aws.eb, 5) == [False] * 5


def test_a_rate_outside_zero_to_one_is_rejected(aws: Aws) -> None:
    with pytest.raises(ValueError, match=r"within 0\.\.1"):
        aws.be.set_throttling(1.5)
