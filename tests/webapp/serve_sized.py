"""`python serve_sized.py PORT [IDLE_TIMEOUT_S]`: `webapp.server.serve` with an app answering `/<n>` with n
bytes, so the tests can check that the server delivers responses of any size, written by the worker thread or
by the loop, and how it treats connections (an idle timeout shorter than the default 65 s)."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterable
from typing import Any

from webapp.connection_policy import DEFAULT_IDLE_TIMEOUT_S
from webapp.server import ServerLimits, serve


def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    size = int(environ["PATH_INFO"].strip("/") or 0)
    body = bytes(i % 251 for i in range(size))
    start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(size))])
    return [body[i : i + 65536] for i in range(0, size, 65536)] or [b""]


if __name__ == "__main__":
    listener = socket.create_server(("127.0.0.1", int(sys.argv[1])))
    print("ready", flush=True)
    idle_timeout_s = float(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_IDLE_TIMEOUT_S
    serve(
        app, listener, ServerLimits(4, connection_limit=100, read_timeout_s=10, idle_timeout_s=idle_timeout_s)
    )
