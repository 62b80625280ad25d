"""circle.yml: CircleCI accepts it, and everything it names — jobs, make targets, scripts, files, Python
modules, Chalice stages — exists in this repository. Also the branch rules a release relies on."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG_PATH = ROOT / "circle.yml"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
PRODUCTION_JOBS = ("deploy", "controller")


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return yaml.safe_load(CONFIG_PATH.read_text())


@pytest.fixture(scope="module")
def commands(config: dict[str, Any]) -> list[str]:
    """Every `run` command, in jobs, reusable commands and `when` blocks."""
    found = list(_run_commands(config.get("jobs", {}))) + list(_run_commands(config.get("commands", {})))
    assert found, "circle.yml has no run steps"
    return found


# --- valid for CircleCI ---------------------------------------------------------------------------------


def _check_schema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.circle-ci", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_circle_yml_is_valid_against_circleci_schema():
    result = _check_schema(CONFIG_PATH)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_config(tmp_path):
    broken = tmp_path / "circle.yml"
    broken.write_text(
        "version: 2.1\njobs:\n  test:\n    docker: [{image: cimg/python:3.11}]\n    steps: 5\n"
        "workflows:\n  main:\n    jobs: [test]\n"
    )
    result = _check_schema(broken)
    assert result.returncode != 0
    assert "steps" in result.stdout + result.stderr


def test_it_is_a_circleci_2_1_config(config):
    assert str(config["version"]) == "2.1"


# --- everything it names exists -------------------------------------------------------------------------


def test_every_job_the_workflows_name_is_defined(config):
    defined = set(config["jobs"])
    named = {name for workflow in _workflows(config) for name, _ in _workflow_jobs(workflow)}
    assert named, "the workflows name no jobs"
    assert named <= defined, f"undefined jobs: {sorted(named - defined)}"


def test_every_job_a_workflow_requires_is_in_that_workflow(config):
    for workflow in _workflows(config):
        names = {name for name, _ in _workflow_jobs(workflow)}
        for name, settings in _workflow_jobs(workflow):
            missing = set(settings.get("requires", [])) - names
            assert not missing, f"{name} requires {sorted(missing)}, not in the workflow"


def test_every_reusable_command_a_job_uses_is_defined(config):
    builtin = {
        "checkout",
        "run",
        "restore_cache",
        "save_cache",
        "store_test_results",
        "store_artifacts",
        "persist_to_workspace",
        "attach_workspace",
        "setup_remote_docker",
        "when",
        "unless",
        "add_ssh_keys",
    }
    defined = set(config.get("commands", {}))
    for job_name, job in config["jobs"].items():
        for step in _steps(job.get("steps", [])):
            name = step if isinstance(step, str) else next(iter(step))
            assert name in builtin | defined, f"job {job_name}: unknown step {name!r}"


def test_every_make_target_it_calls_exists(commands):
    targets = _makefile_targets((ROOT / "Makefile").read_text())
    called = {target for command in commands for target in _make_targets_called(command)}
    assert called, "circle.yml calls no make target"
    assert called <= targets, f"not in the Makefile: {sorted(called - targets)}"


def test_every_script_and_file_it_names_exists(config, commands):
    named = {path for command in commands for path in _repo_paths(command)}
    named |= set(re.findall(r'checksum "([^"]+)"', yaml.safe_dump(config)))
    assert any(path.startswith("scripts/") for path in named), "expected circle.yml to call project scripts"
    missing = sorted(path for path in named if not (ROOT / path).exists())
    assert not missing, f"circle.yml names files that are not in the repo: {missing}"


def test_every_python_module_it_runs_exists(commands):
    modules = {module for command in commands for module in re.findall(r"python3?\s+-m\s+([\w.]+)", command)}
    assert "controller.client" in modules
    missing = sorted(module for module in modules if not _module_exists(module))
    assert not missing, f"python -m of modules that do not exist: {missing}"


def test_the_controller_is_deployed_through_cloudformation_never_chalice_deploy(config, commands):
    """`chalice deploy` keeps its state in .chalice/deployed/: on a fresh CI checkout it makes a new API
    each time (aws/chalice #972) and ignores the merge template's table and queues."""
    assert not [command for command in commands if re.search(r"\bchalice\s+deploy\b", command)]
    job = "\n".join(_run_commands_of(config["jobs"]["controller"]["steps"]))
    (stage,) = re.findall(r"make deploy-controller\b.*\bSTAGE=(\w+)", job)
    configured = set(json.loads((ROOT / ".chalice" / "config.json").read_text()).get("stages", {}))
    assert stage == "prod" and stage in configured
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\ndeploy-controller:", 1)[1].split("\n\n", 1)[0]
    assert "cloudformation package" in recipe and "cloudformation deploy" in recipe
    assert "--no-fail-on-empty-changeset" in recipe  # re-running with nothing changed succeeds


def test_the_aws_cli_it_installs_is_pinned(config):
    job = "\n".join(_run_commands_of(config["jobs"]["controller"]["steps"]))
    assert "requirements-deploy.txt" in job
    pins = (ROOT / "requirements-deploy.txt").read_text()
    assert re.search(r"^awscli==\d+\.\d+\.\d+$", pins, re.M)


# --- the release rules ----------------------------------------------------------------------------------


def test_production_jobs_run_on_main_only(config):
    for workflow in _workflows(config):
        for name, settings in _workflow_jobs(workflow):
            if name in PRODUCTION_JOBS:
                assert settings.get("filters", {}).get("branches", {}).get("only") in ("main", ["main"]), name


def test_deploy_follows_a_tested_pushed_image_and_the_controller(config):
    for workflow in _workflows(config):
        jobs = dict(_workflow_jobs(workflow))
        if "deploy" in jobs:
            assert {"image", "controller"} <= set(jobs["deploy"].get("requires", []))
            assert "test" in jobs["image"].get("requires", [])


def test_the_image_is_pushed_on_main_only(config):
    image_steps = config["jobs"]["image"]["steps"]
    unconditional = [c for c in _run_commands_of(image_steps, descend_into_when=False) if "docker push" in c]
    assert not unconditional, "docker push outside a main-only `when`"
    gated = [
        step["when"]
        for step in image_steps
        if isinstance(step, dict)
        and "when" in step
        and any("docker push" in c for c in _run_commands_of(step["when"]["steps"]))
    ]
    assert gated, "the image job never pushes"
    for when in gated:
        assert when["condition"] == {"equal": ["main", "<< pipeline.git.branch >>"]}


def test_the_test_job_runs_the_store_suite_against_mongodb(config):
    job = config["jobs"]["test"]
    images = [container["image"] for container in job["docker"]]
    assert any(image.startswith("mongo:7") for image in images[1:])
    assert job["environment"]["MONGODB_URI"].startswith("mongodb://localhost:27017/")


def test_the_image_job_tests_the_built_image_beside_mongodb(config):
    commands = list(_run_commands_of(config["jobs"]["image"]["steps"]))
    text = "\n".join(commands)
    assert "scripts/image-tag.sh" in yaml.safe_dump(config["commands"]["image-name"])
    assert re.search(r"docker build .*APP_VERSION=\"\$IMAGE_TAG\"", text, re.S)
    assert "docker run -d --name mongo" in text
    assert re.search(r'CONTAINER_IMAGE="\$IMAGE_REPOSITORY:\$IMAGE_TAG" .* -m docker tests/container', text)


def test_the_deploy_job_waits_for_the_deployment(config):
    text = "\n".join(_run_commands_of(config["jobs"]["deploy"]["steps"]))
    assert re.search(r"python -m controller\.client deploy .*--image .*--tag .*--wait", text, re.S)


def test_the_deploy_job_names_the_commit_its_build_and_its_github_repository(config, tmp_path):
    """GitHub deployments are made for `repository` and `commit` (CircleCI's project is owner/name)."""
    (command,) = [c for c in _run_commands_of(config["jobs"]["deploy"]["steps"]) if "controller.client" in c]
    fake = tmp_path / "python"
    fake.write_text('#!/bin/sh\necho "$@"\n')
    fake.chmod(0o755)
    env = {
        "PATH": f"{tmp_path}:/usr/bin:/bin",
        "IMAGE_REPOSITORY": "docker.io/acme/deliverypipeline",
        "IMAGE_TAG": "1.0.42-3f2a1bc",
        "CIRCLE_SHA1": "3f2a1bc",
        "CIRCLE_BUILD_URL": "https://circleci.com/gh/acme/deliverypipeline/42",
        "CIRCLE_PROJECT_USERNAME": "acme",
        "CIRCLE_PROJECT_REPONAME": "deliverypipeline",
    }
    done = subprocess.run(["bash", "-eo", "pipefail", "-c", command], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    args = done.stdout.split()
    assert args[args.index("--repository") + 1] == "acme/deliverypipeline"
    assert args[args.index("--commit") + 1] == "3f2a1bc"
    assert args[args.index("--build-url") + 1] == "https://circleci.com/gh/acme/deliverypipeline/42"


def test_a_failed_deploy_job_fails_and_says_how_to_deploy_the_same_image_again(config, tmp_path):
    """CI's "Rerun from failed" posts the same tag and gets the failed deployment back: the job says what to
    do instead, and still fails with the client's exit code. Run with a `python` that fails as the client
    does when the deployment fails."""
    (command,) = [c for c in _run_commands_of(config["jobs"]["deploy"]["steps"]) if "controller.client" in c]
    fake = tmp_path / "python"
    fake.write_text('#!/bin/sh\necho "deployment d-1 failed: $*"\nexit 1\n')
    fake.chmod(0o755)
    env = {
        "PATH": f"{tmp_path}:/usr/bin:/bin",
        "IMAGE_REPOSITORY": "docker.io/acme/deliverypipeline",
        "IMAGE_TAG": "1.0.42-3f2a1bc",
        "CIRCLE_SHA1": "3f2a1bc",
        "CIRCLE_BUILD_URL": "https://circleci.com/gh/acme/deliverypipeline/42",
    }
    done = subprocess.run(["bash", "-eo", "pipefail", "-c", command], env=env, capture_output=True, text=True)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Rerun from failed" in done.stdout
    assert (
        "python -m controller.client deploy --image docker.io/acme/deliverypipeline --tag 1.0.42-3f2a1bc "
        "--redeploy --wait"
    ) in done.stdout


# --- reading circle.yml ---------------------------------------------------------------------------------


def _workflows(config: dict[str, Any]) -> list[dict[str, Any]]:
    return [w for name, w in config["workflows"].items() if name != "version" and isinstance(w, dict)]


def _workflow_jobs(workflow: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for entry in workflow.get("jobs", []):
        if isinstance(entry, str):
            yield entry, {}
        else:
            ((name, settings),) = entry.items()
            yield name, settings or {}


def _steps(steps: list[Any]) -> Iterator[Any]:
    for step in steps:
        yield step
        if isinstance(step, dict):
            for key in ("when", "unless"):
                if key in step:
                    yield from _steps(step[key].get("steps", []))


def _run_commands(definitions: dict[str, Any]) -> Iterator[str]:
    for definition in definitions.values():
        yield from _run_commands_of(definition.get("steps", []))


def _run_commands_of(steps: list[Any], descend_into_when: bool = True) -> Iterator[str]:
    for step in _steps(steps) if descend_into_when else steps:
        if isinstance(step, dict) and "run" in step:
            run = step["run"]
            yield run if isinstance(run, str) else run["command"]


def _makefile_targets(makefile: str) -> set[str]:
    targets: set[str] = set()
    for match in re.finditer(r"^([^\s#:=$][^:=#]*?)\s*:(?!=)", makefile, re.M):
        targets.update(name for name in match.group(1).split() if not name.startswith("."))
    return targets


def _shell_words(command: str) -> Iterator[list[str]]:
    """Simple commands (split at && || ; |) of a script, line continuations joined."""
    for line in command.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words: list[str] = []
        for token in lexer:
            if token in ("&&", "||", ";", "|", "&", "(", ")"):
                if words:
                    yield words
                words = []
            else:
                words.append(token)
        if words:
            yield words


def _make_targets_called(command: str) -> Iterator[str]:
    for words in _shell_words(command):
        if words[0] != "make":
            continue
        for word in words[1:]:
            if not word.startswith("-") and "=" not in word:
                yield word


def _repo_paths(command: str) -> set[str]:
    """Repository files a command names: scripts/…, tests/… and files with a source/config extension."""
    paths = set(re.findall(r"(?<![\w./$-])((?:scripts|tests)/[\w./-]*[\w-])", command))
    extensions = "txt|toml|py|sh|yml|yaml|json|cfg|ini"
    paths |= set(re.findall(rf"(?<![\w./$:-])((?:[\w-]+/)*[\w-]+\.(?:{extensions}))\b", command))
    return paths


def _module_exists(module: str) -> bool:
    parts = module.split(".")
    if (ROOT / parts[0]).is_dir() or (ROOT / f"{parts[0]}.py").exists():
        base = ROOT.joinpath(*parts)
        return base.with_suffix(".py").exists() or (base / "__main__.py").exists()
    return importlib.util.find_spec(module) is not None
