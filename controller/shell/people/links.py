"""One-click links and dashboard links of a deployment: `{controller}/actions/{token}` and
`{controller}/dashboard?token=...`, minted with the signing secret (controller.client.capability).

`{controller}` is CONTROLLER_URL when set, else the URL the deployment's notification came through (the
API records it in the deployment): a tick has no request to learn it from.
"""

from __future__ import annotations

import time

from controller.client import capability
from controller.core.announcements import Event
from controller.core.links import DASHBOARD_LINK_TTL_S, Links, actions_for
from controller.core.model import Deployment
from controller.shell.runtime import Runtime


def base_url(d: Deployment, rt: Runtime) -> str | None:
    return rt.config.controller_url or d.controller_url


def for_event(d: Deployment, event: Event, rt: Runtime) -> Links:
    """The links a message about `event` carries (none when the controller's URL is unknown)."""
    base = base_url(d, rt)
    if base is None:
        return Links()
    secret, now = rt.signing_secret(), int(time.time())  # wall time, as the API checks it
    actions = {
        action: f"{base}/actions/{capability.mint(secret, action, d.id, now + ttl)}"
        for action, ttl in actions_for(event, rt.config).items()
    }
    return Links(dashboard=dashboard(d, base, secret), **actions)


def dashboard(d: Deployment, base: str, secret: str) -> str:
    expires = int(time.time()) + DASHBOARD_LINK_TTL_S
    token = capability.mint(secret, capability.DASHBOARD, d.id, expires)
    return f"{base}/dashboard?token={token}#{d.id}"
