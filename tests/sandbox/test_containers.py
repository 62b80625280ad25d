"""`--docker`: environments run this checkout's image from the local registry, with the same deploy rules."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.live.containers import LABEL, DockerLauncher
from sandbox.live.dockerrun import ImageRef, build_bundle
from sandbox.live.environments import Environments
from sandbox.live.images import publish
from tests.prerequisites import unavailable

REPOSITORY = "127.0.0.1:5000/deliverypipeline-sandbox-test"
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def engine(docker_engine: Any) -> Any:
    """The engine, once the local registry answers too."""
    try:
        with _DIRECT.open("http://127.0.0.1:5000/v2/", timeout=5):
            pass
    except (urllib.error.URLError, OSError) as error:
        unavailable(f"no registry on 127.0.0.1:5000 ({error}); run scripts/docker-engine.sh first")
    return docker_engine


@pytest.fixture(scope="module")
def published(engine: Any) -> list[ImageRef]:
    images = [ImageRef(REPOSITORY, tag) for tag in ("1.0.0", "2.0.0", "3.0.0-broken")]
    publish(images, report=lambda line: None)
    return images


@pytest.fixture
def environments(tmp_path: Path, engine: Any) -> Iterator[Environments]:
    running = Environments(DockerLauncher(store_dir=tmp_path / "store", log_dir=tmp_path / "logs"))
    yield running
    running.stop_all()


def _health(port: int) -> dict:
    with _DIRECT.open(f"http://127.0.0.1:{port}/health", timeout=10) as response:
        return json.loads(response.read())


def test_containers_deploy_like_processes_and_leave_nothing(
    engine: Any, published: list[ImageRef], environments: Environments
) -> None:
    first, second, broken = published
    environments.launch("sbx-test-blue", first)
    old_port = environments.port_of("sbx-test-blue")
    assert old_port is not None and _health(old_port)["version"] == "1.0.0"

    assert environments.deploy("sbx-test-blue", build_bundle(second)).ok
    port = environments.port_of("sbx-test-blue")
    assert port is not None and port != old_port
    assert _health(port)["version"] == "2.0.0"

    failed = environments.deploy("sbx-test-blue", build_bundle(broken))
    assert not failed.ok and failed.message is not None
    assert "PORT" in failed.message
    assert environments.port_of("sbx-test-blue") == port and _health(port)["version"] == "2.0.0"

    unknown = environments.deploy("sbx-test-blue", build_bundle(ImageRef(REPOSITORY, "9.9.9-missing")))
    assert not unknown.ok and "could not be started" in (unknown.message or "")

    environments.stop_all()
    assert engine.containers.list(all=True, filters={"label": f"{LABEL}=sbx-test-blue"}) == []
