"""The demo's stand-in for GitHub's REST API and a chat's incoming webhook: one loopback HTTP server that
answers as they do (a new GitHub deployment gets an id, a status is created, the webhook says `ok`) and keeps
what arrived, so the demo can show the GitHub statuses and chat messages of its deployments.

    with Inbox() as inbox:   # GITHUB_API_URL=inbox.url, CHAT_WEBHOOK_URL=inbox.chat_url
        ... inbox.take() -> the lines that arrived since the last take
"""

from __future__ import annotations

import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from sandbox.network.ports import LOOPBACK

CHAT_PATH = "/chat/incoming-webhook"
MAX_BODY = 1 << 20


class Inbox:
    def __init__(self) -> None:
        self._lines: list[str] = []
        self._deployments: dict[int, str] = {}  # GitHub deployment id -> environment
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                inbox._receive(self)

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://{LOOPBACK}:{self._server.server_address[1]}"
        self.chat_url = self.url + CHAT_PATH
        self._thread = threading.Thread(target=self._server.serve_forever, name="inbox", daemon=True)

    def __enter__(self) -> Inbox:
        self._thread.start()
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def take(self) -> list[str]:
        with self._lock:
            lines, self._lines = self._lines, []
        return lines

    def _receive(self, handler: BaseHTTPRequestHandler) -> None:
        length = min(int(handler.headers.get("Content-Length") or 0), MAX_BODY)
        try:
            body = json.loads(handler.rfile.read(length) or b"{}")
        except ValueError:
            body = {}
        path = handler.path
        if path == CHAT_PATH:
            self._note(f"chat:   {body.get('text', '')}")
            self._answer(handler, 200, b"ok")
        elif path.startswith("/repos/") and path.endswith("/deployments"):
            number = next(self._ids)
            with self._lock:
                self._deployments[number] = str(body.get("environment"))
            ref = str(body.get("ref"))[:12]
            self._note(f"GitHub: {body.get('environment')} deployment #{number} of {ref}")
            self._answer(handler, 201, json.dumps({"id": number}).encode())
        elif path.startswith("/repos/") and path.endswith("/statuses"):
            number = int(path.split("/")[-2]) if path.split("/")[-2].isdigit() else 0
            where = body.get("environment_url")
            shown = f"{body.get('state')}: {body.get('description', '')}" + (f" ({where})" if where else "")
            self._note(f"GitHub: {self._deployments.get(number, '?')} deployment #{number} {shown}")
            self._answer(handler, 201, json.dumps({"state": body.get("state")}).encode())
        else:
            self._answer(handler, 404, b'{"message": "Not Found"}')

    def _note(self, line: str) -> None:
        with self._lock:
            self._lines.append(line)

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, status: int, payload: bytes) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)
