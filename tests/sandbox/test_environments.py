"""Environments run the real web app; a deploy replaces it only once the new version answers /health."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.live.dockerrun import ImageRef, build_bundle
from sandbox.live.environments import Environments, EnvironmentStartError
from sandbox.live.instances import ProcessLauncher

IMAGE = "docker.io/acme/deliverypipeline"
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture
def environments(tmp_path: Path) -> Iterator[Environments]:
    running = Environments(ProcessLauncher(store=tmp_path / "store.sqlite3", log_dir=tmp_path / "logs"))
    yield running
    running.stop_all()


def _get(port: int, path: str = "/") -> dict:
    with _DIRECT.open(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return json.loads(response.read())


def _refuses(port: int) -> bool:
    try:
        _get(port, "/health")
    except urllib.error.URLError:
        return True
    return False


def test_a_launched_environment_serves_its_version(environments: Environments) -> None:
    environments.launch("app-blue", ImageRef(IMAGE, "1.0.0"))
    port = environments.port_of("app-blue")

    assert port is not None
    assert _get(port, "/health") == {"status": "ok", "version": "1.0.0"}
    assert environments.version_of("app-blue") == "1.0.0"


def _non_loopback_address() -> str | None:
    """An address of this machine that is not loopback (None when it has none)."""
    import socket

    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: no packet is sent by a UDP connect
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") else address


def test_an_environment_listens_on_loopback_only(environments: Environments) -> None:
    """The sandbox's web apps are reached through the CNAME front; they never listen on the machine's
    other interfaces (HOST=127.0.0.1, contract section 1)."""
    import socket

    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no interface but loopback")
    environments.launch("app-blue", ImageRef(IMAGE, "1.0.0"))
    port = environments.port_of("app-blue")
    assert port is not None and _get(port, "/health")["status"] == "ok"
    with pytest.raises(OSError), socket.create_connection((address, port), timeout=5):
        pass


def test_a_deploy_switches_to_the_new_version_and_stops_the_old(environments: Environments) -> None:
    environments.launch("app-blue", ImageRef(IMAGE, "1.0.0"))
    old_port = environments.port_of("app-blue")
    assert old_port is not None

    outcome = environments.deploy("app-blue", build_bundle(ImageRef(IMAGE, "2.0.0")))

    new_port = environments.port_of("app-blue")
    assert outcome.ok and outcome.message is None
    assert new_port is not None and new_port != old_port
    assert _get(new_port, "/health")["version"] == "2.0.0"
    assert _refuses(old_port)


def test_a_version_that_cannot_start_is_red_and_the_old_one_keeps_serving(environments: Environments) -> None:
    environments.launch("app-blue", ImageRef(IMAGE, "2.0.0"))
    port = environments.port_of("app-blue")
    assert port is not None

    outcome = environments.deploy("app-blue", build_bundle(ImageRef(IMAGE, "3.0.0-broken")))

    assert not outcome.ok
    assert outcome.message is not None
    assert outcome.message.startswith("Instance deployment failed.")
    assert f"{IMAGE}:3.0.0-broken did not start" in outcome.message
    assert "PORT" in outcome.message  # the app's own reason, from its log
    assert environments.port_of("app-blue") == port
    assert _get(port, "/health")["version"] == "2.0.0"


def test_a_bundle_without_an_image_is_red_with_the_reason(environments: Environments) -> None:
    environments.launch("app-blue", ImageRef(IMAGE, "1.0.0"))

    outcome = environments.deploy("app-blue", b"not a zip")

    assert not outcome.ok
    assert outcome.message == (
        "Instance deployment failed. The source bundle is not a valid zip file: File is not a zip file."
    )
    assert environments.version_of("app-blue") == "1.0.0"


def test_environments_share_one_store_like_production_shares_mongodb(environments: Environments) -> None:
    environments.launch("app-blue", ImageRef(IMAGE, "1.0.0"))
    environments.launch("app-green", ImageRef(IMAGE, "2.0.0"))
    blue, green = environments.port_of("app-blue"), environments.port_of("app-green")
    assert blue is not None and green is not None

    _get(blue)
    answer = _get(green)

    assert answer["calls"] == 2
    assert answer["calls_by_version"] == {"1.0.0": 1, "2.0.0": 1}


def test_a_first_instance_that_cannot_start_is_an_error(environments: Environments) -> None:
    with pytest.raises(EnvironmentStartError, match=r"app-blue: .*PORT"):
        environments.launch("app-blue", ImageRef(IMAGE, "1.0.0-broken"))


def test_stop_all_stops_every_instance(environments: Environments) -> None:
    environments.launch("app-blue", ImageRef(IMAGE, "1.0.0"))
    environments.launch("app-green", ImageRef(IMAGE, "1.0.0"))
    ports = [environments.port_of("app-blue"), environments.port_of("app-green")]

    environments.stop_all()

    assert all(port is not None and _refuses(port) for port in ports)
    assert environments.port_of("app-blue") is None
    outcome = environments.deploy("app-blue", build_bundle(ImageRef(IMAGE, "2.0.0")))
    assert not outcome.ok


def test_a_new_instance_registers_for_a_while_after_the_switch(environments: Environments) -> None:
    environments.launch("green-env", ImageRef(IMAGE, "1.0.0"))

    outcome = environments.deploy("green-env", build_bundle(ImageRef(IMAGE, "2.0.0")), register_s=1.0)

    assert outcome.ok
    assert environments.registering("green-env")
    deadline = time.monotonic() + 10
    while environments.registering("green-env") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not environments.registering("green-env")


def test_waiting_for_registration_returns_once_registered(environments: Environments) -> None:
    environments.launch("green-env", ImageRef(IMAGE, "1.0.0"))

    outcome = environments.deploy(
        "green-env", build_bundle(ImageRef(IMAGE, "2.0.0")), register_s=0.5, wait_for_registration=True
    )

    assert outcome.ok
    assert not environments.registering("green-env")
