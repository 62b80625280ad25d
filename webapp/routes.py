"""The HTTP surface (Bottle): `GET /` (counted), `HEAD /`, `GET /health`, `GET /favicon.ico` (204, so that
browsers stop asking and no 404 fills the log), and JSON for every error.

Thin shell: it asks the store, hands the state to the pure view, and turns store outages into `503`.
Before any route: a request with a body is refused with `413` (no route takes one; the server has not read
it, `channel.py`), and a path that is not UTF-8 with `400` (Bottle would drop the bytes it cannot decode, and
`/%ff` would count as `GET /`). `/health` follows this process's writes (`health.py`).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import bottle

from webapp.health import WriteHealth
from webapp.negotiation import prefers_html
from webapp.store.base import Deploy, State, Store, StoreUnavailable
from webapp.view import state_document, state_page

log = logging.getLogger(__name__)

JSON = "application/json"
HTML = "text/html; charset=utf-8"
FAVICON_CACHE = "public, max-age=604800"  # a week: browsers ask again at most that often


def make_app(store: Store, first_start: Deploy) -> bottle.Bottle:
    """The WSGI app for the instance described by `first_start` (its version, host and start time).

    Records that start in the store now, or, while the store is down, on the first request that reaches it."""
    app = bottle.Bottle(catchall=True)
    stamp = DeployStamp(store, first_start)
    health = WriteHealth(store.probe_write)
    try:
        stamp.ensure_recorded()
    except StoreUnavailable as error:
        log.error("store unavailable at start, deploy record deferred to the first request: %s", error)
    version, hostname = first_start.version, first_start.hostname

    def answer_state(read: Callable[[], State], failure: str) -> str:
        try:
            stamp.ensure_recorded()
            state = read()
        except StoreUnavailable as error:
            log.error("%s, store unavailable (version %s): %s", failure, version, error)
            return _json({"error": f"store unavailable: {error}", "status": 503}, status=503)
        _no_store()
        if prefers_html(bottle.request.get_header("Accept")):
            bottle.response.content_type = HTML
            return state_page(state, version, hostname)
        return _json(state_document(state, version, hostname))

    def count_call() -> State:
        try:
            state = store.count_call(version)
        except StoreUnavailable as error:
            health.count_failed(error)
            raise
        health.count_succeeded()
        return state

    @app.hook("before_request")
    def refuse_what_no_route_takes() -> None:
        environ = bottle.request.environ
        if environ.get("CONTENT_LENGTH", "0") not in ("", "0") or "HTTP_TRANSFER_ENCODING" in environ:
            # The server has not read the body, and closes the connection after this answer (channel.py).
            raise bottle.HTTPError(413, "no route takes a request body")
        try:
            environ["bottle.raw_path"].encode("latin-1").decode("utf-8")
        except UnicodeError:
            raise bottle.HTTPError(400, "the path is not valid UTF-8") from None

    @app.get("/")
    def index() -> str:
        return answer_state(count_call, "GET / not counted")

    @app.route("/", method="HEAD")
    def index_head() -> str:
        """Only `GET /` counts: HEAD (uptime monitors) gets GET's headers from the state as it is; Bottle
        routes HEAD to GET when no HEAD route exists, and drops the body."""
        return answer_state(store.read_state, "HEAD /")

    @app.get("/health")
    def health_check() -> str:
        _no_store()
        problem = health.problem()
        if problem is None:
            try:
                stamp.ensure_recorded()
            except StoreUnavailable as error:
                problem = str(error)
        if problem is not None:
            log.error("GET /health: store unavailable (version %s): %s", version, problem)
            return _json({"status": "unavailable", "version": version, "error": problem}, status=503)
        return _json({"status": "ok", "version": version})

    @app.get("/favicon.ico")
    def favicon() -> str:
        bottle.response.status = 204
        bottle.response.set_header("Cache-Control", FAVICON_CACHE)
        return ""

    def error_page(error: bottle.HTTPError) -> str:
        if error.status_code >= 500:
            log.error(
                "%s %s failed with %s",
                bottle.request.method,
                bottle.request.path,
                error.status_line,
                exc_info=error.exception if isinstance(error.exception, BaseException) else None,
            )
        message = error.body if isinstance(error.body, str) and error.status_code < 500 else error.status_line
        return _json({"error": message, "status": error.status_code}, status=error.status_code)

    app.default_error_handler = error_page
    return app


class DeployStamp:
    """Records this instance's first start once; retried by later requests while the store is down."""

    def __init__(self, store: Store, first_start: Deploy) -> None:
        self._store = store
        self._first_start = first_start
        self._recorded = threading.Event()

    def ensure_recorded(self) -> None:
        if self._recorded.is_set():
            return
        self._store.record_deploy(self._first_start)  # idempotent, so racing threads are harmless
        self._recorded.set()


def _json(body: dict[str, Any], status: int = 200) -> str:
    bottle.response.status = status
    bottle.response.content_type = JSON
    return json.dumps(body, ensure_ascii=False)


def _no_store() -> None:
    bottle.response.set_header("Cache-Control", "no-store")
