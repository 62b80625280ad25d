"""The CNAME front routes each request to the environment that owns the CNAME now."""

from __future__ import annotations

import hashlib
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sandbox.network.front import ERROR_EVERY, Front, Route, Served, cname_router
from sandbox.network.ports import free_port

PROD = "app-prod.us-east-1.elasticbeanstalk.com"
STAGING = "app-staging.us-east-1.elasticbeanstalk.com"


class _Env(BaseHTTPRequestHandler):
    """An environment stand-in that says who it is and what it received."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._answer({"env": self.server.name, "path": self.path, "host": self.headers["Host"]})  # type: ignore[attr-defined]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self._answer({"env": self.server.name, "sha256": hashlib.sha256(body).hexdigest(), "size": len(body)})  # type: ignore[attr-defined]

    def _answer(self, document: dict) -> None:
        body = json.dumps(document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def envs() -> Iterator[dict[str, int]]:
    servers = {}
    for name in ("blue", "green"):
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Env)
        server.name = name  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers[name] = server
    yield {name: server.server_address[1] for name, server in servers.items()}
    for server in servers.values():
        server.shutdown()
        server.server_close()


@pytest.fixture
def owners() -> dict[str, str]:
    return {PROD: "blue", STAGING: "green"}


@pytest.fixture
def front(envs: dict[str, int], owners: dict[str, str]) -> Iterator[Front]:
    running = Front(cname_router(owners.get, envs.get))
    yield running
    running.stop()


def _via_proxy(front: Front, url: str, data: bytes | None = None) -> dict:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": front.url}))
    with opener.open(urllib.request.Request(url, data=data), timeout=10) as response:
        return json.loads(response.read())


def test_proxy_requests_reach_the_environment_owning_each_cname(front: Front) -> None:
    prod = _via_proxy(front, f"http://{PROD}/health?x=1")
    staging = _via_proxy(front, f"http://{STAGING}/")

    assert prod == {"env": "blue", "path": "/health?x=1", "host": PROD}
    assert staging["env"] == "green"


def test_plain_requests_are_routed_by_their_host_header(front: Front) -> None:
    request = urllib.request.Request(f"{front.url}/health", headers={"Host": STAGING})
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10) as response:
        assert json.loads(response.read())["env"] == "green"


def test_a_swap_moves_the_traffic_on_the_next_request(front: Front, owners: dict[str, str]) -> None:
    assert _via_proxy(front, f"http://{PROD}/")["env"] == "blue"

    owners[PROD], owners[STAGING] = "green", "blue"

    assert _via_proxy(front, f"http://{PROD}/")["env"] == "green"
    assert _via_proxy(front, f"http://{STAGING}/")["env"] == "blue"


def test_request_bodies_pass_through_intact(front: Front) -> None:
    body = bytes(range(256)) * 8192  # 2 MiB

    answer = _via_proxy(front, f"http://{PROD}/upload", data=body)

    assert answer == {"env": "blue", "sha256": hashlib.sha256(body).hexdigest(), "size": len(body)}


def test_a_fixed_front_always_reaches_its_cname(envs: dict[str, int], owners: dict[str, str]) -> None:
    prod_front = Front(cname_router(owners.get, envs.get), host=PROD)
    try:
        with urllib.request.urlopen(f"{prod_front.url}/", timeout=10) as response:
            assert json.loads(response.read())["env"] == "blue"
        owners[PROD] = "green"
        with urllib.request.urlopen(f"{prod_front.url}/", timeout=10) as response:
            assert json.loads(response.read())["env"] == "green"
    finally:
        prod_front.stop()


def _error_of(front: Front, url: str) -> tuple[int, dict]:
    with pytest.raises(urllib.error.HTTPError) as raised:
        _via_proxy(front, url)
    return raised.value.code, json.loads(raised.value.read())


def test_an_unknown_cname_is_a_json_502(front: Front) -> None:
    status, body = _error_of(front, "http://nobody.example.com/")

    assert status == 502
    assert body == {
        "error": "no environment owns the CNAME nobody.example.com",
        "status": 502,
    }


def test_an_environment_that_is_down_is_a_json_502(owners: dict[str, str]) -> None:
    nothing_listens = free_port()
    down = Front(cname_router(owners.get, lambda env: nothing_listens))
    try:
        status, body = _error_of(down, f"http://{PROD}/")
    finally:
        down.stop()

    assert status == 502
    assert body["status"] == 502
    assert PROD in body["error"]


def test_an_environment_without_an_instance_is_a_json_502(front: Front, owners: dict[str, str]) -> None:
    owners[PROD] = "red"

    status, body = _error_of(front, f"http://{PROD}/")

    assert status == 502
    assert body["error"] == f"environment red ({PROD}) has no running instance"


def test_route_reports_why_there_is_no_port() -> None:
    route = cname_router({PROD: "blue"}.get, {}.get)

    assert route(PROD) == Route(
        None, f"environment blue ({PROD}) has no running instance", environment="blue"
    )


def test_an_environment_whose_instance_registers_answers_a_json_503(
    envs: dict[str, int], owners: dict[str, str]
) -> None:
    registering = {"blue"}
    front = Front(cname_router(owners.get, envs.get, registering=registering.__contains__))
    try:
        status, body = _error_of(front, f"http://{PROD}/")
        registering.clear()
        assert _via_proxy(front, f"http://{PROD}/")["env"] == "blue"
    finally:
        front.stop()

    assert status == 503
    assert body["error"] == f"environment blue ({PROD}): its instance is registering with the load balancer"


def test_a_failing_version_answers_health_503_and_everything_else_as_usual(
    envs: dict[str, int], owners: dict[str, str]
) -> None:
    front = Front(cname_router(owners.get, envs.get, failing={"blue"}.__contains__))
    try:
        status, body = _error_of(front, f"http://{PROD}/health")
        page = _via_proxy(front, f"http://{PROD}/")
        other = _via_proxy(front, f"http://{STAGING}/health")
    finally:
        front.stop()

    assert (status, body["status"]) == (503, "unavailable")
    assert page["env"] == "blue"
    assert other["env"] == "green"


def test_every_answer_of_a_load_balancer_is_observed_with_who_answered_it(
    envs: dict[str, int], owners: dict[str, str]
) -> None:
    seen: list[Served] = []
    registering: set[str] = set()
    front = Front(
        cname_router(owners.get, envs.get, registering.__contains__, failing={"green"}.__contains__),
        observers=[seen.append],
    )
    try:
        _via_proxy(front, f"http://{PROD}/")
        _error_of(front, f"http://{STAGING}/health")  # green fails its health check: the target answers 503
        registering.add("blue")
        _error_of(front, f"http://{PROD}/")  # the load balancer answers 503 itself
        _error_of(front, "http://nobody.example.com/")  # no environment: no load balancer answered
    finally:
        front.stop()

    assert [(s.environment, s.host, s.status, s.target_s is not None) for s in seen] == [
        ("blue", PROD, 200, True),
        ("green", STAGING, 503, True),
        ("blue", PROD, 503, False),
    ]
    assert seen[0].target_s is not None and 0 <= seen[0].target_s < 10


def test_an_erroring_version_answers_one_counted_request_in_20_with_500_and_health_stays_200(
    envs: dict[str, int], owners: dict[str, str]
) -> None:
    seen: list[Served] = []
    front = Front(cname_router(owners.get, envs.get, erroring={"blue"}.__contains__), observers=[seen.append])
    statuses = []
    try:
        for _ in range(2 * ERROR_EVERY):
            try:
                statuses.append(200 if _via_proxy(front, f"http://{PROD}/")["env"] == "blue" else 0)
            except urllib.error.HTTPError as error:
                statuses.append(error.code)
                assert "errors-after-swap" in json.loads(error.read())["error"]
        health = [_via_proxy(front, f"http://{PROD}/health")["env"] for _ in range(ERROR_EVERY)]
        staging = [_via_proxy(front, f"http://{STAGING}/")["env"] for _ in range(ERROR_EVERY)]
    finally:
        front.stop()

    assert statuses.count(500) == 2 and statuses.count(200) == 2 * ERROR_EVERY - 2
    assert set(health) == {"blue"} and set(staging) == {"green"}
    assert sum(1 for s in seen if s.status == 500 and s.target_s is not None) == 2, "the target's 5xx"


def test_a_route_with_a_prefix_takes_it_off_the_path_as_api_gateway_takes_its_stage(
    envs: dict[str, int],
) -> None:
    api = "abc123.execute-api.us-east-1.amazonaws.com"
    running = Front(lambda host: Route(envs["blue"], strip_prefix="/api") if host == api else Route(None))
    try:
        staged = _via_proxy(running, f"http://{api}/api/deployments/d-1?x=1")
        bare = _via_proxy(running, f"http://{api}/api")
        elsewhere = _via_proxy(running, f"http://{api}/apis/health")
    finally:
        running.stop()

    assert staged["path"] == "/deployments/d-1?x=1"
    assert bare["path"] == "/"
    assert elsewhere["path"] == "/apis/health"
