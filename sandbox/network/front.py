"""The CNAME front: what DNS and the load balancer do for `<prefix>.<region>.elasticbeanstalk.com`.

An HTTP server on loopback that forwards each request to the environment owning the requested CNAME at
that moment. It serves both shapes a client sends: absolute-URI requests from an HTTP client whose
`HTTP_PROXY` points here (`GET http://app-prod.us-east-1.elasticbeanstalk.com/health`) and plain requests
with that `Host` header. A route may take a prefix off the path first, as API Gateway takes its stage
off. A front started with a fixed `host` (the production front) sends everything to
that CNAME, whatever the request names, so one loopback URL always reaches production.
Bodies stream both ways; when no environment can answer, the client gets a JSON 502 (503 while the
environment's instances register with its load balancer); an environment whose version fails its health
check (the `fails-after-swap` fault) answers `/health` with a JSON 503 as the web app does when it fails;
one whose users meet errors (`errors-after-swap`) answers one counted request (`GET /`) in ERROR_EVERY with
a JSON 500, without reaching the web app, while its `/health` stays 200.

Each answer an environment's load balancer gave is handed to the front's observers (`Served`): who served
it, its status, and whether a target answered (with its response time) or the load balancer itself did.
"""

from __future__ import annotations

import http.client
import io
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from sandbox.network.ports import LOOPBACK

CHUNK = 64 * 1024
UPSTREAM_TIMEOUT_S = 60.0
ERROR_EVERY = 20  # errors-after-swap: one counted request in 20 (5%) answered 500
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


@dataclass(frozen=True)
class Route:
    """Where a CNAME leads right now: a loopback port, or the reason there is none (and its status).
    `failing_health`: the version there fails its health check (its /health answers 503); `erroring`: its
    users meet errors; `environment`: whose load balancer answers (None when no environment owns it)."""

    port: int | None
    reason: str = ""
    status: int = 502
    failing_health: bool = False
    strip_prefix: str = ""  # API Gateway's stage ("/api"): taken off the path before forwarding
    environment: str | None = None
    erroring: bool = False


@dataclass(frozen=True)
class Served:
    """One answer of an environment's load balancer: `target_s` is the target's response time (None when
    the load balancer answered itself: no instance, registering, the instance did not answer)."""

    environment: str
    host: str
    status: int
    target_s: float | None
    at: float  # time.time()


Router = Callable[[str], Route]
Observer = Callable[[Served], None]


def _never(_env_name: str) -> bool:
    return False


def cname_router(
    owner_of: Callable[[str], str | None],
    port_of: Callable[[str], int | None],
    registering: Callable[[str], bool] = _never,
    failing: Callable[[str], bool] = _never,
    erroring: Callable[[str], bool] = _never,
) -> Router:
    """Route a host name through `owner_of(cname) -> env name` and `port_of(env name) -> port`;
    `registering(env name)`: its instance is not yet registered with the load balancer (503)."""

    def route(host: str) -> Route:
        env_name = owner_of(host)
        if env_name is None:
            return Route(None, f"no environment owns the CNAME {host}")
        shown = f"{env_name} ({host})"
        return environment_route(env_name, port_of, registering, failing, shown=shown, erroring=erroring)

    return route


def environment_route(
    env_name: str,
    port_of: Callable[[str], int | None],
    registering: Callable[[str], bool] = _never,
    failing: Callable[[str], bool] = _never,
    shown: str | None = None,
    erroring: Callable[[str], bool] = _never,
) -> Route:
    """Where the load balancer of `env_name` sends a request right now (`shown` names it in reasons)."""
    port = port_of(env_name)
    if port is None:
        return Route(None, f"environment {shown or env_name} has no running instance", environment=env_name)
    if registering(env_name):
        reason = f"environment {shown or env_name}: its instance is registering with the load balancer"
        return Route(None, reason, 503, environment=env_name)
    return Route(port, failing_health=failing(env_name), environment=env_name, erroring=erroring(env_name))


