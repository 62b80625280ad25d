"""`python -m sandbox up`: one JSON line when ready, everything reachable, nothing left after SIGTERM; the
controller's log named at start, and kept with --keep-logs."""

from __future__ import annotations

import json
import re
import select
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
from followed_process import Followed, Progress, sandbox_progress

REPO = Path(__file__).resolve().parents[2]
KEYS = {
    "controller_url",
    "aws_endpoint",
    "region",
    "application",
    "prod_url",
    "signing_secret",
    "environments",
}
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))

pytestmark = pytest.mark.slow


def _get(url: str) -> dict:
    with _DIRECT.open(url, timeout=10) as response:
        return json.loads(response.read())


def _read_line(process: subprocess.Popen[str], timeout_s: float) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            return process.stdout.readline()
        if process.poll() is not None:
            break
    raise AssertionError(f"no JSON line from `python -m sandbox up` (exit code {process.poll()})")


def test_up_prints_its_json_line_serves_and_stops_cleanly_on_sigterm(processes: SimpleNamespace) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "up"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        info = json.loads(_read_line(process, timeout_s=120))
        started = processes.descendants(process.pid)

        assert KEYS <= set(info)
        assert info["application"] == "deliverypipeline"
        assert set(info["environments"]) == {"deliverypipeline-blue", "deliverypipeline-green"}
        blue = info["environments"]["deliverypipeline-blue"]
        assert blue["cname"] == "deliverypipeline-prod.us-east-1.elasticbeanstalk.com"
        assert info["environments"]["deliverypipeline-green"]["cname"] == (
            "deliverypipeline-staging.us-east-1.elasticbeanstalk.com"
        )
        assert _get(info["prod_url"] + "/health") == {"status": "ok", "version": "1.0.0"}
        for env in info["environments"].values():
            assert _get(env["url"] + "/health")["version"] == env["version"] == "1.0.0"
        assert _get(info["controller_url"] + "/health") == {"status": "ok"}
        assert len(started) >= 3  # two web app instances and the controller

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
        assert process.stdout is not None and process.stdout.read() == ""  # exactly one line on stdout
        assert not [pid for pid in started if processes.alive(pid)]
    finally:
        if process.poll() is None:
            process.terminate()  # the sandbox stops what it started on SIGTERM; SIGKILL would orphan it
            process.wait(timeout=60)


def test_up_names_the_controller_log_at_start_and_keep_logs_keeps_it_after_stop(progress: Progress) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "up", "--keep-logs"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    followed = Followed(process, progress, sandbox_progress)
    kept: Path | None = None
    try:
        assert followed.follow(120, until=lambda line: line.startswith("{")), followed.stderr
        at_start = r"starting the controller .*; its log: (\S+/controller\.log)$"
        started = re.search(at_start, followed.stderr, re.M)
        assert started, followed.stderr
        log = Path(started[1])
        assert log.is_file()

        process.send_signal(signal.SIGTERM)
        followed.follow(60)
        assert process.wait(timeout=60) == 0

        said = re.search(r"^sandbox: logs kept in (\S+): controller\.log, logs$", followed.stderr, re.M)
        assert said, followed.stderr
        kept = Path(said[1])
        assert kept == log.parent
        assert "ready http://127.0.0.1:" in log.read_text()  # what the controller's host wrote
        assert sorted(path.name for path in kept.iterdir()) == ["controller.log", "logs"]
        assert list((kept / "logs").glob("*.log"))  # the environments' instances
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=60)
        if kept is not None:
            shutil.rmtree(kept, ignore_errors=True)
