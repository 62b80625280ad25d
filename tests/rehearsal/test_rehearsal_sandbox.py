"""`python -m rehearsal` against the sandbox, as `make aws-rehearsal` runs it against AWS, so it cannot rot:
`python -m sandbox host` is the empty account; the rehearsal provisions both stacks into it with `make
provision` and `make deploy-controller`, runs the four deployments through the CI client, reads back their
records, AWS calls and Beanstalk's events, and deletes everything. Its report must show each deployment as
expected and no difference from rehearsal/emulation-reference.json (what the emulation does, the
reference an AWS run is compared with); regenerate that file with `--write-reference` when the emulation
changes on purpose.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def host(tmp_path: Path) -> Iterator[dict[str, str]]:
    """`python -m sandbox host` in its own process group; its JSON line (aws_endpoint, region, front)."""
    log = tmp_path / "host.log"
    with log.open("w") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "host"],
            cwd=REPO,
            env=_without_aws(),
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            start_new_session=True,
        )
    try:
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(120)
        if not line or not line[0].strip():
            pytest.fail(f"`python -m sandbox host` did not start: {log.read_text()[-2000:]}")
        yield dict(json.loads(line[0]))
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def test_the_rehearsal_against_the_sandbox_does_what_the_emulation_reference_says(
    host: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "report"

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "rehearsal",
            "--endpoint-url",
            host["aws_endpoint"],
            "--front",
            host["front"],
            "--out",
            str(out),
        ],
        cwd=REPO,
        env=_without_aws(),
        capture_output=True,
        text=True,
        timeout=900,
    )

    assert done.returncode == 0, done.stderr[-4000:] + _log_tail(out)
    report = json.loads((out / "rehearsal-report.json").read_text())
    outcomes = [(d["scenario"], d["outcome"]) for d in report["deployments"]]
    assert outcomes == [
        ("good", "succeeded"),
        ("broken", "failed"),
        ("held and promoted", "succeeded"),
        ("rollback", "rolled_back"),
    ]
    assert {d["scenario"]: d["differences"] for d in report["deployments"]} == {
        scenario: [] for scenario, _ in outcomes
    }, "the emulation no longer does what rehearsal/emulation-reference.json says"
    assert all(d["aws_calls"] and d["aws_calls"]["total"] > 0 for d in report["deployments"])
    assert report["teardown"] == {
        "kept": False,
        "failures": [],
        "how_to_remove": report["teardown"]["how_to_remove"],
    }
    summary = (out / "rehearsal-summary.md").read_text()
    assert summary == done.stdout
    assert summary.count("Differences from the emulation: none") == 4
    assert _left_behind(host, report["rehearsal"]["prefix"]) == []


def _left_behind(host: dict[str, str], prefix: str) -> list[str]:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=host["region"]
    )

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=host["aws_endpoint"])

    found = [
        f"stack {s['StackName']} ({s['StackStatus']})"
        for s in client("cloudformation").describe_stacks()["Stacks"]
        if s["StackName"].startswith(prefix) and s["StackStatus"] != "DELETE_COMPLETE"
    ]
    found += [
        f"environment {e['EnvironmentName']} ({e['Status']})"
        for e in client("elasticbeanstalk").describe_environments()["Environments"]
        if e["EnvironmentName"].startswith(prefix) and e["Status"] != "Terminated"
    ]
    found += [
        f"rule {r['Name']}" for r in client("events").list_rules()["Rules"] if r["Name"].startswith(prefix)
    ]
    found += [
        f"log group {g['logGroupName']}"
        for g in client("logs").describe_log_groups()["logGroups"]
        if prefix in g["logGroupName"]
    ]
    found += [f"bucket {b['Name']}" for b in client("s3").list_buckets()["Buckets"] if prefix in b["Name"]]
    # the controller's table is one its stack keeps when it is deleted
    found += [f"table {t}" for t in client("dynamodb").list_tables()["TableNames"] if t.startswith(prefix)]
    found += [f"queue {q}" for q in client("sqs").list_queues().get("QueueUrls", []) if prefix in q]
    return found


def _without_aws() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "REHEARSAL_"))}


def _log_tail(out: Path) -> str:
    log = out / "rehearsal.log"
    return "\n--- rehearsal.log ---\n" + log.read_text()[-4000:] if log.exists() else ""
