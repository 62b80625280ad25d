"""`python -m rehearsal` refuses before it creates anything, at once, in a sentence (exit 2, no stack trace,
no hang): without REHEARSAL_ACCOUNT_ID, without credentials, with credentials of another account, without an
image on AWS, and with an endpoint but no front."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.parity.harness.emulation import EmulationServer

REPO = Path(__file__).resolve().parents[2]
IMAGE = {
    "REHEARSAL_IMAGE": "public.ecr.aws/acme/deliverypipeline",
    "REHEARSAL_GOOD_TAG": "2.0.0",
    "REHEARSAL_HELD_TAG": "2.1.0",
}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = EmulationServer()
    try:
        yield server.endpoint
    finally:
        server.stop()


def _rehearse(tmp_path: Path, environ: dict[str, str], *args: str) -> tuple[int, str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "REHEARSAL_"))},
        "HOME": str(tmp_path),  # no ~/.aws: the standard chain finds nothing
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        **environ,
    }
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "rehearsal", "--out", str(tmp_path / "out"), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert time.monotonic() - started < 60, "a refusal must not hang"
    printed = done.stdout + done.stderr
    assert "Traceback" not in printed
    assert not (tmp_path / "out").exists(), "a refusal writes no report"
    return done.returncode, printed


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "the rehearsal needs REHEARSAL_ACCOUNT_ID"),
        ({"REHEARSAL_ACCOUNT_ID": "prod"}, "REHEARSAL_ACCOUNT_ID (got 'prod')"),
        ({"REHEARSAL_ACCOUNT_ID": "111111111111"}, "no AWS credentials"),
    ],
)
def test_on_aws_it_refuses_in_a_sentence(tmp_path: Path, environ: dict[str, str], expected: str) -> None:
    code, printed = _rehearse(tmp_path, {**IMAGE, **environ})

    assert code == 2, printed
    assert expected in printed


def test_without_an_image_it_names_the_setting(tmp_path: Path) -> None:
    code, printed = _rehearse(tmp_path, {"REHEARSAL_ACCOUNT_ID": "111111111111"})

    assert code == 2, printed
    assert "on AWS the rehearsal needs --image (or REHEARSAL_IMAGE)" in printed


def test_credentials_of_another_account_are_refused(tmp_path: Path, endpoint: str) -> None:
    code, printed = _rehearse(
        tmp_path,
        {
            **IMAGE,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL_STS": endpoint,  # the emulation's STS answers account 123456789012
            "REHEARSAL_ACCOUNT_ID": "111111111111",
        },
    )

    assert code == 2, printed
    assert (
        "the credentials belong to account 123456789012, but REHEARSAL_ACCOUNT_ID is 111111111111" in printed
    )


def test_an_endpoint_needs_the_sandbox_s_front(tmp_path: Path) -> None:
    code, printed = _rehearse(tmp_path, {}, "--endpoint-url", "http://127.0.0.1:9")

    assert code == 2, printed
    assert "--endpoint-url needs --front" in printed
