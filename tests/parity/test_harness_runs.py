"""The parity suite run as a user runs it, in a separate pytest process, to prove what it promises:

- tampering with a snapshot's error message or event order makes its test fail;
- `--record` against an AWS-compatible endpoint (the emulation) writes a complete snapshot set, which the
  next run then holds the endpoint to;
- everything a run creates is gone afterwards: after passing tests, failing tests, and Ctrl-C;
- `--aws` refuses, at once and in a sentence, without PARITY_ACCOUNT_ID, without credentials, and with
  credentials of another account.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from .harness.emulation import EmulationServer
from .harness.tampering import tamper

pytestmark = [pytest.mark.parity_harness, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"


@pytest.fixture
def endpoint() -> Iterator[str]:
    """An emulation of the meta test's own, so it can look at what a run left behind."""
    server = EmulationServer()
    try:
        yield server.endpoint
    finally:
        server.stop()


def run_suite(
    *args: str, tmp_path: Path, env: dict[str, str] | None = None, timeout: float = 900
) -> dict[str, str]:
    """`pytest tests/parity -m parity` in its own process; each test's outcome (passed, failed, skipped,
    xfailed) by name."""
    report = tmp_path / f"report-{time.monotonic_ns()}.xml"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/parity",
            "-m",
            "parity",
            "-p",
            "no:cacheprovider",
            "-q",
            f"--junitxml={report}",
            *args,
        ],
        cwd=REPO,
        env=env or _clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if not report.exists():
        raise AssertionError(
            f"the run wrote no report (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
    return _outcomes(report)


def _outcomes(report: Path) -> dict[str, str]:
    outcomes: dict[str, str] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        name = case.get("name", "")
        if case.find("failure") is not None or case.find("error") is not None:
            outcomes[name] = "failed"
        elif (skipped := case.find("skipped")) is not None:
            outcomes[name] = (
                "xfailed" if "xfail" in (skipped.get("type", "") + skipped.get("message", "")) else "skipped"
            )
        else:
            outcomes[name] = "passed"
    return outcomes


def _clean_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "PARITY_"))}


def leftovers(endpoint: str) -> list[str]:
    """Everything on `endpoint` a parity run names (prefix `par-`): nothing, once a run has ended."""
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=endpoint)

    found = [
        f"bucket {b['Name']}" for b in client("s3").list_buckets()["Buckets"] if b["Name"].startswith("par-")
    ]
    eb = client("elasticbeanstalk")
    found += [f"application {a['ApplicationName']}" for a in eb.describe_applications()["Applications"]]
    found += [
        f"environment {e['EnvironmentName']}"
        for e in eb.describe_environments(IncludeDeleted=False)["Environments"]
    ]
    found += [f"queue {url}" for url in client("sqs").list_queues().get("QueueUrls", []) if "/par-" in url]
    found += [
        f"rule {r['Name']}" for r in client("events").list_rules()["Rules"] if r["Name"].startswith("par-")
    ]
    iam = client("iam")
    found += [f"role {r['RoleName']}" for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("par-")]
    found += [
        f"instance profile {p['InstanceProfileName']}"
        for p in iam.list_instance_profiles()["InstanceProfiles"]
        if p["InstanceProfileName"].startswith("par-")
    ]
    found += [f"secret {s['Name']}" for s in client("secretsmanager").list_secrets()["SecretList"]]
    found += [
        f"stack {s['StackName']} ({s['StackStatus']})"
        for s in client("cloudformation").describe_stacks()["Stacks"]
        if s["StackStatus"] != "DELETE_COMPLETE"
    ]
    return found


