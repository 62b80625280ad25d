"""The connection class the server gives waitress: waitress's own, with two changes.

1. Each request remembers when its first byte arrived, and the connection when it opened and whether it has
   sent anything (`slow_clients.py` cuts off requests that take too long to arrive).
2. While a worker thread serves a request, the connection does not tell the server's loop that it has output
   to send, unless that output is large. The worker thread sends its response itself (it does, with waitress's
   `send_bytes=1`) and wakes the loop when the socket would block, and again when it has finished. waitress's
   own channel reports the half-written response as writable; the socket is writable at once, but the loop
   cannot take the output lock the worker thread holds, so it polls again, and again: measured ~10 turns of
   the loop per request, each visiting every connection, when worker threads wait for the GIL after a
   durable commit (figures in the README, "Throughput").
"""

from __future__ import annotations

import time
from typing import Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser

# Output a worker thread is still writing, below which the loop leaves it to that thread (a response of the
# app is a few KiB; a large streamed body is flushed by the loop as waitress does).
SELF_SENT_BYTES = 64 * 1024


class TimedRequestParser(HTTPRequestParser):
    """waitress's parser of one request, stamped with the moment its first byte arrived."""

    def __init__(self, adj: Adjustments) -> None:
        super().__init__(adj)
        self.first_byte_at = time.monotonic()


class Channel(HTTPChannel):
    parser_class = TimedRequestParser

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.opened_at = time.monotonic()
        self.received_any = False

    def received(self, data: bytes) -> bool:
        self.received_any = True
        return bool(super().received(data))

    def writable(self) -> bool:
        closing = self.will_close or self.close_when_flushed
        if self.requests and not closing and self.total_outbufs_len < SELF_SENT_BYTES:
            return False  # a worker thread is serving this connection and sends its own output
        return bool(super().writable())
