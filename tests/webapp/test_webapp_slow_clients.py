"""Slow and hostile clients: they cannot lock others out, and a request not arriving in time is cut off.

Against a real `python -m webapp`, as a client reaching it without Beanstalk's proxy (`docker run -p`) would.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from webapp_process import WebappProcess, request, start_webapp

pytestmark = pytest.mark.slow

REQUEST = b"GET / HTTP/1.1\r\nHost: webapp\r\nAccept: application/json\r\n\r\n"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[WebappProcess]:
    started = start_webapp(tmp_path, sqlite_path=tmp_path / "webapp.sqlite3", WEB_READ_TIMEOUT_S=2)
    yield started
    started.kill()


class SlowClients:
    """`count` connections sending a request's headers one byte per `interval_s`, until stopped."""

    def __init__(self, port: int, count: int, interval_s: float) -> None:
        self.sockets = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)]
        self.interval_s = interval_s
        self.cut_off: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()

    def _trickle(self) -> None:
        for offset in range(len(REQUEST) - 2):  # never the final CRLF: the request stays incomplete
            if self._stop.wait(self.interval_s):
                return
            for index, sock in enumerate(self.sockets):
                if index in self.cut_off:
                    continue
                try:
                    sock.sendall(REQUEST[offset : offset + 1])
                except OSError:
                    self.cut_off.add(index)

    def closed_by_server(self) -> int:
        """How many of the connections the server has closed (end of stream or reset on a read)."""
        closed = 0
        for sock in self.sockets:
            sock.setblocking(False)
            try:
                closed += sock.recv(1) == b""
            except BlockingIOError:
                pass
            except OSError:
                closed += 1
        return closed

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        for sock in self.sockets:
            sock.close()


def test_many_slow_clients_do_not_lock_out_a_normal_one(tmp_path: Path) -> None:
    """150 connections trickling their headers, more than waitress's default limit of 100 connections. The
    read timeout is long here, so the slow connections stay open throughout: a normal client must be served
    while they hold theirs, not once the server cuts them off."""
    server = start_webapp(tmp_path, sqlite_path=tmp_path / "webapp.sqlite3", WEB_READ_TIMEOUT_S=120)
    slow = SlowClients(server.port, count=150, interval_s=0.5)
    try:
        time.sleep(1.0)  # every slow connection is accepted and has begun its request
        for _ in range(3):
            answer = request(server.port, "/", accept="application/json", timeout=30)
            assert answer.status == 200
        assert slow.closed_by_server() == 0 and not slow.cut_off, "the slow connections were cut off"
    finally:
        slow.stop()
        server.kill()


def test_a_request_not_received_in_full_within_the_read_timeout_is_cut_off(server: WebappProcess) -> None:
    slow = SlowClients(server.port, count=5, interval_s=0.2)
    silent = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        deadline = time.monotonic() + 10
        while slow.closed_by_server() < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert slow.closed_by_server() == 5, "connections trickling their headers for 2 s were kept open"
        assert silent.recv(1) == b"", "a connection that sent nothing for 2 s was kept open"
    finally:
        slow.stop()
        silent.close()
    assert "no complete request within 2s" in server.log()
    assert request(server.port, "/health").status == 200


def test_an_idle_keep_alive_connection_outlives_the_read_timeout(server: WebappProcess) -> None:
    """A load balancer keeps connections open between requests on purpose; only slow requests are cut."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", "/health")
        assert conn.getresponse().read() and conn.sock is not None
        kept = conn.sock
        time.sleep(3.5)
        conn.request("GET", "/health")
        assert conn.getresponse().status == 200
        assert conn.sock is kept, "the connection was reopened"
    finally:
        conn.close()
