"""Application versions: the S3 bundle must exist, labels are unique and well-formed, versions in use stay."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from .harness import APP, BUCKET, Aws


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error: dict[str, Any] = caught.value.response["Error"]
    return error["Code"], error["Message"]


def test_create_returns_the_description_aws_returns(aws: Aws) -> None:
    version = aws.version("1.0.42-3f2a1bc")

    assert version["ApplicationName"] == APP
    assert version["VersionLabel"] == "1.0.42-3f2a1bc"
    assert version["SourceBundle"] == {"S3Bucket": BUCKET, "S3Key": f"{APP}/1.0.42-3f2a1bc.zip"}
    assert version["ApplicationVersionArn"] == (
        f"arn:aws:elasticbeanstalk:us-east-1:123456789012:applicationversion/{APP}/1.0.42-3f2a1bc"
    )
    assert version["Status"] == "Unprocessed"


def test_a_missing_source_bundle_is_refused_like_aws(aws: Aws) -> None:
    with pytest.raises(ClientError) as caught:
        aws.eb.create_application_version(
            ApplicationName=APP, VersionLabel="v1", SourceBundle={"S3Bucket": BUCKET, "S3Key": "no/such.zip"}
        )

    assert error_of(caught) == (
        "InvalidParameterCombination",
        f"Unable to download from S3 location (Bucket: {BUCKET}  Key: no/such.zip). Reason: Not Found",
    )
    assert aws.eb.describe_application_versions(ApplicationName=APP)["ApplicationVersions"] == []


def test_a_missing_bucket_is_refused_too(aws: Aws) -> None:
    with pytest.raises(ClientError) as caught:
        aws.eb.create_application_version(
            ApplicationName=APP,
            VersionLabel="v1",
            SourceBundle={"S3Bucket": "no-such-bucket", "S3Key": "a.zip"},
        )

    assert error_of(caught)[0] == "InvalidParameterCombination"


def test_a_duplicate_label_is_refused(aws: Aws) -> None:
    aws.version("v1")

    with pytest.raises(ClientError) as caught:
        aws.version("v1")

    assert error_of(caught) == ("InvalidParameterValue", "Application Version v1 already exists.")


def test_a_label_with_a_slash_is_refused(aws: Aws) -> None:
    with pytest.raises(ClientError) as caught:
        aws.version("feature/x")

    assert error_of(caught)[0] == "InvalidParameterValue"


def test_an_overlong_label_is_refused(aws: Aws) -> None:
    with pytest.raises(ClientError) as caught:
        aws.version("v" * 101)

    assert error_of(caught)[0] == "ValidationError"
    assert "Member must have length less than or equal to 100" in error_of(caught)[1]


def test_an_unknown_application_is_refused_unless_auto_created(aws: Aws) -> None:
    bundle = aws.bundle("v1")
    with pytest.raises(ClientError) as caught:
        aws.eb.create_application_version(ApplicationName="other", VersionLabel="v1", SourceBundle=bundle)
    assert error_of(caught) == ("InvalidParameterValue", "No Application named 'other' found.")

    aws.eb.create_application_version(
        ApplicationName="other", VersionLabel="v1", SourceBundle=bundle, AutoCreateApplication=True
    )

    apps = aws.eb.describe_applications(ApplicationNames=["other"])["Applications"]
    assert [(app["ApplicationName"], app["Versions"]) for app in apps] == [("other", ["v1"])]


def test_describe_lists_newest_first_and_filters_by_label(aws: Aws) -> None:
    for label in ("v1", "v2", "v3"):
        aws.version(label)
        aws.clock.tick(1)

    everything = aws.eb.describe_application_versions(ApplicationName=APP)["ApplicationVersions"]
    some = aws.eb.describe_application_versions(ApplicationName=APP, VersionLabels=["v1", "v3", "v9"])

    assert [version["VersionLabel"] for version in everything] == ["v3", "v2", "v1"]
    assert [version["VersionLabel"] for version in some["ApplicationVersions"]] == ["v3", "v1"]


def test_describe_pages_with_max_records(aws: Aws) -> None:
    for label in ("v1", "v2", "v3"):
        aws.version(label)
        aws.clock.tick(1)

    first = aws.eb.describe_application_versions(ApplicationName=APP, MaxRecords=2)
    rest = aws.eb.describe_application_versions(
        ApplicationName=APP, MaxRecords=2, NextToken=first["NextToken"]
    )

    assert [version["VersionLabel"] for version in first["ApplicationVersions"]] == ["v3", "v2"]
    assert [version["VersionLabel"] for version in rest["ApplicationVersions"]] == ["v1"]
    assert "NextToken" not in rest


def test_delete_removes_the_version_and_optionally_its_bundle(aws: Aws) -> None:
    aws.version("v1")
    aws.version("v2")

    aws.eb.delete_application_version(ApplicationName=APP, VersionLabel="v1")
    aws.eb.delete_application_version(ApplicationName=APP, VersionLabel="v2", DeleteSourceBundle=True)

    assert aws.eb.describe_application_versions(ApplicationName=APP)["ApplicationVersions"] == []
    keys = [obj["Key"] for obj in aws.client("s3").list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert keys == [f"{APP}/v1.zip"]


def test_delete_of_an_unknown_version_is_refused(aws: Aws) -> None:
    with pytest.raises(ClientError) as caught:
        aws.eb.delete_application_version(ApplicationName=APP, VersionLabel="v9")

    assert error_of(caught) == ("InvalidParameterValue", "No Application Version named 'v9' found.")


def test_a_version_an_environment_runs_cannot_be_deleted(aws: Aws) -> None:
    aws.version("v1")
    aws.environment("blue-env", "blue-prod", "v1")

    with pytest.raises(ClientError) as caught:
        aws.eb.delete_application_version(ApplicationName=APP, VersionLabel="v1")

    assert error_of(caught)[0] == "InvalidParameterValue"
    assert "blue-env" in error_of(caught)[1]
