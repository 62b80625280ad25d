"""`python -m sandbox.aws`: loopback only, announces itself, serves the extension, stops on a signal, says
a busy port once, and logs requests in colour only on a terminal."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import requests

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


def test_a_busy_port_is_said_once(server: tuple[subprocess.Popen[str], str]) -> None:
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

    assert result.stderr.strip().splitlines() == [
        f"sandbox.aws: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


def _logged_request(stderr: int, python_path: tuple[Path, ...] = ()) -> subprocess.Popen[str]:
    """`python -m sandbox.aws` with its stderr on `stderr`, after a request the control surface refuses
    (a 400: werkzeug's log shows a 4xx in bold red on a terminal)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.aws", "--port", "0"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(map(str, (*python_path, REPO)))},
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    assert process.stdout is not None
    url = process.stdout.readline().split(" ")[1].strip()
    refused = requests.post(f"{url}/moto-api/beanstalk/faults", data="not json", timeout=10)
    assert refused.status_code == 400
    return process


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0


def test_its_request_log_has_no_colour_codes_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    # Without colorama (a fresh checkout's virtualenv has none), werkzeug writes its colours to any stream;
    # colorama, when some other package brings it, strips them from a stream that is not a terminal.
    without_colorama = tmp_path / "no-colorama"
    without_colorama.mkdir()
    (without_colorama / "colorama.py").write_text("raise ImportError('colorama is not installed here')\n")
    log = tmp_path / "stderr.log"
    with log.open("w") as stderr:
        process = _logged_request(stderr.fileno(), python_path=(without_colorama,))
        _stop(process)

    text = log.read_text()
    assert '"POST /moto-api/beanstalk/faults HTTP/1.1" 400 -' in text
    assert "\x1b[" not in text


def test_its_request_log_keeps_its_colours_on_a_terminal() -> None:
    controller, terminal = pty.openpty()
    try:
        process = _logged_request(terminal)
        os.close(terminal)
        seen = b""
        deadline = time.monotonic() + 15
        while b'HTTP/1.1\x1b[0m" 400' not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.5)
            if ready:
                seen += os.read(controller, 4096)
        _stop(process)
    finally:
        os.close(controller)

    assert b'\x1b[31m\x1b[1mPOST /moto-api/beanstalk/faults HTTP/1.1\x1b[0m" 400' in seen


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
