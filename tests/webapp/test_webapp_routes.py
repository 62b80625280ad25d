"""The HTTP surface in process: negotiation, status codes, JSON errors, 503 while the store is down."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest

from webapp.access_log import with_access_log
from webapp.routes import make_app
from webapp.store.base import Deploy, State, StoreUnavailable
from webapp.store.memory import MemoryStore
from webapp.store.sqlite import SqliteStore

FIRST_START = Deploy("1.0.42-3f2a1bc", "e145056043e1", datetime(2026, 11, 26, 10, 26, 18, tzinfo=UTC))
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def call(
    app: Any, path: str = "/", method: str = "GET", accept: str | None = None, **environ_extra: str
) -> tuple[int, dict[str, str], str]:
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": path, "wsgi.errors": io.StringIO()}
    environ.update(environ_extra)
    if accept is not None:
        environ["HTTP_ACCEPT"] = accept
    setup_testing_defaults(environ)
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen["status"], seen["headers"] = int(status.split()[0]), {k.lower(): v for k, v in headers}

    body = b"".join(app(environ, start_response)).decode()
    return seen["status"], seen["headers"], body


class DownStore(MemoryStore):
    """A store that is unreachable until `up` is set, like a database behind a broken network."""

    up = False

    def _check(self) -> None:
        if not self.up:
            raise StoreUnavailable("MongoDB: cannot reach 10.0.0.9:27017 (timed out)")

    def count_call(self, version: str) -> State:
        self._check()
        return super().count_call(version)

    def record_deploy(self, deploy: Deploy) -> None:
        self._check()
        super().record_deploy(deploy)

    def ping(self) -> None:
        self._check()


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def app(store: MemoryStore) -> Any:
    return make_app(store, FIRST_START)


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
def test_get_root_counts_and_answers_json(app: Any, accept: str | None) -> None:
    status, headers, body = call(app, accept=accept)
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert headers["cache-control"] == "no-store"
    assert json.loads(body) == {
        "version": "1.0.42-3f2a1bc",
        "hostname": "e145056043e1",
        "calls": 1,
        "calls_by_version": {"1.0.42-3f2a1bc": 1},
        "deploys": [
            {"version": "1.0.42-3f2a1bc", "hostname": "e145056043e1", "deployed_at": "2026-11-26T10:26:18Z"}
        ],
    }
    assert json.loads(call(app, accept=accept)[2])["calls"] == 2


def test_get_root_answers_html_to_a_browser(app: Any) -> None:
    call(app)
    status, headers, body = call(app, accept=BROWSER)
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert 'id="calls">2<' in body and "<svg" in body


def test_health_answers_ok_and_never_counts(app: Any, store: MemoryStore) -> None:
    for _ in range(3):
        status, headers, body = call(app, "/health")
        assert (status, headers["content-type"]) == (200, "application/json")
        assert json.loads(body) == {"status": "ok", "version": "1.0.42-3f2a1bc"}
    assert store.read_state().calls == 0


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_browsers_favicon_request_gets_204_cached_and_never_counts(
    app: Any, store: MemoryStore, method: str
) -> None:
    for _ in range(2):
        status, headers, body = call(app, "/favicon.ico", method=method, accept="image/avif,image/webp,*/*")
        assert (status, body) == (204, "")
        assert "max-age=" in headers["cache-control"]
    assert store.read_state().calls == 0


BODY_HEADERS = [
    {"CONTENT_LENGTH": "5"},
    {"CONTENT_LENGTH": str(2**40)},
    {"HTTP_TRANSFER_ENCODING": "chunked"},
]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/"), ("HEAD", "/"), ("GET", "/health"), ("GET", "/favicon.ico"), ("POST", "/"), ("PUT", "/x")],
)
@pytest.mark.parametrize("body", BODY_HEADERS)
def test_a_request_with_a_body_is_refused_413_on_every_route_and_never_counts(
    app: Any, store: MemoryStore, method: str, path: str, body: dict[str, str]
) -> None:
    status, _, text = call(app, path, method=method, **body)
    assert status == 413
    if method != "HEAD":
        assert json.loads(text) == {"error": "no route takes a request body", "status": 413}
    assert store.read_state().calls == 0


def test_an_empty_content_length_is_no_body(app: Any) -> None:
    assert call(app, "/", CONTENT_LENGTH="0")[0] == 200
    assert call(app, "/", CONTENT_LENGTH="")[0] == 200


# waitress hands the app the path percent-decoded, as latin-1 characters (PEP 3333): "%ff" arrives as "\xff".
@pytest.mark.parametrize("path", ["/\xff", "/\xc0\xaf", "/\xe9", "/health\xff", "/\xed\xa0\x80"])
def test_a_path_that_is_not_utf8_is_refused_400_and_never_counts(
    app: Any, store: MemoryStore, path: str
) -> None:
    status, headers, body = call(app, path)
    assert (status, headers["content-type"]) == (400, "application/json")
    assert json.loads(body) == {"error": "the path is not valid UTF-8", "status": 400}
    assert store.read_state().calls == 0


def test_a_utf8_path_is_routed_as_usual(app: Any) -> None:
    assert call(app, "/caf\xc3\xa9")[0] == 404  # "/café", UTF-8 encoded: a path like any other


class FailingWrites(MemoryStore):
    """Reads work, writes fail: a full disk."""

    def count_call(self, version: str) -> State:
        raise StoreUnavailable("SQLite /data/webapp.sqlite3: cannot count a call: database or disk is full")

    def probe_write(self) -> None:
        raise StoreUnavailable("SQLite /data/webapp.sqlite3: cannot write the health probe: disk is full")


def test_health_answers_503_while_the_last_count_failed_though_the_store_reads() -> None:
    store = FailingWrites()
    app = make_app(store, FIRST_START)
    assert call(app, "/health")[0] == 503, "no call yet: the probe write fails"
    assert call(app)[0] == 503
    status, _, body = call(app, "/health")
    assert status == 503
    assert json.loads(body)["error"].endswith("cannot count a call: database or disk is full")
    assert call(app, method="HEAD")[0] == 200, "the store still reads"


def test_health_answers_from_the_last_count_without_writing_while_calls_come(app: Any) -> None:
    probes: list[int] = []

    class Counting(MemoryStore):
        def probe_write(self) -> None:
            probes.append(1)

    app = make_app(Counting(), FIRST_START)
    call(app)
    for _ in range(5):
        assert call(app, "/health")[0] == 200
    assert probes == [], "a count less than a second ago answers for the write path"


@pytest.mark.parametrize("accept", [None, BROWSER])
def test_head_root_answers_like_get_without_counting(
    app: Any, store: MemoryStore, accept: str | None
) -> None:
    """Uptime monitors probe with HEAD; Bottle would route it to GET and count every probe."""
    call(app)
    _, get_headers, _ = call(app, accept=accept)
    for _ in range(3):
        status, headers, body = call(app, method="HEAD", accept=accept)
        assert (status, body) == (200, "")
        assert headers["content-type"] == get_headers["content-type"]
        assert headers["cache-control"] == "no-store"
    assert store.read_state().calls == 2
    assert json.loads(call(app)[2])["calls"] == 3


def test_head_root_answers_503_while_the_store_is_down() -> None:
    store = DownStore()
    app = make_app(store, FIRST_START)
    assert call(app, method="HEAD")[:3:2] == (503, "")
    store.up = True
    assert call(app, method="HEAD")[0] == 200
    assert store.read_state().calls == 0


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/nope", 404), ("GET", "/health/", 404), ("POST", "/", 405), ("DELETE", "/health", 405)],
)
def test_errors_are_json(app: Any, method: str, path: str, status: int) -> None:
    got, headers, body = call(app, path, method=method, accept=BROWSER)
    assert got == status
    assert headers["content-type"] == "application/json"
    document = json.loads(body)
    assert document["status"] == status and document["error"]
    assert "<" not in body


def test_a_405_names_the_allowed_methods(app: Any) -> None:
    assert call(app, "/", method="PUT")[1]["allow"] == "GET,HEAD"


def test_an_unexpected_failure_is_a_json_500_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    class BrokenStore(MemoryStore):
        def count_call(self, version: str) -> State:
            raise RuntimeError("bug in the adapter")

    status, headers, body = call(make_app(BrokenStore(), FIRST_START))
    assert (status, headers["content-type"]) == (500, "application/json")
    assert json.loads(body) == {"error": "500 Internal Server Error", "status": 500}
    assert "bug in the adapter" not in body
    assert any("GET / failed with 500" in r.getMessage() and r.exc_info for r in caplog.records)


def test_store_down_gives_503_and_the_app_recovers_by_itself(caplog: pytest.LogCaptureFixture) -> None:
    store = DownStore()
    app = make_app(store, FIRST_START)
    for accept in (None, BROWSER):
        status, headers, body = call(app, accept=accept)
        assert (status, headers["content-type"]) == (503, "application/json")
        assert json.loads(body) == {
            "error": "store unavailable: MongoDB: cannot reach 10.0.0.9:27017 (timed out)",
            "status": 503,
        }
    status, _, body = call(app, "/health")
    assert status == 503
    assert json.loads(body)["status"] == "unavailable" and "10.0.0.9" in json.loads(body)["error"]
    assert any("store unavailable" in r.getMessage() for r in caplog.records)

    store.up = True
    assert call(app, "/health")[0] == 200
    document = json.loads(call(app)[2])
    assert document["calls"] == 1
    assert [d["version"] for d in document["deploys"]] == ["1.0.42-3f2a1bc"], "deploy recorded once back up"


def test_the_deploy_entry_is_stamped_with_the_start_time_even_when_recorded_late(tmp_path: Path) -> None:
    store = SqliteStore.open(tmp_path / "db.sqlite3", timeout_s=1)
    app = make_app(store, FIRST_START)
    call(app)
    assert store.read_state().deploys == (FIRST_START,)
    store.close()


def test_access_log_writes_one_line_per_request(app: Any, caplog: pytest.LogCaptureFixture) -> None:
    logged = with_access_log(app)
    caplog.set_level("INFO", logger="webapp.access")
    call(logged, "/health")
    call(logged, "/missing")
    lines = [r.getMessage() for r in caplog.records if r.name == "webapp.access"]
    assert len(lines) == 2
    assert '"GET /health HTTP/1.0" 200 ' in lines[0]
    assert '"GET /missing HTTP/1.0" 404 ' in lines[1]


FORGED = '1999-01-01 00:00:00,000 INFO webapp.access 10.0.0.9 "GET /admin HTTP/1.1" 200 2 0.1ms'


def access_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "webapp.access"]


def test_access_log_shows_the_target_as_sent_so_a_request_cannot_forge_a_line(
    app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="webapp.access")
    # waitress hands the app the decoded path (PATH_INFO) and the target as sent (REQUEST_URI).
    sent = "/x%0a" + FORGED.replace(" ", "%20")
    call(with_access_log(app), "/x\n" + FORGED, REQUEST_URI=sent)
    (line,) = access_lines(caplog)
    assert "\n" not in line
    assert '"GET ' + sent.replace('"', '\\"') + ' HTTP/1.0" 404 ' in line


def test_access_log_escapes_control_characters_quotes_and_non_ascii(
    app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="webapp.access")
    logged = with_access_log(app)
    call(logged, "/ignored", REQUEST_URI='/a\x1b[2J"b\\\x7f\xe9\r')  # raw bytes, as waitress passes them
    call(logged, "/x\n\xe9 y")  # a server without REQUEST_URI: the decoded path is encoded back
    first, second = access_lines(caplog)
    assert r'"GET /a\x1b[2J\"b\\\x7f\xe9\x0d HTTP/1.0" 404 ' in first
    assert '"GET /x%0A%E9%20y HTTP/1.0" 400 ' in second, "a lone \\xe9 is not UTF-8: refused"
    for line in (first, second):
        assert line.isascii() and line.isprintable()
