"""The production image on a real Docker engine: it builds, turns healthy by its own HEALTHCHECK, serves and
counts, runs as a non-root user, stops cleanly on SIGTERM, and travels through a registry by digest.

Needs a Docker engine (`make docker-engine` brings one up on Debian). Without one these tests skip with the
reason, except under CI=true, where a missing engine is a failure.

Environment:
  CONTAINER_IMAGE  test this already built image instead of building one (CircleCI's `image` job)
  PYTHON_IMAGE     base image for the build; default: the local Debian base from scripts/docker-engine.sh
                   when the engine has it, else the Dockerfile's default (python:3.12-slim)
  MONGODB_URI      when set, the container stores into this MongoDB instead of its own SQLite file
  TEST_REGISTRY    registry for the push/pull test (127.0.0.1:5000)
"""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.prerequisites import unavailable

docker = pytest.importorskip("docker")

pytestmark = [pytest.mark.docker, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
LOCAL_BASE_IMAGE = "deliverypipeline/python-base:bookworm"
TEST_IMAGE = "deliverypipeline:container-test"
BUILT_VERSION = "t0-built"
REGISTRY = os.environ.get("TEST_REGISTRY", "127.0.0.1:5000")
LABEL = {"deliverypipeline.test": "container"}
HEALTHY_WITHIN_S = 90
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture(scope="session")
def engine(docker_engine: Any) -> Any:
    return docker_engine


@dataclass(frozen=True)
class ImageUnderTest:
    image: Any
    reference: str
    baked_version: str


@pytest.fixture(scope="session")
def image_under_test(engine: Any) -> ImageUnderTest:
    """The image these tests run: CONTAINER_IMAGE as given, else built once per session from this checkout."""
    given = os.environ.get("CONTAINER_IMAGE")
    if given:
        image = engine.images.get(given)
        return ImageUnderTest(image, given, given.rsplit(":", 1)[-1])
    base = os.environ.get("PYTHON_IMAGE") or (
        LOCAL_BASE_IMAGE if _has_image(engine, LOCAL_BASE_IMAGE) else "python:3.12-slim"
    )
    try:
        image, _ = engine.images.build(
            path=str(ROOT),
            tag=TEST_IMAGE,
            buildargs={"PYTHON_IMAGE": base, "APP_VERSION": BUILT_VERSION},
            network_mode="host",
            rm=True,
            forcerm=True,
        )
    except docker.errors.BuildError as error:
        log = "".join(chunk.get("stream", "") or chunk.get("error", "") for chunk in error.build_log)
        pytest.fail(f"docker build on {base} failed: {error}\n{log[-4000:]}", pytrace=False)
    return ImageUnderTest(image, TEST_IMAGE, BUILT_VERSION)


# --- the image ------------------------------------------------------------------------------------------


def test_the_image_declares_port_8080_a_non_root_user_and_a_health_check(image_under_test):
    config = image_under_test.image.attrs["Config"]
    assert "8080/tcp" in config["ExposedPorts"]
    assert config["User"] and config["User"].split(":")[0] not in ("root", "0")
    assert "/health" in " ".join(config["Healthcheck"]["Test"])
    assert f"APP_VERSION={image_under_test.baked_version}" in config["Env"]


def test_the_final_stage_holds_no_compilers_pip_caches_or_tests(engine, image_under_test):
    probe = (
        "import importlib.util, json, pathlib, shutil, sys; print(json.dumps({"
        "'compilers': [c for c in ('gcc', 'cc', 'g++', 'make') if shutil.which(c)],"
        "'pip_in_venv': importlib.util.find_spec('pip') is not None,"
        "'pip_caches': [p for p in ('/root/.cache/pip', '/app/.cache/pip') if pathlib.Path(p).exists()],"
        "'tests': sorted(str(p) for p in pathlib.Path('/app').rglob('test*')),"
        "'app': sorted(p.name for p in pathlib.Path('/app').iterdir()),"
        "'prefix': sys.prefix}))"
    )
    output = engine.containers.run(
        image_under_test.reference, ["python3", "-c", probe], user="0", network_mode="host", remove=True
    )
    found = json.loads(output)
    assert found["prefix"] == "/opt/venv"
    assert found["compilers"] == []
    assert found["pip_in_venv"] is False
    assert found["pip_caches"] == []
    assert found["tests"] == []
    assert found["app"] == ["data", "webapp"]


# --- a running container --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Running:
    container: Any
    url: str


@pytest.fixture(scope="module")
def running(engine: Any, image_under_test: ImageUnderTest) -> Iterator[Running]:
    """The image started as a deployment starts it: APP_VERSION=t1, on a free port of the host network."""
    port = _free_port()
    container = engine.containers.run(
        image_under_test.reference,
        detach=True,
        network_mode="host",
        environment={"PORT": str(port), "APP_VERSION": "t1", **_store_environment()},
        labels=LABEL,
    )
    try:
        yield Running(container, f"http://127.0.0.1:{port}")
    finally:
        container.remove(force=True)


def test_the_container_turns_healthy_by_the_images_own_health_check(running):
    status = _wait_for_health(running.container)
    assert status == "healthy", _logs(running.container)


def test_each_get_root_is_counted_and_reports_the_running_version(running):
    _wait_for_health(running.container)
    first = _get_json(running.url + "/")
    second = _get_json(running.url + "/")
    assert first["version"] == second["version"] == "t1"
    assert second["calls"] == first["calls"] + 1
    assert second["calls_by_version"]["t1"] == first["calls_by_version"]["t1"] + 1


def test_health_answers_ok_with_the_version_and_is_not_counted(running):
    _wait_for_health(running.container)
    before = _get_json(running.url + "/")["calls"]
    assert _get_json(running.url + "/health") == {"status": "ok", "version": "t1"}
    after = _get_json(running.url + "/")["calls"]
    assert after == before + 1


def test_the_app_process_runs_as_a_non_root_user(running):
    _wait_for_health(running.container)
    exit_code, output = running.container.exec_run(["python3", "-c", "print(open('/proc/1/status').read())"])
    assert exit_code == 0, output
    uids = next(line for line in output.decode().splitlines() if line.startswith("Uid:")).split()[1:]
    assert all(uid != "0" for uid in uids), uids


# --- starting and stopping ------------------------------------------------------------------------------


def test_without_app_version_it_reports_the_version_baked_in_at_build(engine, image_under_test):
    with _started(engine, image_under_test.reference) as (_, url):
        assert _get_json(url + "/health")["version"] == image_under_test.baked_version


def test_sigterm_stops_it_with_exit_code_0_within_10_seconds(engine, image_under_test):
    with _started(engine, image_under_test.reference, {"APP_VERSION": "t1"}) as (container, url):
        _get_json(url + "/")
        container.kill(signal="SIGTERM")
        try:
            result = container.wait(timeout=10)
        except Exception as error:  # requests' ReadTimeout when it is still running after 10 s
            pytest.fail(f"still running 10 s after SIGTERM ({error})\n{_logs(container)}", pytrace=False)
        assert result["StatusCode"] == 0, _logs(container)


# --- through a registry ---------------------------------------------------------------------------------


def test_push_to_the_registry_and_pull_back_by_digest(engine, image_under_test):
    if not _registry_answers(REGISTRY):
        unavailable(f"no registry at {REGISTRY}; run scripts/docker-engine.sh first")
    repository = f"{REGISTRY}/deliverypipeline"
    tag = f"test-{uuid.uuid4().hex[:12]}"
    image = image_under_test.image
    assert image.tag(repository, tag)
    references = [f"{repository}:{tag}"]
    try:
        digest = _push(engine, repository, tag)
        references.append(f"{repository}@{digest}")
        engine.images.remove(f"{repository}:{tag}")
        pulled = engine.images.pull(f"{repository}@{digest}")
        assert pulled.id == image.id
        assert f"{repository}@{digest}" in pulled.attrs["RepoDigests"]
    finally:
        for reference in references:
            if _has_image(engine, reference):
                engine.images.remove(reference)


# --- details --------------------------------------------------------------------------------------------


def _store_environment() -> dict[str, str]:
    mongodb_uri = os.environ.get("MONGODB_URI")
    if mongodb_uri:
        return {"MONGODB_URI": mongodb_uri}
    return {"SQLITE_PATH": f"/app/data/container-test-{uuid.uuid4().hex[:8]}.sqlite3"}


class _started:
    """A container of `reference` on a free port, yielded once /health answers; removed afterwards."""

    def __init__(self, engine: Any, reference: str, environment: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        self.container = engine.containers.run(
            reference,
            detach=True,
            network_mode="host",
            environment={"PORT": str(self.port), **_store_environment(), **(environment or {})},
            labels=LABEL,
        )

    def __enter__(self) -> tuple[Any, str]:
        url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + HEALTHY_WITHIN_S
        while True:
            try:
                _get_json(url + "/health")
                return self.container, url
            except (OSError, urllib.error.URLError):
                self.container.reload()
                if self.container.status == "exited" or time.monotonic() > deadline:
                    pytest.fail(f"/health never answered\n{_logs(self.container)}", pytrace=False)
                time.sleep(0.2)

    def __exit__(self, *exc: object) -> None:
        self.container.remove(force=True)


def _wait_for_health(container: Any) -> str:
    deadline = time.monotonic() + HEALTHY_WITHIN_S
    while True:
        container.reload()
        state = container.attrs["State"]
        status = state.get("Health", {}).get("Status", "none")
        if status in ("healthy", "unhealthy") or not state["Running"] or time.monotonic() > deadline:
            return status if state["Running"] else f"exited {state['ExitCode']}"
        time.sleep(0.5)


def _get_json(url: str) -> Any:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with NO_PROXY.open(request, timeout=10) as response:
        return json.load(response)


def _push(engine: Any, repository: str, tag: str) -> str:
    digest = None
    for line in engine.images.push(repository, tag=tag, stream=True, decode=True):
        if "error" in line:
            pytest.fail(f"push failed: {line['error']}", pytrace=False)
        digest = line.get("aux", {}).get("Digest", digest)
    assert digest and digest.startswith("sha256:"), "the push reported no digest"
    return str(digest)


def _registry_answers(address: str) -> bool:
    try:
        with NO_PROXY.open(f"http://{address}/v2/", timeout=3) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _has_image(engine: Any, reference: str) -> bool:
    try:
        engine.images.get(reference)
    except docker.errors.ImageNotFound:
        return False
    except docker.errors.APIError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _logs(container: Any) -> str:
    try:
        return "container log:\n" + container.logs(tail=50).decode(errors="replace")
    except Exception as error:
        return f"(no container log: {error})"
