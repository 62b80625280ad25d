"""Which client connections the server closes, and when: slow requests, long-idle keep-alive connections, and,
at the connection limit, the idle keep-alive connections that have waited longest.

1. A request must arrive in full (request line, headers) within `read_timeout_s` of its first byte, and a new
   connection must send its first byte within it too. waitress only closes connections that stay *silent*
   for its channel timeout (120 s), so a client sending its headers one byte a second would hold a
   connection for as long as it liked, and a few hundred of them would fill the connection limit.
2. A keep-alive connection idle between two requests is kept for `idle_timeout_s`: 65 s by default, just
   above the 60 s for which Elastic Beanstalk's load balancer keeps its idle connections, as AWS advises for
   the targets behind it (the target should not close a connection the balancer is about to reuse).
3. At the connection limit, new clients would wait in the listen queue while idle keep-alive connections
   hold every slot: the idle ones that have waited longest are closed, as nginx does, until a tenth of the
   limit is free. A client on a closed keep-alive connection simply opens another.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from webapp.channel import Channel

log = logging.getLogger(__name__)

CHECK_INTERVAL_S = 0.25
FULL_RECHECK_S = 0.05
DEFAULT_IDLE_TIMEOUT_S = 65.0


class ConnectionPolicy:
    """Applied by the server's loop on every turn, to the connections in its map."""

    def __init__(self, read_timeout_s: float, idle_timeout_s: float, map_limit: int) -> None:
        """`map_limit`: the entries of the server's map at which waitress stops accepting (its connection
        limit: the client connections plus its own listening socket and wake-up pipe)."""
        self.read_timeout_s = read_timeout_s
        self.idle_timeout_s = idle_timeout_s
        self.map_limit = map_limit
        self._next_check = 0.0
        self._next_free = 0.0

    def enforce(self, channels: Mapping[int, Any]) -> None:
        """Frees slots at the limit at once; looks for overdue connections at most every 0.25 s."""
        now = time.monotonic()
        if len(channels) >= self.map_limit and now >= self._next_free and not self._free_slots(channels):
            self._next_free = now + FULL_RECHECK_S  # nothing idle to close: look again a little later
        if now < self._next_check:
            return
        self._next_check = now + CHECK_INTERVAL_S
        wall = time.time()  # waitress stamps a connection's last activity with the wall clock
        for channel in list(channels.values()):
            if not isinstance(channel, Channel):
                continue
            if self.request_overdue(channel, now):
                _close(channel, f"no complete request within {self.read_timeout_s:g}s")
            elif idle(channel) and wall - channel.last_activity > self.idle_timeout_s:
                _close(channel, f"idle for more than {self.idle_timeout_s:g}s")

    def request_overdue(self, channel: Channel, now: float) -> bool:
        if channel.will_close or channel.requests:  # closing already, or a request is being served
            return False
        request = channel.request
        if request is not None:
            return bool(now - request.first_byte_at > self.read_timeout_s)
        return not channel.received_any and now - channel.opened_at > self.read_timeout_s

    def _free_slots(self, channels: Mapping[int, Any]) -> bool:
        """Whether it closed (or found closing) enough connections."""
        clients = [channel for channel in channels.values() if isinstance(channel, Channel)]
        closing = sum(1 for channel in clients if channel.will_close)
        wanted = len(channels) - self.map_limit + max(1, self.map_limit // 10) - closing
        if wanted <= 0:
            return True
        oldest_first = sorted((c for c in clients if idle(c)), key=lambda channel: channel.last_activity)
        for channel in oldest_first[:wanted]:
            channel.will_close = True  # waitress closes it on the loop's next turn
        if oldest_first:
            log.warning(
                "at the connection limit (%d): closing the %d keep-alive connection(s) idle longest",
                self.map_limit,
                min(wanted, len(oldest_first)),
            )
        return bool(oldest_first)


def _close(channel: Channel, why: str) -> None:
    log.warning("closing the connection from %s: %s", channel.addr[0] if channel.addr else "-", why)
    channel.will_close = True  # waitress closes it on the loop's next turn


def idle(channel: Channel) -> bool:
    """A keep-alive connection between two requests: it has sent one, and nothing is in progress on it."""
    return bool(
        channel.received_any
        and not channel.will_close
        and channel.request is None
        and not channel.requests
        and not channel.total_outbufs_len
    )
