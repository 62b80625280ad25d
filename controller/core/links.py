"""The one-click links a message carries (pure): which actions, and for how long each may be used.

A held deployment's message carries promote and abort, valid while it may be held (PROMOTION_TIMEOUT_S);
a succeeded deployment's carries rollback, valid ROLLBACK_LINK_TTL_S. Every message links the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.core.announcements import Event
from controller.core.config import Config

ROLLBACK_LINK_TTL_S = 24 * 3600
DASHBOARD_LINK_TTL_S = 7 * 24 * 3600  # the dashboard page a GitHub status or a chat message points at
MARGIN_S = 300


@dataclass(frozen=True)
class Links:
    dashboard: str | None = None
    promote: str | None = None
    abort: str | None = None
    rollback: str | None = None


def actions_for(event: Event, config: Config) -> dict[str, int]:
    """Action -> seconds its link stays valid, for a message about `event`."""
    if event is Event.AWAITING_PROMOTION:
        ttl = config.promotion_timeout_s + MARGIN_S
        return {"promote": ttl, "abort": ttl}
    if event is Event.SUCCEEDED:
        return {"rollback": ROLLBACK_LINK_TTL_S}
    return {}
