"""Serving a WSGI app with waitress on a listening socket, and stopping gracefully on SIGTERM or SIGINT.

On the signal the server stops accepting connections, lets every request already received (or being
received) finish and its response reach the client, closes idle keep-alive connections, waits for its worker
threads, and only then closes its wake-up pipe: a thread finishing a response pulls that pipe, and a pipe
closed under it would fail, or, its descriptor number reused by a file opened meanwhile, write into that file.
"""

from __future__ import annotations

import logging
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import create_server

from webapp.channel import Channel
from webapp.connection_policy import DEFAULT_IDLE_TIMEOUT_S, ConnectionPolicy

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

log = logging.getLogger(__name__)

DRAIN_TIMEOUT_S = 20.0
LOOP_TIMEOUT_S = 1.0
# waitress counts its listening socket and its wake-up pipe among the connections it limits.
OWN_DISPATCHERS = 2
# A thread coming back from a blocking call (the store's fsync, a network round trip) needs the GIL back;
# with CPython's default 5 ms switch interval it waits up to 5 ms behind the request threads that are busy
# in Python, which doubled the SQLite commit latency under load. 0.2 ms keeps it near the disk's own.
GIL_SWITCH_INTERVAL_S = 0.0002


@dataclass(frozen=True)
class ServerLimits:
    threads: int
    connection_limit: int  # client connections this process holds open at once
    read_timeout_s: float  # the longest a client may take to send one request (connection_policy.py)
    idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S  # the longest a keep-alive connection stays idle


def serve(app: WSGIApplication, listener: socket.socket, limits: ServerLimits) -> None:
    """Serves on `listener` (bound and listening) until SIGTERM/SIGINT, then drains and returns."""
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    server: Any = create_server(
        app,
        sockets=[listener],
        threads=limits.threads,
        connection_limit=limits.connection_limit + OWN_DISPATCHERS,
        ident="webapp",
    )
    server.channel_class = Channel
    policy = ConnectionPolicy(
        limits.read_timeout_s, limits.idle_timeout_s, map_limit=limits.connection_limit + OWN_DISPATCHERS
    )
    stopping = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: finishing in-flight requests, then stopping", signal.Signals(signum).name)
        stopping.set()
        server.pull_trigger()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    log.info(
        "serving on http://%s:%s with %d threads",
        server.effective_host,
        server.effective_port,
        limits.threads,
    )
    try:
        while not stopping.is_set():
            wasyncore.loop(timeout=LOOP_TIMEOUT_S, map=server._map, use_poll=True, count=1)
            policy.enforce(server._map)
        _drain(server, policy)
    finally:
        _stop_threads_then_close(server)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("stopped")


def _drain(server: Any, policy: ConnectionPolicy) -> None:
    server.accepting = False
    wasyncore.dispatcher.close(server)  # the listening socket only: the wake-up pipe stays open
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while time.monotonic() < deadline:
        wasyncore.loop(timeout=0.05, map=server._map, use_poll=True, count=1)
        policy.enforce(server._map)
        channels = [c for c in list(server._map.values()) if isinstance(c, HTTPChannel)]
        busy = [c for c in channels if _busy(c)]
        for channel in channels:
            if channel not in busy:
                channel.close()
        if not busy:
            return
    log.warning("drain timed out after %.0fs with requests still in flight", DRAIN_TIMEOUT_S)


def _stop_threads_then_close(server: Any) -> None:
    dispatcher = server.task_dispatcher
    dispatcher.shutdown()
    if dispatcher.threads:
        log.warning(
            "%d thread(s) still running at exit; the wake-up pipe stays open", len(dispatcher.threads)
        )
        return
    wasyncore.close_all(server._map)  # what is left: the wake-up pipe, connections cut by a drain timeout


def _busy(channel: HTTPChannel) -> bool:
    """A request is being received, queued, served, or its response is not fully sent."""
    return bool(channel.request is not None or channel.requests or channel.total_outbufs_len)
