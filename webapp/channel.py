"""The connection class the server gives waitress: waitress's own, with three changes.

1. Each request remembers when its first byte arrived, and the connection when it opened and whether it has
   sent anything (`connection_policy.py` cuts off requests that take too long to arrive).
2. While a worker thread serves a request, the connection does not tell the server's loop that it has output
   to send, unless that output is large. The worker thread sends its response itself (it does, with waitress's
   `send_bytes=1`) and wakes the loop when the socket would block, and again when it has finished. waitress's
   own channel reports the half-written response as writable; the socket is writable at once, but the loop
   cannot take the output lock the worker thread holds, so it polls again, and again: measured ~10 turns of
   the loop per request, each visiting every connection, when worker threads wait for the GIL after a
   durable commit (figures in the README, "Throughput").
3. A request that announces a body (`Content-Length` above 0, or `Transfer-Encoding`) is complete once its
   headers are: the body is never read, so never spooled to the disk that holds the store (waitress would
   take up to 1 GiB). The app answers it `413` (`routes.py`, which sees the announcing header), and the
   connection closes after that answer; whatever the client sends meanwhile is discarded unread.
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
    """waitress's parser of one request, stamped with the moment its first byte arrived, that never reads
    a body."""

    body_refused = False
    chunked: bool
    content_length: int

    def __init__(self, adj: Adjustments) -> None:
        super().__init__(adj)
        self.first_byte_at = time.monotonic()

    def received(self, data: bytes) -> int:
        consumed = int(super().received(data))
        return len(data) if self.body_refused else consumed  # the body's first bytes: discarded

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        if not (self.chunked or self.content_length > 0):
            return
        self.body_refused = True
        if self.chunked:  # waitress hides this header from the app once it has read the body itself
            self.headers["TRANSFER_ENCODING"] = "chunked"
        self.headers["CONNECTION"] = "close"  # waitress closes the connection after the answer
        self.chunked, self.content_length, self.body_rcv = False, 0, None
        self.expect_continue = False  # a client waiting for "100 Continue" gets the 413 instead


class Channel(HTTPChannel):
    parser_class = TimedRequestParser

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.opened_at = time.monotonic()
        self.received_any = False

    def received(self, data: bytes) -> bool:
        self.received_any = True
        if any(request.body_refused for request in self.requests):
            return True  # a refused body, or what follows it: discarded, the connection closes after the 413
        return bool(super().received(data))

    def writable(self) -> bool:
        closing = self.will_close or self.close_when_flushed
        if self.requests and not closing and self.total_outbufs_len < SELF_SENT_BYTES:
            return False  # a worker thread is serving this connection and sends its own output
        return bool(super().writable())
