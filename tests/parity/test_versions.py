"""Application versions as the controller makes and reads them (CreateApplicationVersion,
DescribeApplicationVersions, UpdateEnvironment with a label), and the refusals it classifies: a label that
exists, a label that does not, the account's version quota."""

from __future__ import annotations

import re

import pytest

from .harness.beanstalk import Stage
from .harness.observations import answer, refusal
from .harness.snapshots import Session

pytestmark = pytest.mark.parity


def test_creating_a_version_answers_its_description(beanstalk: Stage, snapshot: Session) -> None:
    snapshot.name("made-1", "label")
    snapshot.name(f"{beanstalk.app}/made-1.zip", "key")
    snapshot.name("parity made-1: public.ecr.aws/nginx/nginx:stable-alpine", "description")

    created = beanstalk.version("made-1")

    snapshot.match("created", answer(created))


def test_versions_are_listed_newest_first(beanstalk: Stage, snapshot: Session) -> None:
    for number in (1, 2):
        label = f"listed-{number}"
        snapshot.name(label, f"label-{number}")
        snapshot.name(f"{beanstalk.app}/{label}.zip", f"key-{number}")
        snapshot.name(f"parity {label}: public.ecr.aws/nginx/nginx:stable-alpine", f"description-{number}")
        beanstalk.version(label)

    listed = beanstalk.eb.describe_application_versions(
        ApplicationName=beanstalk.app, VersionLabels=["listed-1", "listed-2"]
    )

    snapshot.match("listed", answer(listed))


def test_a_label_that_exists_is_refused(beanstalk: Stage, snapshot: Session) -> None:
    refused = refusal(
        beanstalk.eb.create_application_version,
        ApplicationName=beanstalk.app,
        VersionLabel="v1",
        SourceBundle={"S3Bucket": beanstalk.bucket, "S3Key": f"{beanstalk.app}/v1.zip"},
    )

    snapshot.match("refused", refused)


def test_an_update_to_a_label_that_does_not_exist_is_refused(beanstalk: Stage, snapshot: Session) -> None:
    beanstalk.wait_ready(beanstalk.green)

    refused = refusal(beanstalk.eb.update_environment, EnvironmentName=beanstalk.green, VersionLabel="v404")

    snapshot.match("refused", refused)
    assert beanstalk.describe(beanstalk.green)["Status"] == "Ready", "a refused update changes nothing"


def test_the_version_quota_refuses_the_next_version(beanstalk: Stage, snapshot: Session) -> None:
    if beanstalk.target.controls is None:
        pytest.skip("an account reaches its quota only after 1000 versions; the emulation is told its quota")
    existing = len(beanstalk.eb_patient.describe_application_versions()["ApplicationVersions"])
    beanstalk.target.controls.version_quota(existing)
    try:
        refused = refusal(
            beanstalk.eb.create_application_version,
            ApplicationName=beanstalk.app,
            VersionLabel="over-quota",
            SourceBundle={"S3Bucket": beanstalk.bucket, "S3Key": f"{beanstalk.app}/v1.zip"},
        )
    finally:
        beanstalk.target.controls.version_quota(1000)

    refused["message"] = re.sub(r"more than \d+ ", "more than <quota> ", str(refused["message"]))
    snapshot.match("refused", refused)
