"""A loopback HTTP receiver standing in for GitHub's REST API and a chat webhook in the controller's tests.

It records every request (method, path, headers, JSON body) and answers from a script: by default GitHub's
answers (201 with an id for a new deployment, 201 for a status) and 200 `ok` for the chat webhook; a test
queues other answers (`fail_next(500, times=...)`, a 429 with Retry-After, or a delay longer than the
controller's timeout).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHAT_PATH = "/services/T000/B000/XXXX"
GITHUB_TOKEN = "ghp_test-token"


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


class Receiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.script: list[tuple[str, Answer]] = []  # (path prefix, answer), first match used once
        self._ids = itertools.count(1001)
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver._handle(self)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def chat_url(self) -> str:
        return self.url + CHAT_PATH

    def fail_next(self, prefix: str, status: int, times: int = 1, **headers: str) -> None:
        with self._lock:
            self.script += [(prefix, Answer(status, dict(headers)))] * times

    def delay_next(self, prefix: str, seconds: float, times: int = 1) -> None:
        with self._lock:
            self.script += [(prefix, Answer(200, delay_s=seconds))] * times

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def chat(self) -> list[dict[str, Any]]:
        return [r.body for r in self.requests if r.path == CHAT_PATH]

    def github(self) -> list[Received]:
        return [r for r in self.requests if r.path.startswith("/repos/")]

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {"_raw": raw.decode(errors="replace")}
        headers = {name.lower(): value for name, value in handler.headers.items()}
        received = Received("POST", handler.path, headers, body, time.monotonic())
        with self._lock:
            self.requests.append(received)
            scripted = next((a for p, a in self.script if handler.path.startswith(p)), None)
            if scripted is not None:
                self.script.remove(next(x for x in self.script if x[1] is scripted))
        if scripted is not None and scripted.delay_s:
            time.sleep(scripted.delay_s)
        if scripted is not None and scripted.status >= 300:
            self._answer(handler, scripted.status, {"message": "scripted failure"}, scripted.headers)
            return
        if handler.path == CHAT_PATH:
            self._answer(handler, 200, None, {}, text=b"ok")
        elif handler.path.endswith("/deployments"):
            self._answer(handler, 201, {"id": next(self._ids), "environment": body.get("environment")}, {})
        else:
            self._answer(handler, 201, {"state": body.get("state")}, {})

    @staticmethod
    def _answer(
        handler: BaseHTTPRequestHandler,
        status: int,
        body: dict[str, Any] | None,
        headers: dict[str, str],
        text: bytes | None = None,
    ) -> None:
        payload = text if text is not None else json.dumps(body).encode()
        try:
            handler.send_response(status)
            for name, value in headers.items():
                handler.send_header(name.replace("_", "-"), value)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except OSError:
            pass  # the controller gave up waiting (a timeout test)


def receiving() -> Iterator[Receiver]:
    receiver = Receiver()
    try:
        yield receiver
    finally:
        receiver.close()
