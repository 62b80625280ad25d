"""The emulation as a server: moto's server with the Elastic Beanstalk and CloudFormation extensions, on
loopback only, in this process (deploy hooks stay plain Python callables, the backend is shared with the
caller):

    url, stop = start_server(port=0)    # port 0 picks a free one; stop() shuts it down and resets moto

The port is bound before this returns: a busy port raises OSError (EADDRINUSE) here, and nothing is printed.
Each request is logged as moto's server logs it (werkzeug's "werkzeug" logger), in colour only when stderr
is a terminal.
"""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Callable

from moto.moto_api._internal.models import moto_api_backend
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import LISTEN_QUEUE, make_server
from werkzeug.urls import uri_to_iri

from moto_ext.installation import install

HOST = "127.0.0.1"
# What werkzeug escapes in a logged request line: control characters, and the backslash itself.
_CONTROL_CHARACTERS = {code: rf"\x{code:02x}" for code in [*range(0x20), *range(0x7F, 0xA0)]} | {
    ord("\\"): r"\\"
}


def start_server(port: int = 0) -> tuple[str, Callable[[], None]]:
    """Start moto's server with the extension in this process; answers (endpoint URL, stop).

    What moto's ThreadedMotoServer does, except that the port is bound here. moto keeps its state per
    process, not per server: `stop` resets it, so the emulated account dies with its server, and the next
    server in this process starts from an empty account.
    """
    install()
    listener = _listening_socket(port)
    try:
        app = DomainDispatcherApplication(create_backend_app)
        server = make_server(HOST, port, app, threaded=True, request_handler=RequestLog, fd=listener.fileno())
    finally:
        listener.close()  # the server serves its own duplicate of the socket
    thread = threading.Thread(target=server.serve_forever, name="moto-ext-server", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        moto_api_backend.reset()

    return f"http://{HOST}:{server.port}", stop


def _listening_socket(port: int) -> socket.socket:
    """A TCP socket listening on HOST:port (as werkzeug's own would: address reuse, its backlog); OSError
    when the port is taken. werkzeug binds by itself only to print the error twice and exit."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, port))
        listener.listen(LISTEN_QUEUE)
    except BaseException:
        listener.close()
        raise
    return listener


class RequestLog(MotoRequestHandler):
    """moto's request handler, logging each request as werkzeug does, without its ANSI colours when stderr
    is not a terminal (a log file, a pipe, CI)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if _terminal(sys.stderr):
            super().log_request(code, size)
            return
        try:
            line = f"{self.command} {uri_to_iri(self.path)} {self.request_version}"
        except AttributeError:  # no path: the request line was bad
            line = self.requestline
        self.log("info", '"%s" %s %s', line.translate(_CONTROL_CHARACTERS), code, size)


def _terminal(stream: object) -> bool:
    try:
        return bool(getattr(stream, "isatty", lambda: False)())
    except ValueError:  # closed
        return False
