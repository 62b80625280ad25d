"""`python -m sandbox.aws`: loopback only, announces itself, serves the extension, stops on a signal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def server() -> Iterator[tuple[subprocess.Popen[str], str]]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.aws", "--port", "0"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    yield process, line
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


def test_it_prints_ready_with_a_loopback_url(server: tuple[subprocess.Popen[str], str]) -> None:
    _, line = server

    word, url = line.split(" ")
    assert word == "ready"
    assert url.startswith("http://127.0.0.1:")
    assert int(url.rsplit(":", 1)[1]) > 0


def test_it_serves_the_beanstalk_extension(server: tuple[subprocess.Popen[str], str]) -> None:
    _, line = server
    eb = boto3.client(
        "elasticbeanstalk",
        endpoint_url=line.split(" ")[1],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    eb.create_application(ApplicationName="app")

    env = eb.create_environment(
        ApplicationName="app",
        EnvironmentName="blue-env",
        CNAMEPrefix="app-prod",
        SolutionStackName="64bit Amazon Linux 2023 v4.6.0 running Docker",
    )

    assert env["EnvironmentId"].startswith("e-")
    assert env["CNAME"] == "app-prod.us-east-1.elasticbeanstalk.com"


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_it_with_exit_code_zero(server: tuple[subprocess.Popen[str], str], stop: int) -> None:
    process, _ = server

    process.send_signal(stop)

    assert process.wait(timeout=15) == 0


def test_a_busy_port_is_reported_and_exits_non_zero(server: tuple[subprocess.Popen[str], str]) -> None:
    _, line = server
    port = line.rsplit(":", 1)[1]

    result = subprocess.run(
        [sys.executable, "-m", "sandbox.aws", "--port", port],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def _state(url: str) -> dict[str, object]:
    with urllib.request.urlopen(f"{url}/moto-api/beanstalk/state", timeout=10) as response:
        return dict(json.loads(response.read()))


@pytest.mark.parametrize(
    ("pace", "launch_s", "update_s"), [(None, 300.0, 120.0), ("aws", 300.0, 120.0), ("compressed", 3.0, 2.0)]
)
def test_one_flag_picks_the_pace_of_every_operation(
    pace: str | None, launch_s: float, update_s: float
) -> None:
    """Not 240 s to launch beside 5 s to update: AWS's pace throughout, or all of it compressed."""
    flag = ["--pace", pace] if pace else []
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.aws", "--port", "0", *flag],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        timings = _state(process.stdout.readline().split(" ")[1].strip())["timings"]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)

    assert isinstance(timings, dict)
    assert (timings["launch_s"], timings["update_s"]) == (launch_s, update_s)
    assert timings["swap_s"] < timings["update_s"] <= timings["launch_s"]


def test_the_help_says_what_each_pace_means() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sandbox.aws", "--help"],
        cwd=REPO,
        env={**os.environ, "COLUMNS": "400"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert "--pace {aws,compressed}" in done.stdout
    assert "launches in 300 s" in done.stdout and "launch 3 s" in done.stdout
