"""The EB CLI where a person uses it on this pipeline: `eb deploy` to pre-production and `eb abort` of a
deployment that hangs. What it prints is its reading of Beanstalk's answers and events."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from .harness.beanstalk import GOOD_IMAGE, Stage
from .harness.clis import Clis
from .harness.ledger import gone_if_missing
from .harness.snapshots import Session
from .test_swap import _event_output

pytestmark = pytest.mark.parity


@pytest.fixture
def project(beanstalk: Stage, cli: Clis) -> Iterator[Clis]:
    """`eb init` in a project holding a Dockerrun.aws.json; what `eb deploy` uploads to the account's
    elasticbeanstalk-<region>-<account> bucket is deleted afterwards (the bucket too, if this made it)."""
    (cli.project / "Dockerrun.aws.json").write_text(
        json.dumps(
            {
                "AWSEBDockerrunVersion": "1",
                "Image": {"Name": GOOD_IMAGE, "Update": "true"},
                "Ports": [{"ContainerPort": "80"}],
            }
        )
    )
    s3 = beanstalk.target.client("s3", attempts=5)
    storage = f"elasticbeanstalk-{beanstalk.target.region}-{beanstalk.target.account}"
    existed = _bucket_exists(s3, storage)
    beanstalk.ledger.will_create(
        f"EB CLI uploads under {beanstalk.app}/ in {storage}",
        lambda: _delete_uploads(s3, storage, f"{beanstalk.app}/", delete_bucket=not existed),
    )
    initialized = cli.eb("init", beanstalk.app, "--platform", "docker", "--region", beanstalk.target.region)
    assert initialized.returncode == 0, initialized.stdout + initialized.stderr
    beanstalk.next_updates_succeed(beanstalk.green)
    beanstalk.wait_ready(beanstalk.green)
    yield cli
    beanstalk.next_updates_succeed(beanstalk.green)
    if beanstalk.describe(beanstalk.green).get("AbortableOperationInProgress"):
        beanstalk.eb_patient.abort_environment_update(EnvironmentName=beanstalk.green)
    beanstalk.wait_ready(beanstalk.green)


def test_eb_deploy_prints_the_update_as_it_goes(beanstalk: Stage, project: Clis, snapshot: Session) -> None:
    done = project.eb("deploy", beanstalk.green, "--label", "eb-deployed")

    assert done.returncode == 0, done.stdout + done.stderr
    snapshot.match("printed", _event_output(done.stdout))


def test_eb_abort_stops_a_deployment_in_progress(beanstalk: Stage, project: Clis, snapshot: Session) -> None:
    beanstalk.next_update_stays(beanstalk.green)
    started = project.eb("deploy", beanstalk.green, "--label", "eb-aborted", "--nohang")
    assert started.returncode == 0, started.stdout + started.stderr

    done = project.eb("abort", beanstalk.green)

    assert done.returncode == 0, done.stdout + done.stderr
    snapshot.match("first_line", done.stdout.splitlines()[0].strip() if done.stdout else "")


def _bucket_exists(s3: object, bucket: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    except ClientError:
        return False
    return True


def _delete_uploads(s3: object, bucket: str, prefix: str, delete_bucket: bool) -> None:
    def delete_keys() -> None:
        found = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])  # type: ignore[attr-defined]
        if found:
            s3.delete_objects(  # type: ignore[attr-defined]
                Bucket=bucket, Delete={"Objects": [{"Key": item["Key"]} for item in found]}
            )

    gone_if_missing(delete_keys, "NoSuchBucket")
    if delete_bucket:
        gone_if_missing(lambda: s3.delete_bucket(Bucket=bucket), "NoSuchBucket", "BucketNotEmpty")  # type: ignore[attr-defined]
