"""Slow clients: a connection must deliver each request within the read timeout, or it is closed.

waitress only closes connections that stay *silent* for its channel timeout (120 s), so a client sending its
headers one byte a second holds a connection for as long as it likes, and a few hundred of them fill the
connection limit. Here a request must arrive in full (request line, headers, body) within `read_timeout_s` of
its first byte, and a new connection must send its first byte within `read_timeout_s` too. An idle keep-alive
connection between two requests is left to waitress's channel timeout: a load balancer keeps those open on
purpose (Beanstalk's for 60 s).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from webapp.channel import Channel

log = logging.getLogger(__name__)

CHECK_INTERVAL_S = 0.25


class SlowClientCutoff:
    """Closes, from the server's loop, the connections whose request is overdue."""

    def __init__(self, read_timeout_s: float) -> None:
        self.read_timeout_s = read_timeout_s
        self._next_check = 0.0

    def enforce(self, channels: Mapping[int, Any]) -> None:
        """Called on every turn of the server's loop; looks at the connections at most every 0.25 s."""
        now = time.monotonic()
        if now < self._next_check:
            return
        self._next_check = now + CHECK_INTERVAL_S
        for channel in list(channels.values()):
            if isinstance(channel, Channel) and self.overdue(channel, now):
                log.warning(
                    "closing the connection from %s: no complete request within %gs",
                    channel.addr[0] if channel.addr else "-",
                    self.read_timeout_s,
                )
                channel.will_close = True  # waitress closes it on the loop's next turn

    def overdue(self, channel: Channel, now: float) -> bool:
        if channel.will_close or channel.requests:  # closing already, or a request is being served
            return False
        request = channel.request
        if request is not None:
            return bool(now - request.first_byte_at > self.read_timeout_s)
        return not channel.received_any and now - channel.opened_at > self.read_timeout_s
