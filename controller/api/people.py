"""The views of where people are (imported by the routes on first use, so a cold start pays for none of
it): single-use signed requests, one-click links (`/actions/{token}`) and the dashboard.

Each view runs inside a route function of controller/api/routes.py, which names the Lambda function its AWS
calls are made for (tests/infra checks them against its policy).
"""

from __future__ import annotations

import hashlib
import time

from chalice.app import Response

from controller.api import routes
from controller.shell import logline

TOKEN_MAX = 512
FORM_BODY_MAX = 4096
REPLAYED = "this request was already used: a signed request is single-use; sign it again with a new timestamp"


def spend_signature() -> Response | None:
    """A signed mutating request is single-use: its signature is recorded (a conditional put, kept past the
    time it could be valid); the same signature again is refused with 409. None when this is its first use."""
    from controller.client import signing
    from controller.shell import runtime

    headers = routes._request().headers
    signature = str(headers.get(signing.SIGNATURE_HEADER, "")).strip()
    timestamp = int(str(headers.get(signing.TIMESTAMP_HEADER, "0")).strip())
    use_id = "sig:" + hashlib.sha256(signature.encode()).hexdigest()
    try:
        first = runtime.current().store.use_once(
            use_id, timestamp + signing.MAX_SKEW_S + 60, kind="signed request", path=routes._signed_path()
        )
    except Exception as error:
        return routes._aws_failure(error)
    if first:
        return None
    logline.emit("rejected", status=409, reason="replayed", path=routes._signed_path())
    return routes._error(409, REPLAYED)


def base_url() -> str:
    """The controller's URL as this request reached it (stage prefix included): where its links point."""
    request = routes._request()
    host = str(request.headers.get("host") or request.context.get("domainName") or "localhost")
    default = "https" if host.endswith("amazonaws.com") else "http"
    scheme = request.headers.get("x-forwarded-proto") or default
    path, route = str(request.context.get("path") or ""), routes._signed_path()
    prefix = path[: -len(route)] if route and path.endswith(route) else ""
    return f"{scheme}://{host}{prefix}".rstrip("/")


def html(status: int, body: str) -> Response:
    """A page: never cached, never framed, and its URL (a token) never sent on as a Referer."""
    return Response(
        body=body,
        status_code=status,
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
        },
    )


def look_at_action(token: str) -> Response:
    from controller.api import pages
    from controller.shell import runtime
    from controller.shell.people import one_click

    try:
        outcome = one_click.look(token[:TOKEN_MAX], runtime.current())
    except Exception as error:
        return routes._aws_failure(error)
    if outcome.status != 200:
        return html(outcome.status, pages.result(outcome))
    return html(200, pages.confirmation(outcome))


def use_action(token: str) -> Response:
    from controller.api import pages
    from controller.shell import runtime
    from controller.shell.people import one_click

    if len(routes._body()) > FORM_BODY_MAX:
        return html(413, pages.page("Too large", "<h1>Too large</h1>"))
    try:
        outcome = one_click.use(token[:TOKEN_MAX], runtime.current())
    except Exception as error:
        return routes._aws_failure(error)
    return html(outcome.status, pages.result(outcome))


def dashboard() -> Response:
    from controller.api import pages
    from controller.client import capability
    from controller.shell import runtime
    from controller.shell.people import announce, dashboard_data

    token = str(dict(routes._request().query_params or {}).get("token", ""))[:TOKEN_MAX]
    rt = runtime.current()
    try:
        checked = capability.verify(rt.signing_secret(), token, time.time(), capability.DASHBOARD)
        if isinstance(checked, str):
            logline.emit("dashboard_refused", reason=checked)
            message = f"This dashboard link is {checked or 'missing'}: ask for a new one."
            return html(403, pages.page("Link refused", f"<h1>Link refused</h1><p>{message}</p>"))
        view = dashboard_data.read(rt)
    except Exception as error:
        return routes._aws_failure(error)
    return html(200, pages.dashboard(view, checked, announce.web_url(rt.config.github_api_url)))