class Front:
    """A running front; `url` is its loopback address, `stop()` shuts it down."""

    def __init__(
        self, router: Router, host: str | None = None, port: int = 0, observers: Sequence[Observer] = ()
    ) -> None:
        self._server = _FrontServer((LOOPBACK, port), _FrontHandler)
        self._server.router = router
        self._server.fixed_host = host
        self._server.observers = tuple(observers)
        self._server.counted = itertools.count(1)
        self._thread = threading.Thread(target=self._server.serve_forever, name="front", daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


class _FrontServer(ThreadingHTTPServer):
    daemon_threads = True
    router: Router
    fixed_host: str | None
    observers: tuple[Observer, ...]
    counted: Iterator[int]  # errors-after-swap: every ERROR_EVERY-th counted request is a 500


class _FrontHandler(BaseHTTPRequestHandler):
    server: _FrontServer
    protocol_version = "HTTP/1.1"
    server_version = "sandbox-front"

    def do_GET(self) -> None:
        self._forward()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def do_CONNECT(self) -> None:
        self._error(501, "the sandbox front forwards plain HTTP only (no CONNECT tunnels)")

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the front is infrastructure; its clients report what matters."""

    def _forward(self) -> None:
        self._started_reply = False
        host, path = _target(self.path, self.headers.get("Host", ""))
        if self.server.fixed_host is not None:
            host = self.server.fixed_host
        if not host:
            self._error(400, "the request names no host (absolute URI or Host header)")
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self._error(400, "Content-Length is not a number")
            return
        route = self.server.router(host)
        if route.port is None:
            self._error(route.status, route.reason)
            self._observe(route, host, route.status, None)
            return
        if route.strip_prefix and (path == route.strip_prefix or path.startswith(route.strip_prefix + "/")):
            path = path[len(route.strip_prefix) :] or "/"
        resource = path.split("?", 1)[0]
        if route.failing_health and resource == "/health":
            self._unhealthy(f"the version behind {host} fails its health check")
            self._observe(route, host, 503, 0.0)
            return
        counted = self.command == "GET" and resource == "/"
        if route.erroring and counted and next(self.server.counted) % ERROR_EVERY == 0:
            self._error(500, f"errors-after-swap: the version behind {host} failed this request")
            self._observe(route, host, 500, 0.0)
            return
        upstream = http.client.HTTPConnection(LOOPBACK, route.port, timeout=UPSTREAM_TIMEOUT_S)
        try:
            status, target_s = self._relay(upstream, host, path, length)
            self._observe(route, host, status, target_s)
        except (ConnectionError, TimeoutError, http.client.HTTPException) as error:
            if not self._started_reply:
                self._error(502, f"the environment behind {host} did not answer: {error}")
                self._observe(route, host, 502, None)
            else:
                self.close_connection = True
        finally:
            upstream.close()

    def _observe(self, route: Route, host: str, status: int, target_s: float | None) -> None:
        if route.environment is None:
            return  # no environment owns the name: no load balancer answered
        served = Served(route.environment, host, status, target_s, time.time())
        for observer in self.server.observers:
            observer(served)

    def _relay(
        self, upstream: http.client.HTTPConnection, host: str, path: str, length: int
    ) -> tuple[int, float]:
        """Forward the request and stream the answer back; its status and the target's response time
        (from the request sent to the answer's headers, as ELB's TargetResponseTime)."""
        upstream.putrequest(self.command, path, skip_host=True, skip_accept_encoding=True)
        upstream.putheader("Host", host)
        for name, value in self.headers.items():
            if name.lower() not in HOP_BY_HOP and name.lower() != "host":
                upstream.putheader(name, value)
        upstream.putheader("X-Forwarded-For", self.client_address[0])
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        if chunked:
            upstream.putheader("Transfer-Encoding", "chunked")
        upstream.endheaders()
        for piece in _chunked_body(self.rfile) if chunked else _sized_body(self.rfile, length):
            upstream.send(f"{len(piece):X}\r\n".encode() + piece + b"\r\n" if chunked else piece)
        if chunked:
            upstream.send(b"0\r\n\r\n")

        sent = time.perf_counter()
        response = upstream.getresponse()
        target_s = time.perf_counter() - sent
        self._started_reply = True
        self.send_response_only(response.status, response.reason)
        declared_length = response.getheader("Content-Length")
        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        if declared_length is None and self.command != "HEAD" and response.status not in (204, 304):
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command == "HEAD":
            return response.status, target_s
        while piece := response.read1(CHUNK):
            self.wfile.write(piece)
        self.wfile.flush()
        return response.status, target_s

    def _unhealthy(self, message: str) -> None:
        self._answer(503, {"status": "unavailable", "error": message})

    def _error(self, status: int, message: str) -> None:
        self._answer(status, {"error": message, "status": status})

    def _answer(self, status: int, document: dict[str, object]) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def _target(request_target: str, host_header: str) -> tuple[str, str]:
    """(host name without port, origin-form path) from an absolute URI or the Host header."""
    if request_target.startswith(("http://", "https://")):
        parts = urlsplit(request_target)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return (parts.hostname or "").lower(), path
    return host_header.rsplit(":", 1)[0].strip().lower() if host_header else "", request_target


def _sized_body(stream: io.BufferedIOBase, length: int) -> Iterator[bytes]:
    while length > 0:
        piece = stream.read(min(CHUNK, length))
        if not piece:
            return
        length -= len(piece)
        yield piece


def _chunked_body(stream: io.BufferedIOBase) -> Iterator[bytes]:
    while True:
        size = int(stream.readline().split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while stream.readline().strip():  # trailers
                pass
            return
        yield stream.read(size)
        stream.read(2)
