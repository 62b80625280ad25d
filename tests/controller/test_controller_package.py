"""`chalice package` offline: the Lambda zip carries app.py + controller/ only, and the template lints."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from controller_harness import ROOT

BIN = Path(sys.executable).parent
# 87 KiB before GitHub, chat, one-click links and the dashboard (112 KiB with them); the drain, the metric
# analysis and the standby's readiness (issue 21) add about 25 KiB.
MAX_ZIP_BYTES = 160 * 1024


@pytest.fixture(scope="module", params=["dev", "prod"])
def packaged(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    out = tmp_path_factory.mktemp(f"package-{request.param}") / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    subprocess.run(
        [
            str(BIN / "chalice"),
            "package",
            "--stage",
            request.param,
            "--merge-template",
            ".chalice/resources.json",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=240,
    )
    return request.param, out


@pytest.mark.slow
def test_the_zip_holds_the_controller_and_nothing_else_of_the_repository(packaged: tuple[str, Path]) -> None:
    _, out = packaged
    archive = out / "deployment.zip"
    assert archive.stat().st_size <= MAX_ZIP_BYTES
    names = zipfile.ZipFile(archive).namelist()
    assert "app.py" in names
    modules = {str(p.relative_to(ROOT)) for p in (ROOT / "controller").rglob("*.py")}
    assert modules <= set(names), sorted(modules - set(names))
    top = {n.split("/")[0] for n in names}
    assert top <= {"app.py", "controller", "chalice"}, top
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]


@pytest.mark.slow
def test_the_template_wires_the_queue_table_and_passes_cfn_lint(packaged: tuple[str, Path]) -> None:
    _, out = packaged
    template = json.loads((out / "sam.json").read_text())
    resources = template["Resources"]
    queue = resources["ReconcileQueue"]["Properties"]
    tick = resources["ReconcileTick"]["Properties"]
    assert queue["VisibilityTimeout"] >= tick["Timeout"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["ReconcileDeadLetterQueue", "Arn"]
    }
    source = tick["Events"]["ReconcileTickSqsEventSource"]["Properties"]
    assert "${ReconcileQueue.QueueName}" in source["Queue"]["Fn::Sub"] and source["BatchSize"] == 1
    assert tick["Handler"] == "app.reconcile_tick"
    assert tick["Environment"]["Variables"]["DEPLOYMENTS_TABLE"] == {"Ref": "DeploymentsTable"}
    table = resources["DeploymentsTable"]["Properties"]
    assert table["GlobalSecondaryIndexes"][0]["IndexName"] == "by_application"
    policy = json.dumps(resources["ReconcileTickRole"]["Properties"]["Policies"])
    assert "table/${DeploymentsTable}" in policy and '"Action": "*"' not in policy
    assert table["TableName"] == {"Fn::Sub": "${AWS::StackName}-deployments"}
    lint = subprocess.run(
        [str(BIN / "cfn-lint"), str(out / "sam.json")], capture_output=True, text=True, timeout=240
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_vendor_mirrors_every_controller_module_by_symlink() -> None:
    """vendor/controller/ holds one relative symlink per controller module, packages included (not a link
    to the directory, which would also pack __pycache__): a module added without its link would be missing
    in Lambda. scripts/vendor-links.sh rebuilds the mirror."""
    modules = sorted(str(p.relative_to(ROOT / "controller")) for p in (ROOT / "controller").rglob("*.py"))
    vendored = ROOT / "vendor" / "controller"
    links = sorted(str(p.relative_to(vendored)) for p in vendored.rglob("*") if not p.is_dir())
    assert links == modules, "run scripts/vendor-links.sh"
    for name in modules:
        link = vendored / name
        assert link.is_symlink() and link.resolve() == (ROOT / "controller" / name).resolve()
        assert not os.path.isabs(os.readlink(link))


def test_make_package_stops_at_a_stage_the_chalice_config_lacks() -> None:
    """`chalice package --stage typo` packages with the top-level settings alone; `make package` refuses."""
    package_dir = ROOT / "build" / "package-typo"
    shutil.rmtree(package_dir, ignore_errors=True)
    result = subprocess.run(
        ["make", "--no-print-directory", "package", "STAGE=typo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "error: no stage 'typo' in .chalice/config.json; its stages: dev, prod" in result.stderr
    assert not package_dir.exists()
