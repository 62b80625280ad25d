"""The controller's HTML pages: a one-click link's confirmation and result, and the dashboard.

Plain HTML and CSS, no script and no front-end build: every value is escaped, forms POST to the one-click
links, and the dashboard refreshes itself (`<meta http-equiv="refresh">`). Links are relative to the page,
so they work behind any stage prefix or domain.
"""

from __future__ import annotations

from html import escape

from controller.client.capability import Capability
from controller.core import chat_message
from controller.core.model import Deployment, Status, StepStatus
from controller.shell.people.dashboard_data import Dashboard
from controller.shell.people.one_click import Outcome

REFRESH_S = 5
_STYLE = " ".join(
    (
        "body{font:15px/1.45 system-ui,sans-serif;margin:1.5rem auto;max-width:72rem;padding:0 1rem}",
        "h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem}table{border-collapse:collapse}",
        "th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #d8dee4;vertical-align:top}",
        ".deployment{border:1px solid #d8dee4;border-radius:6px;padding:.6rem .9rem;margin:.8rem 0}",
        ".status{font-weight:600;padding:.05rem .45rem;border-radius:4px;background:#eaeef2}",
        ".succeeded{background:#dafbe1}.failed,.rolled_back{background:#ffebe9}",
        ".running,.awaiting_promotion{background:#fff8c5}ol.steps{margin:.3rem 0;padding-left:1.3rem}",
        ".step-failed,.step-rolled_back{color:#cf222e}.step-running{color:#9a6700}",
        ".step-pending,.step-skipped{color:#6e7781}",
        ".digest{background:#fff5f5;border-left:3px solid #cf222e;padding:.4rem .6rem}",
        ".warning{color:#9a6700}form{display:inline}",
        "button{font:inherit;padding:.3rem .8rem;margin-right:.4rem;cursor:pointer}",
    )
)
_TITLES = {"promote": "Promote", "abort": "Abort", "rollback": "Roll back"}


def page(title: str, body: str, refresh: bool = False) -> str:
    meta = f'<meta http-equiv="refresh" content="{REFRESH_S}">' if refresh else ""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"{meta}<title>{escape(title)}</title><style>{_STYLE}</style></head><body>{body}</body></html>"
    )


# --- one-click links ---------------------------------------------------------------------------------------


def confirmation(outcome: Outcome) -> str:
    """GET on a link: what it would do, and the button that does it (the form POSTs to the same URL)."""
    c, d = outcome.capability, outcome.deployment
    assert c is not None and d is not None
    production, preproduction = chat_message.versions(d)
    action = _TITLES[c.action]
    body = (
        f"<h1>{escape(action)} deployment {escape(d.id)}?</h1>"
        f"<p>{escape(d.image)}:{escape(d.tag)} is <span class=status>{escape(d.status.value)}</span>.</p>"
        f"<table><tr><th>Production</th><td>{escape(production or 'unknown')} "
        f"{escape(d.prod_env or '')}</td></tr><tr><th>Pre-production</th>"
        f"<td>{escape(preproduction or 'unknown')} {escape(d.preprod_env or '')}</td></tr></table>"
        f"<p>{escape(_consequence(c.action, d))}</p>"
        "<form method=post><button type=submit id=confirm name=confirm value=1>"
        f"{escape(action)}</button></form>"
        "<p><small>This link works once. Opening it changes nothing; the button does.</small></p>"
    )
    return page(f"{action} {d.id}", body)


def result(outcome: Outcome) -> str:
    """The answer to a link that was used, refused, or is no good."""
    titles = {202: "Done", 403: "Link refused", 404: "Unknown deployment", 409: "Not allowed now"}
    titles[410] = "Used"
    title = titles.get(outcome.status, "Refused")
    c = outcome.capability
    what = f" ({_TITLES.get(c.action, c.action)} {c.deployment_id})" if c is not None else ""
    body = f"<h1>{escape(title)}{escape(what)}</h1><p id=outcome>{escape(outcome.message)}</p>"
    return page(title, body)


def _consequence(action: str, d: Deployment) -> str:
    match action:
        case "promote":
            return f"{d.version_label} goes on to the CNAME swap and becomes production."
        case "abort":
            return f"The deployment ends failed; production ({d.prod_env or 'unchanged'}) is not touched."
        case _:
            return f"Production swaps back to {d.prod_env}, which runs {d.previous_label}."


# --- the dashboard -----------------------------------------------------------------------------------------


def dashboard(view: Dashboard, capability: Capability, commit_base: str) -> str:
    shown = (
        "".join(
            f"<tr><th>{escape(e.role)}</th><td>{escape(e.view.name)}</td>"
            f"<td>{escape(e.view.version_label or '')}</td><td>{escape(e.view.status)} / "
            f"{escape(e.view.health)}</td><td><a href='{escape(e.url)}'>{escape(e.url)}</a></td></tr>"
            for e in view.environments
        )
        or f"<tr><td colspan=5>{escape(view.problem or 'no environments')}</td></tr>"
    )
    environments = (
        "<h2>Environments</h2><table id=environments><tr><th></th><th>environment</th><th>version</th>"
        f"<th>status / health</th><th>URL</th></tr>{shown}</table>"
    )
    cards = "".join(_card(d, view.actions.get(d.id, {}), commit_base) for d in view.deployments)
    expires = f"{capability.expires_at}"
    body = (
        "<h1>deliverypipeline</h1>"
        f"<p><small>Read-only view; it refreshes every {REFRESH_S} s. The link expires at unix time "
        f"{escape(expires)}.</small></p>{environments}<h2>Deployments</h2>"
        f"{cards or '<p>No deployments yet.</p>'}"
    )
    return page("deliverypipeline dashboard", body, refresh=True)


def _card(d: Deployment, actions: dict[str, str], commit_base: str) -> str:
    steps = "".join(
        f"<li class=step-{escape(s.status.value)}>{escape(s.name.value)}: {escape(s.status.value)}"
        + (f" <small>({escape(s.detail)})</small>" if s.detail and s.status is not StepStatus.SKIPPED else "")
        + "</li>"
        for s in d.steps
    )
    links = []
    if d.build_url:
        links.append(f"<a href='{escape(d.build_url)}'>CI build</a>")
    if d.commit:
        if d.repository:
            href = f"{commit_base}/{d.repository}/commit/{d.commit}"
            links.append(f"<a href='{escape(href)}'>commit {escape(d.commit[:12])}</a>")
        else:
            links.append(f"commit {escape(d.commit[:12])}")
    buttons = "".join(
        f"<form method=post action='actions/{escape(token)}'>"
        f"<button type=submit class={escape(action)} data-deployment='{escape(d.id)}'>"
        f"{escape(_TITLES[action])}</button></form>"
        for action, token in actions.items()
    )
    digest = f"<p class=digest>{escape(d.digest)}</p>" if d.digest else ""
    if not digest and d.error and d.status is not Status.SUCCEEDED:
        digest = f"<p class=digest>{escape(d.error)}</p>"
    warnings = "".join(f"<p class=warning>{escape(w)}</p>" for w in d.warnings)
    return (
        f"<div class=deployment id='{escape(d.id)}'><strong>{escape(d.tag)}</strong> "
        f"<span class='status {escape(d.status.value)}'>{escape(d.status.value)}</span> "
        f"<small>{escape(d.id)} · {escape(d.image)} · created "
        f"{escape(d.created_at.strftime('%Y-%m-%d %H:%M:%S'))} UTC</small><br>{' · '.join(links)}"
        f"<ol class=steps>{steps}</ol>{digest}{warnings}{buttons}</div>"
    )