def test_tampered_messages_and_event_orders_fail_their_tests(tmp_path: Path, endpoint: str) -> None:
    tampered_dir = tmp_path / "tampered"
    shutil.copytree(SNAPSHOTS, tampered_dir)
    tampered: dict[str, list[str]] = {}
    for path in sorted(tampered_dir.glob("*.json")):
        data = json.loads(path.read_text())
        changed = tamper(data)
        if changed:
            path.write_text(json.dumps(data, indent=2))
            tampered[path.stem] = changed

    outcomes = run_suite("--endpoint-url", endpoint, "--snapshot-dir", str(tampered_dir), tmp_path=tmp_path)

    held = {
        name: outcomes.get(name)
        for name in tampered
        if outcomes.get(name) not in {"failed", "xfailed", "skipped"}
    }
    assert held == {}, f"these tests passed against a tampered snapshot: {held} (tampered: {tampered})"
    messages = [name for name, changed in tampered.items() if any(c.endswith(".message") for c in changed)]
    orders = [name for name, changed in tampered.items() if any(c.endswith("(order)") for c in changed)]
    assert len(messages) >= 10 and len(orders) >= 10, (messages, orders)
    assert sum(outcome == "failed" for outcome in outcomes.values()) >= 20
    assert leftovers(endpoint) == [], "a run with failing tests still deletes what it created"


def test_record_writes_a_complete_set_that_the_next_run_holds(tmp_path: Path, endpoint: str) -> None:
    recorded_dir = tmp_path / "recorded"

    recording = run_suite(
        "--endpoint-url", endpoint, "--record", "--snapshot-dir", str(recorded_dir), tmp_path=tmp_path
    )
    replay = run_suite("--endpoint-url", endpoint, "--snapshot-dir", str(recorded_dir), tmp_path=tmp_path)

    ran = {name for name, outcome in recording.items() if outcome == "passed"}
    assert len(ran) >= 25
    assert {path.stem for path in recorded_dir.glob("*.json")} == ran
    for name in ran:
        data = json.loads((recorded_dir / f"{name}.json").read_text())
        assert data["recorded"]["from"] == f"endpoint {endpoint}", name
        assert {"region", "date", "client versions"} <= data["recorded"].keys(), name
        assert data["match"] == "exact-keys" and data["content"], name
    assert {name: outcome for name, outcome in replay.items() if name in ran and outcome != "passed"} == {}
    assert leftovers(endpoint) == []


def test_ctrl_c_still_deletes_what_the_run_created(tmp_path: Path, endpoint: str) -> None:
    run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/parity/test_versions.py",
            "-m",
            "parity",
            "-p",
            "no:cacheprovider",
            "-q",
            "--endpoint-url",
            endpoint,
        ],
        cwd=REPO,
        env=_clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not any(item.startswith("environment") for item in leftovers(endpoint)):
            assert run.poll() is None and time.monotonic() < deadline, (
                "the run never launched its environments"
            )
            time.sleep(0.2)
        run.send_signal(signal.SIGINT)
        output, _ = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait(timeout=10)

    assert "deleting the" in output, output
    assert leftovers(endpoint) == [], output


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "--aws needs PARITY_ACCOUNT_ID"),
        ({"PARITY_ACCOUNT_ID": "my-account"}, "PARITY_ACCOUNT_ID (got 'my-account')"),
        ({"PARITY_ACCOUNT_ID": "111111111111"}, "no AWS credentials"),
    ],
)
def test_aws_refuses_in_a_sentence_before_anything_runs(
    tmp_path: Path, environ: dict[str, str], expected: str
) -> None:
    env = {
        **_clean_env(),
        "HOME": str(tmp_path),  # no ~/.aws: the standard chain finds nothing
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        **environ,
    }

    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/parity/test_versions.py", "-p", "no:cacheprovider", "--aws"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    printed = done.stdout + done.stderr
    assert done.returncode == 4, printed  # pytest's usage error: nothing collected, nothing run
    assert expected in printed
    assert "Traceback" not in printed
    assert time.monotonic() - started < 60, "a refusal must not hang"


def test_aws_refuses_credentials_of_another_account(tmp_path: Path, endpoint: str) -> None:
    env = {
        **_clean_env(),
        "HOME": str(tmp_path),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_STS": endpoint,  # the emulation's STS answers account 123456789012
        "PARITY_ACCOUNT_ID": "111111111111",
    }

    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/parity/test_versions.py", "-p", "no:cacheprovider", "--aws"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    printed = done.stdout + done.stderr
    assert done.returncode == 4, printed
    assert "the credentials belong to account 123456789012, but PARITY_ACCOUNT_ID is 111111111111" in printed
    assert leftovers(endpoint) == [], "nothing was created"
