"""`python -m sandbox host`: an empty emulated account that runs what is deployed into it. An environment
created with the AWS API gets an instance running its version's image behind its CNAME on the front, runs
each new version it is updated to, and stops when it is terminated. (The controller's stack is hosted as
the rehearsal deploys it: tests/rehearsal runs that end to end.)"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from sandbox.hosted import HostedAccount, HostInfo
from sandbox.live.dockerrun import ImageRef, build_bundle

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]

SOLUTION_STACK = "64bit Amazon Linux 2023 v4.6.0 running Docker"
IMAGE = "docker.io/acme/deliverypipeline"
CNAME = "hosted-app.us-east-1.elasticbeanstalk.com"


@pytest.fixture
def host() -> Iterator[tuple[HostInfo, list[str]]]:
    said: list[str] = []
    account = HostedAccount(report=said.append)
    info = account.start()
    try:
        yield info, said
    finally:
        account.stop()


def _client(info: HostInfo, service: str) -> Any:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=info.region
    )
    return session.client(service, endpoint_url=info.aws_endpoint)


def _health(info: HostInfo) -> tuple[int, dict[str, Any]]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": info.front}))
    try:
        with opener.open(f"http://{CNAME}/health", timeout=10) as answered:
            return answered.status, json.loads(answered.read())
    except urllib.error.HTTPError as error:
        return error.code, {}


def _status(info: HostInfo) -> str:
    described = _client(info, "elasticbeanstalk").describe_environments(EnvironmentNames=["hosted-blue"])
    return str(described["Environments"][0]["Status"])


def _until(check: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s:.0f} s: {what}")
        time.sleep(0.3)


def _version(info: HostInfo, tag: str) -> None:
    s3, eb = _client(info, "s3"), _client(info, "elasticbeanstalk")
    s3.put_object(Bucket="bundles", Key=f"{tag}.zip", Body=build_bundle(ImageRef(IMAGE, tag)))
    eb.create_application_version(
        ApplicationName="hosted",
        VersionLabel=tag,
        SourceBundle={"S3Bucket": "bundles", "S3Key": f"{tag}.zip"},
    )


def test_an_environment_runs_its_versions_and_stops_when_terminated(
    host: tuple[HostInfo, list[str]],
) -> None:
    info, said = host
    eb = _client(info, "elasticbeanstalk")
    _client(info, "s3").create_bucket(Bucket="bundles")
    eb.create_application(ApplicationName="hosted")
    _version(info, "1.0.0")

    eb.create_environment(
        ApplicationName="hosted",
        EnvironmentName="hosted-blue",
        CNAMEPrefix="hosted-app",
        VersionLabel="1.0.0",
        SolutionStackName=SOLUTION_STACK,
    )
    _until(lambda: _health(info)[1].get("version") == "1.0.0", "the new environment serves 1.0.0")

    _version(info, "1.1.0")
    eb.update_environment(EnvironmentName="hosted-blue", VersionLabel="1.1.0")
    _until(lambda: _health(info)[1].get("version") == "1.1.0", "the update's version serves")
    _until(lambda: _status(info) == "Ready", "the update ends")

    eb.terminate_environment(EnvironmentName="hosted-blue")
    _until(lambda: any("hosted-blue was terminated" in line for line in said), "the instance stops")
    assert _health(info)[0] == 502
    assert "sandbox host: hosted-blue appeared; starting docker.io/acme/deliverypipeline:1.0.0" in said


def test_an_environments_load_balancer_publishes_what_the_front_served_into_cloudwatch(
    host: tuple[HostInfo, list[str]],
) -> None:
    """As ELB does: RequestCount with the dimension LoadBalancer = the last part of the ALB's ARN, which
    DescribeEnvironmentResources names (what the hosted controller's drain and analysis read)."""
    info, _ = host
    eb = _client(info, "elasticbeanstalk")
    _client(info, "s3").create_bucket(Bucket="bundles")
    eb.create_application(ApplicationName="hosted")
    _version(info, "1.0.0")
    eb.create_environment(
        ApplicationName="hosted",
        EnvironmentName="hosted-blue",
        CNAMEPrefix="hosted-app",
        VersionLabel="1.0.0",
        SolutionStackName=SOLUTION_STACK,
    )
    _until(lambda: _health(info)[1].get("version") == "1.0.0", "the new environment serves 1.0.0")
    for _ in range(4):
        assert _health(info)[0] == 200
    resources = eb.describe_environment_resources(EnvironmentName="hosted-blue")["EnvironmentResources"]
    dimension = resources["LoadBalancers"][0]["Name"].split(":loadbalancer/", 1)[1]

    def requests() -> float:
        now = time.time()
        answered = _client(info, "cloudwatch").get_metric_statistics(
            Namespace="AWS/ApplicationELB",
            MetricName="RequestCount",
            Dimensions=[{"Name": "LoadBalancer", "Value": dimension}],
            StartTime=now - 600,
            EndTime=now + 60,
            Period=60,
            Statistics=["Sum"],
        )
        return sum(point["Sum"] for point in answered["Datapoints"])

    _until(lambda: requests() >= 5, "the load balancer's RequestCount counts the 5 answers", timeout_s=30)


def test_sigterm_stops_the_host_and_everything_it_started(processes: Any) -> None:
    """`python -m sandbox host` as a user runs it: SIGTERM ends its wait (exit 0) and leaves no process."""
    host = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "host"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert host.stdout is not None
        info = HostInfo(**json.loads(host.stdout.readline()))
        eb = _client(info, "elasticbeanstalk")
        _client(info, "s3").create_bucket(Bucket="bundles")
        eb.create_application(ApplicationName="hosted")
        _version(info, "1.0.0")
        eb.create_environment(
            ApplicationName="hosted",
            EnvironmentName="hosted-blue",
            CNAMEPrefix="hosted-app",
            VersionLabel="1.0.0",
            SolutionStackName=SOLUTION_STACK,
        )
        _until(lambda: _health(info)[1].get("version") == "1.0.0", "the new environment serves 1.0.0")
        started = processes.descendants(host.pid)
        assert started, "the environment's instance runs as the host's child"

        host.send_signal(signal.SIGTERM)

        assert host.wait(timeout=90) == 0
        assert not [pid for pid in started if processes.alive(pid)]
    finally:
        if host.poll() is None:
            host.terminate()
            host.wait(timeout=90)
