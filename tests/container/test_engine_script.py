"""scripts/docker-engine.sh, run when everything is already up: it succeeds and starts, installs and
builds nothing (so .ci/run and `make docker-engine` can call it every time)."""

from __future__ import annotations

import os
import subprocess
import urllib.request
from pathlib import Path

import pytest

docker = pytest.importorskip("docker")

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "docker-engine.sh"
BASE_IMAGE = "deliverypipeline/python-base:bookworm"
REGISTRY = "127.0.0.1:5000"


def _missing() -> str | None:
    """What of the script's world is not up here, or None."""
    if os.geteuid() != 0:
        return "the script runs as root"
    try:
        client = docker.from_env(timeout=30)
        client.ping()
        client.images.get(BASE_IMAGE)
    except Exception as error:
        return f"engine or base image not up: {error}"
    try:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        opener.open(f"http://{REGISTRY}/v2/", timeout=3).close()
    except OSError as error:
        return f"no registry at {REGISTRY}: {error}"
    return None


@pytest.fixture
def everything_up() -> None:
    missing = _missing()
    if missing is None:
        return
    if os.environ.get("CI") == "true" and os.geteuid() == 0:
        pytest.fail(f"CI=true and {missing} (.ci/run runs scripts/docker-engine.sh first)", pytrace=False)
    pytest.skip(missing)


def test_with_everything_up_it_succeeds_and_changes_nothing(everything_up):
    result = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    for action in ("installing", "starting", "building"):
        assert action not in result.stderr, result.stderr
    assert f"registry http://{REGISTRY}" in result.stderr
    assert f"base image {BASE_IMAGE}" in result.stderr
