"""A deployment's state change as a Slack-compatible incoming-webhook message (pure): `text` (the
notification's fallback) and Block Kit `blocks`: a header, the facts (tag, commit, build, step, production
and pre-production versions), the digest of a failure, and link buttons (promote/abort/rollback, the
dashboard). Limits from https://api.slack.com/reference/block-kit/blocks: header text 150 characters,
section text 3000, a field 2000 (at most 10), a button's text 75 and its URL 3000.
"""

from __future__ import annotations

from typing import Any

from controller.core.announcements import Event
from controller.core.links import Links
from controller.core.model import Deployment, Status

HEADER_MAX = 150
TEXT_MAX = 3000
FIELD_MAX = 2000

_HEADLINES = {
    Event.STARTED: "Deploying {tag}",
    Event.AWAITING_PROMOTION: "{tag} awaits promotion",
    Event.SUCCEEDED: "{tag} is in production",
    Event.FAILED: "{tag} failed",
    Event.ROLLED_BACK: "{tag} was rolled back",
}


def message(d: Deployment, event: Event, links: Links, commit_url: str | None) -> dict[str, Any]:
    headline = _HEADLINES[event].format(tag=d.tag)
    production, preproduction = versions(d)
    step = d.current_step
    failed = next((s for s in d.steps if s.status.value in ("failed", "rolled_back")), None)
    shown_step = failed or step
    commit = d.commit[:12] if d.commit else "not given"
    facts = [
        f"*Tag*\n{d.image}:{d.tag}",
        f"*Commit*\n<{commit_url}|{commit}>" if commit_url else f"*Commit*\n{commit}",
        f"*Build*\n<{d.build_url}|CI build>" if d.build_url else "*Build*\nnot given",
        f"*Step*\n{shown_step.name.value} ({shown_step.status.value})" if shown_step else "*Step*\nall done",
        f"*Production*\n{production or 'unknown'}" + (f" on {d.prod_env}" if d.prod_env else ""),
        f"*Pre-production*\n{preproduction or 'unknown'}" + (f" on {d.preprod_env}" if d.preprod_env else ""),
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": headline[:HEADER_MAX]}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"Deployment `{d.id}` is *{d.status.value}*."},
            "fields": [{"type": "mrkdwn", "text": fact[:FIELD_MAX]} for fact in facts],
        },
    ]
    if d.digest and event in (Event.FAILED, Event.ROLLED_BACK):
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": d.digest[:TEXT_MAX]}})
    buttons = _buttons(links)
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    text = f"{headline}: deployment {d.id} is {d.status.value}"
    if d.digest and event in (Event.FAILED, Event.ROLLED_BACK):
        text += f". {d.digest}"
    return {"text": text[:TEXT_MAX], "blocks": blocks}


def versions(d: Deployment) -> tuple[str | None, str | None]:
    """(production's version, pre-production's version) as the state change leaves them."""
    if d.status is Status.SUCCEEDED:
        return d.version_label, d.previous_label
    if d.preprod_env is None:
        return d.previous_label, None
    return d.previous_label, d.version_label


def _buttons(links: Links) -> list[dict[str, Any]]:
    found = []
    for action, url, style in (
        ("Promote", links.promote, "primary"),
        ("Abort", links.abort, "danger"),
        ("Roll back", links.rollback, "danger"),
        ("Dashboard", links.dashboard, None),
    ):
        if url is None:
            continue
        button: dict[str, Any] = {
            "type": "button",
            "text": {"type": "plain_text", "text": action},
            "url": url,
            "action_id": action.lower().replace(" ", "_"),
        }
        if style is not None:
            button["style"] = style
        found.append(button)
    return found
