"""The server delivers every response whole: small ones sent by the worker thread that wrote them, large ones
streamed by the server's loop, to clients reading fast, slowly, or pipelining requests."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from webapp_process import REPO, free_port

SERVE_SIZED = Path(__file__).with_name("serve_sized.py")


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    chosen = free_port()
    server = subprocess.Popen(
        [sys.executable, str(SERVE_SIZED), str(chosen)],
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None and server.stdout.readline() == "ready\n"
    yield chosen
    server.send_signal(signal.SIGTERM)
    assert server.wait(20) == 0


def expected(size: int) -> bytes:
    return bytes(i % 251 for i in range(size))


class Responses:
    """Reads responses (with a Content-Length) one after another from a socket, keeping what it read ahead."""

    def __init__(self, sock: socket.socket, pause_s: float = 0.0) -> None:
        self.sock, self.pause_s, self.buffer = sock, pause_s, b""

    def _more(self) -> None:
        if self.pause_s:
            time.sleep(self.pause_s)
        chunk = self.sock.recv(16384)
        assert chunk, "the connection closed in the middle of a response"
        self.buffer += chunk

    def next(self) -> tuple[bytes, bytes]:
        while b"\r\n\r\n" not in self.buffer:
            self._more()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        length_line = next(
            line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
        )
        length = int(length_line.split(b":")[1])
        while len(self.buffer) < length:
            self._more()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return head, body


@pytest.mark.parametrize(
    ("size", "receive_buffer"),
    [(0, 4096), (200, 4096), (60_000, 4096), (70_000, 4096), (3_000_000, None)],
)
def test_a_slow_reader_gets_the_whole_response(port: int, size: int, receive_buffer: int | None) -> None:
    """60 kB into a 4 kB receive buffer: the worker thread cannot send it all, the loop sends the rest."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        if receive_buffer:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.sendall(f"GET /{size} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        time.sleep(0.3)  # the response fills the socket buffers before the client starts reading
        head, body = Responses(sock, pause_s=0.001).next()
        assert head.startswith(b"HTTP/1.1 200 ")
        assert body == expected(size)


def test_pipelined_requests_on_one_connection_are_answered_in_order(port: int) -> None:
    sizes = [10, 70_000, 5, 300_000, 1]
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(b"".join(f"GET /{size} HTTP/1.1\r\nHost: t\r\n\r\n".encode() for size in sizes))
        responses = Responses(sock)
        for size in sizes:
            head, body = responses.next()
            assert head.startswith(b"HTTP/1.1 200 ")
            assert body == expected(size)
