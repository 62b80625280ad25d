"""moto's own Elastic Beanstalk tests (from the sdist of the pinned moto, `make moto-tests`) pass with the
extension loaded, under mock_aws and against moto_ext's server (`eb_server_url`: what `python -m sandbox.aws`
serves) in moto's TEST_SERVER_MODE."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from moto import __version__ as moto_version

from tests.prerequisites import unavailable

REPO = Path(__file__).resolve().parents[2]
SUITE = REPO / ".artifacts" / f"moto-{moto_version}"
SELECTION = [
    "tests/test_elasticbeanstalk",
    "tests/test_resourcegroupstaggingapi/test_resourcegroupstaggingapi.py::"
    "test_get_resources_elasticbeanstalk_environment",
]
EXPECTED = "12 passed"  # 11 in tests/test_elasticbeanstalk, 1 in the tagging suite


def run_suite(extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    if not (SUITE / "tests" / ".ready").exists():
        unavailable(f"moto {moto_version}'s tests are not in {SUITE}; run `make moto-tests`")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "TEST_SERVER"))}
    env.update(
        PYTHONPATH=os.pathsep.join([str(REPO), str(Path(__file__).parent)]),
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        **extra_env,
    )
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "moto_suite_plugin",
            "-p",
            "no:cacheprovider",
            "-q",
            *SELECTION,
        ],
        cwd=SUITE,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_moto_eb_tests_pass_under_mock_aws() -> None:
    done = run_suite({})

    assert done.returncode == 0, done.stdout[-3000:]
    assert "moto_ext.elasticbeanstalk extension loaded: True" in done.stdout
    assert EXPECTED in done.stdout


def test_moto_eb_tests_pass_against_the_server(eb_server_url: str) -> None:
    done = run_suite({"TEST_SERVER_MODE": "true", "TEST_SERVER_MODE_ENDPOINT": eb_server_url})

    assert done.returncode == 0, done.stdout[-3000:]
    assert "moto_ext.elasticbeanstalk extension loaded: True" in done.stdout
    assert EXPECTED in done.stdout
