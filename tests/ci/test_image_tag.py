"""scripts/image-tag.sh: the tag every CI job computes for one pipeline, `<version>-<short sha>`."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "image-tag.sh"
DOCKER_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
SHA = "3f2a1bc9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3"


def _tag(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("PIPELINE_NUMBER", "CIRCLE_SHA1")}
    return subprocess.run(
        ["bash", str(SCRIPT)], capture_output=True, text=True, env={**clean, **env}, timeout=30
    )


def _major_minor() -> str:
    version = re.search(r'^version = "(\d+\.\d+)\.\d+"', (ROOT / "pyproject.toml").read_text(), re.M)
    assert version
    return version.group(1)


def test_the_tag_is_version_dot_pipeline_number_dash_short_sha():
    result = _tag(PIPELINE_NUMBER="42", CIRCLE_SHA1=SHA)
    assert result.returncode == 0, result.stderr
    tag = result.stdout.strip()
    assert tag == f"{_major_minor()}.42-3f2a1bc"
    assert DOCKER_TAG.fullmatch(tag)


def test_outside_ci_the_tag_names_the_checked_out_commit():
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
    result = _tag()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{_major_minor()}.0-{head.stdout.strip()[:7]}"


def test_a_bad_pipeline_number_or_sha_is_an_error_naming_it():
    bad_number = _tag(PIPELINE_NUMBER="4x", CIRCLE_SHA1=SHA)
    assert bad_number.returncode != 0
    assert "PIPELINE_NUMBER" in bad_number.stderr
    assert bad_number.stdout == ""
    bad_sha = _tag(PIPELINE_NUMBER="1", CIRCLE_SHA1="not-a-sha")
    assert bad_sha.returncode != 0
    assert "not a commit sha" in bad_sha.stderr
