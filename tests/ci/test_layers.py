"""The layers are kept by a machine: `lint-imports` (run by `make lint`) fails when an arrow points the wrong
way. Each case copies the packages into a scratch tree, adds one forbidden import, and expects the contract
that forbids it to break (and the untouched copy to pass)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("layers")
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    for package in ("controller", "webapp", "sandbox", "bench", "moto_ext", "rehearsal"):
        if (ROOT / package).is_dir():
            shutil.copytree(ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__"))
    return tree


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree)},
    )


def test_the_repository_keeps_every_contract(scratch: Path) -> None:
    result = _lint(scratch)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("controller/core/model.py", "import boto3", "controller.core never touches AWS"),
        ("controller/core/reconcile.py", "from controller.shell import tick", "controller: api -> shell"),
        ("controller/shell/observe.py", "from controller.api import routes", "controller: api -> shell"),
        ("controller/client/cli.py", "from controller.core import model", "controller.client imports only"),
        ("controller/client/cli.py", "import chalice", "controller.client imports only"),
        ("webapp/routes.py", "import controller.core.model", "never import each other"),
        ("controller/shell/store.py", "import webapp.config", "never import each other"),
        ("controller/shell/tick.py", "import sandbox", "nothing of the sandbox"),
        ("webapp/store/sqlite.py", "import bottle", "the store (port and adapters) knows nothing of HTTP"),
        ("webapp/routes.py", "from webapp.store import sqlite", "the routes see the store's port"),
        ("moto_ext/elasticbeanstalk/faults.py", "import sandbox.stack", "moto_ext imports nothing"),
        ("moto_ext/server.py", "import controller.core.model", "moto_ext imports nothing"),
        ("sandbox/live/environments.py", "import sandbox.stack", "sandbox layers:"),
        ("sandbox/stack.py", "import sandbox.demo", "sandbox layers:"),
        ("sandbox/soak/plan.py", "import sandbox.stack", "plan and checks never import the live stack"),
        ("sandbox/soak/checks.py", "import urllib.request", "plan and checks do no I/O"),
        ("sandbox/network/front.py", "import moto_ext", "live and network know no emulation"),
        ("sandbox/live/instances.py", "import boto3", "live and network know no emulation"),
        ("sandbox/stack.py", "import controller.core.model", "only hosting and pipeline_api import"),
        ("rehearsal/scenarios.py", "import controller.client.cli", "the product only through its public"),
        ("rehearsal/provisioning.py", "import moto_ext", "the product only through its public"),
        ("controller/shell/tick.py", "import rehearsal.report", "nothing else knows the rehearsal"),
    ],
)
def test_an_arrow_the_wrong_way_breaks_its_contract(
    scratch: Path, tmp_path: Path, module: str, line: str, contract: str
) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(scratch, tree)
    target = tree / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    result = _lint(tree)
    assert result.returncode != 0, result.stdout
    broken = [row for row in result.stdout.splitlines() if row.rstrip().endswith("BROKEN")]
    assert any(contract in row for row in broken), result.stdout
