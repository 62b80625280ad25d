"""The sandbox's rough edges through the emulation: a new instance registering (slow-register), DNS keeping
the old target after a swap (dns-lag), and a new version failing /health once it is production
(fails-after-swap); and `up --realistic` completing a deployment."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from followed_process import Followed, Progress, run_followed, sandbox_progress

import moto_ext
from sandbox.live.dockerrun import ImageRef, build_bundle
from sandbox.pipeline_api import get
from sandbox.stack import PROCESS_IMAGE, Options, Stack, StackInfo

REPO = Path(__file__).resolve().parents[2]
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
BLUE, GREEN = "deliverypipeline-blue", "deliverypipeline-green"
PROD = "deliverypipeline-prod.us-east-1.elasticbeanstalk.com"
STAGING = "deliverypipeline-staging.us-east-1.elasticbeanstalk.com"
WAIT = ("--wait", "--timeout", "240")

pytestmark = pytest.mark.slow


def wait_for(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail("condition not reached in time")
        time.sleep(0.1)


def client(info: StackInfo | dict[str, Any], service: str) -> Any:
    """A client of the sandbox's AWS emulation (`info`: the stack's, or `up`'s JSON line)."""
    found = info if isinstance(info, dict) else info.as_json()
    return boto3.client(
        service,
        endpoint_url=found["aws_endpoint"],
        region_name=found["region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def stack_output(info: StackInfo, name: str) -> str:
    stack = client(info, "cloudformation").describe_stacks(StackName=info.application)["Stacks"][0]
    return next(str(o["OutputValue"]) for o in stack["Outputs"] if o["OutputKey"] == name)


def via_proxy(info: StackInfo, url: str) -> tuple[int, dict[str, Any]]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": info.cname_proxy}))
    return _answer(lambda: opener.open(url, timeout=10))


def direct(url: str) -> tuple[int, dict[str, Any]]:
    return _answer(lambda: _DIRECT.open(url, timeout=10))


def _answer(call: Callable[[], Any]) -> tuple[int, dict[str, Any]]:
    try:
        with call() as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def rough(progress: Progress) -> Iterator[tuple[StackInfo, Any, moto_ext.BeanstalkBackend]]:
    faults = (moto_ext.Fault.SLOW_REGISTER, moto_ext.Fault.DNS_LAG, moto_ext.Fault.FAILS_AFTER_SWAP)
    with Stack(Options(faults=faults), report=progress) as stack:
        info = stack.start()
        backend = moto_ext.backend(region=info.region)
        backend.set_timings(register_s=5.0, dns_ttl_s=6.0)
        yield info, client(info, "elasticbeanstalk"), backend


def test_registering_then_dns_lag_then_failing_health_after_the_swap(
    rough: tuple[StackInfo, Any, moto_ext.BeanstalkBackend],
) -> None:
    info, eb, _backend = rough
    s3 = client(info, "s3")
    key = f"{info.application}/2.0.0.zip"
    bucket = stack_output(info, "ArtifactBucketName")  # the provisioning stack's artifact bucket
    s3.put_object(Bucket=bucket, Key=key, Body=build_bundle(ImageRef(PROCESS_IMAGE, "2.0.0")))
    eb.create_application_version(
        ApplicationName=info.application,
        VersionLabel="2.0.0",
        SourceBundle={"S3Bucket": bucket, "S3Key": key},
    )

    def green() -> dict[str, Any]:
        return dict(eb.describe_environments(EnvironmentNames=[GREEN])["Environments"][0])

    eb.update_environment(EnvironmentName=GREEN, VersionLabel="2.0.0")
    wait_for(lambda: green()["Status"] == "Ready")
    assert green()["VersionLabel"] == "2.0.0"

    # slow-register: Ready, yet the new instance answers 503 until it has registered
    status, body = via_proxy(info, f"http://{STAGING}/health")
    assert status == 503 and "registering" in body["error"]
    wait_for(lambda: via_proxy(info, f"http://{STAGING}/health")[0] == 200)

    # dns-lag: a client that resolved the production name before the swap keeps reaching blue
    assert via_proxy(info, f"http://{PROD}/")[1]["version"] == "1.0.0"
    eb.swap_environment_cnames(SourceEnvironmentName=GREEN, DestinationEnvironmentName=BLUE)
    wait_for(lambda: green()["CNAME"] == PROD)
    assert via_proxy(info, f"http://{PROD}/")[1]["version"] == "1.0.0"
    assert direct(f"{info.prod_url}/")[1]["version"] == "2.0.0"  # prod_url: production at this moment

    # fails-after-swap: the new version fails /health now that it is production, and is Red
    status, body = direct(f"{info.prod_url}/health")
    assert (status, body["status"]) == (503, "unavailable")
    assert green()["Health"] == "Red"

    wait_for(lambda: via_proxy(info, f"http://{PROD}/")[1].get("version") == "2.0.0", timeout=30)


def test_throttled_beanstalk_api_never_stands_between_users_and_production(
    rough: tuple[StackInfo, Any, moto_ext.BeanstalkBackend],
) -> None:
    """DNS and the load balancers are not Beanstalk API calls: with every DescribeEnvironments throttled,
    the production name and each environment's own address still answer."""
    info, eb, backend = rough
    backend.set_throttling(1.0, ["DescribeEnvironments"])
    with pytest.raises(ClientError, match="Throttling"):
        eb.describe_environments(EnvironmentNames=[BLUE])
    answers = [via_proxy(info, f"http://{PROD}/health") for _ in range(20)]
    assert answers == [(200, {"status": "ok", "version": "1.0.0"})] * 20
    assert direct(f"{info.prod_url}/health")[0] == 200


@contextlib.contextmanager
def up(progress: Progress, *options: str) -> Iterator[dict[str, Any]]:
    """`python -m sandbox up OPTIONS` running; its JSON line (its progress on stderr shown meanwhile)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "up", *options],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    followed = Followed(process, progress, sandbox_progress)
    try:
        followed.follow(300, until=lambda line: line.startswith("{"))
        yield json.loads(followed.stdout.splitlines()[0])
    finally:
        process.send_signal(signal.SIGTERM)
        followed.follow(60)
        process.wait(timeout=60)


def deploy(info: dict[str, Any], tag: str, progress: Progress) -> subprocess.CompletedProcess[str]:
    """CI's client: `deploy --wait` of `tag` through the sandbox's controller, its steps shown live."""
    env = {
        **{key: value for key, value in os.environ.items() if not key.lower().endswith("_proxy")},
        "PIPELINE_URL": info["controller_url"],
        "PIPELINE_SECRET": info["signing_secret"],
    }
    return run_followed(
        [sys.executable, "-m", "controller.client", "deploy", "--image", PROCESS_IMAGE, "--tag", tag, *WAIT],
        progress,
        cwd=REPO,
        env=env,
        timeout_s=300,
    )


def test_up_realistic_completes_a_deployment(progress: Progress) -> None:
    with up(progress, "--realistic") as info:
        state = direct(f"{info['aws_endpoint']}/moto-api/beanstalk/state")[1]
        done = deploy(info, "2.0.0", progress)

        assert state["faults"] == ["dns-lag"] and state["settling_health"] == "Yellow"
        assert state["timings"] == {**state["timings"], "launch_s": 3.0, "swap_s": 1.5}
        assert done.returncode == 0, done.stdout + done.stderr
        assert "succeeded" in done.stdout.splitlines()[-1]
        assert direct(f"{info['prod_url']}/health")[1]["version"] == "2.0.0"


@pytest.mark.parametrize(
    ("fault", "status", "step", "reason"),
    [
        ("stays-red", "failed", "wait_ready", "its health stayed Red"),
        ("fails-after-swap", "rolled_back", "verify", "rolled back by the controller"),
    ],
)
def test_up_realistic_with_a_fault_never_leaves_production_on_the_new_version(
    fault: str, status: str, step: str, reason: str, progress: Progress
) -> None:
    """A persistent Red fails before the swap: production never changes. A failure after the swap is
    swapped back by the controller: production serves the previous version again, verified."""
    with up(progress, "--realistic", "--fault", fault) as info:
        done = deploy(info, "2.0.0", progress)
        deployment_id = done.stdout.split()[1].rstrip(":")
        record = get(info["controller_url"], info["signing_secret"], f"/deployments/{deployment_id}")
        prod = direct(f"{info['prod_url']}/health")[1]
        swaps = completed_swaps(info)

    assert done.returncode == 1, done.stdout + done.stderr
    assert record["status"] == status and reason in record["error"], record["error"]
    assert next(s for s in record["steps"] if s["status"] == "failed")["name"] == step
    assert prod == {"status": "ok", "version": "1.0.0"}
    if status == "failed":
        assert swaps == 0  # production was never touched
    else:
        assert swaps == 2 and record["error"].endswith("verified")  # the swap and its swap back


@contextlib.contextmanager
def users(url: str, per_second: float = 20.0) -> Iterator[list[int]]:
    """One client calling `url` about `per_second` times a second in the block; its answers' statuses."""
    statuses: list[int] = []
    stop = threading.Event()

    def call() -> None:
        while not stop.is_set():
            statuses.append(direct(url)[0])
            stop.wait(1 / per_second)

    caller = threading.Thread(target=call, daemon=True)
    caller.start()
    try:
        yield statuses
    finally:
        stop.set()
        caller.join(timeout=15)


def test_up_realistic_one_client_at_20_per_second_gives_the_analysis_enough_to_judge(
    progress: Progress,
) -> None:
    """The load balancers publish what they serve into the emulated CloudWatch; with one client at about 20
    requests a second on prod_url, both default checks judge within the compressed verify window: a good
    release passes them, one whose users meet 500s (errors-after-swap) is swapped back by them."""
    with up(progress, "--realistic") as info, users(f"{info['prod_url']}/") as statuses:
        time.sleep(5)  # the previous version's latency: the baseline p99-latency compares with
        good = deploy(info, "2.0.0", progress)
        moto_ext.ControlClient(info["aws_endpoint"]).arm(moto_ext.Fault.ERRORS_AFTER_SWAP)
        bad = deploy(info, "2.1.0", progress)
        served = direct(f"{info['prod_url']}/health")[1]
        metrics = client(info, "cloudwatch").list_metrics(Namespace="AWS/ApplicationELB")["Metrics"]

    assert good.returncode == 0, good.stdout + good.stderr
    verified = next(line for line in good.stdout.splitlines() if "verify: succeeded" in line)
    assert re.search(r"5xx-rate \d+\.\d% <= 1\.0% over \d+ requests", verified), verified
    assert re.search(r"p99-latency \d\.\d{3} s <= \d\.\d{3} s", verified), verified
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "rolled_back: rolled back by the controller: analysis failed: 5xx-rate" in bad.stdout
    assert served == {"status": "ok", "version": "2.0.0"}
    assert 500 in statuses and statuses.count(200) > 100
    names = {m["MetricName"] for m in metrics}
    assert {"RequestCount", "HTTPCode_Target_5XX_Count", "TargetResponseTime"} <= names
    assert {d["Name"] for m in metrics for d in m["Dimensions"]} == {"LoadBalancer"}


def completed_swaps(info: dict[str, Any]) -> int:
    events = client(info, "elasticbeanstalk").describe_events(EnvironmentName=BLUE)["Events"]
    return sum(1 for e in events if e["Message"].startswith("Completed swapping CNAMEs"))
