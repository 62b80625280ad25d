"""The GitHub REST calls a state change makes, as (method, path, body) data (pure).

For a deployment with a `repository` and a `commit`: one GitHub deployment of the commit to `production`
(`POST /repos/{owner}/{repo}/deployments`, `auto_merge: false`, `required_contexts: []`: our checks ran
before the image was built), then its statuses (`POST .../deployments/{id}/statuses`): `in_progress` while it
runs or is held, `success` with production's URL and the dashboard as its log, `failure` with the digest's
first sentence, `error` when it was rolled back. A held deployment also gets a `staging` deployment, marked
`success` with pre-production's URL. https://docs.github.com/rest/deployments/deployments,
https://docs.github.com/rest/deployments/statuses
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from controller.core import digest
from controller.core.announcements import Event
from controller.core.model import Deployment

DESCRIPTION_MAX = 140  # GitHub's limit for a status description
PRODUCTION, STAGING = "production", "staging"
_STATES = {
    Event.STARTED: "in_progress",
    Event.AWAITING_PROMOTION: "in_progress",
    Event.SUCCEEDED: "success",
    Event.FAILED: "failure",
    Event.ROLLED_BACK: "error",
}


@dataclass(frozen=True)
class Urls:
    production: str
    preproduction: str | None
    dashboard: str | None


def applies(d: Deployment) -> bool:
    return d.repository is not None and d.commit is not None


def create_deployment(d: Deployment, environment: str = PRODUCTION) -> tuple[str, dict[str, Any]]:
    assert d.repository is not None and d.commit is not None
    body = {
        "ref": d.commit,
        "environment": environment,
        "auto_merge": False,
        "required_contexts": [],
        "description": _short(f"{d.image}:{d.tag} (deliverypipeline {d.id})"),
        "production_environment": environment == PRODUCTION,
    }
    return f"/repos/{d.repository}/deployments", body


def status(d: Deployment, event: Event, deployment_id: int, urls: Urls) -> tuple[str, dict[str, Any]]:
    assert d.repository is not None
    state = _STATES[event]
    body: dict[str, Any] = {"state": state, "description": _short(_description(d, event))}
    if urls.dashboard:
        body["log_url"] = urls.dashboard
    if event is Event.SUCCEEDED:
        body["environment_url"] = urls.production
    return f"/repos/{d.repository}/deployments/{deployment_id}/statuses", body


def staging_status(d: Deployment, deployment_id: int, urls: Urls) -> tuple[str, dict[str, Any]]:
    """The held version on pre-production, for people to look at."""
    assert d.repository is not None
    body: dict[str, Any] = {
        "state": "success",
        "description": _short(f"{d.tag} on pre-production {d.preprod_env}, awaiting promotion"),
    }
    if urls.preproduction:
        body["environment_url"] = urls.preproduction
    if urls.dashboard:
        body["log_url"] = urls.dashboard
    return f"/repos/{d.repository}/deployments/{deployment_id}/statuses", body


def _description(d: Deployment, event: Event) -> str:
    step = d.current_step
    match event:
        case Event.STARTED:
            return f"deploying {d.tag}" + (f": {step.name.value}" if step else "")
        case Event.AWAITING_PROMOTION:
            return f"{d.tag} passed its smoke test on pre-production; awaiting promotion"
        case Event.SUCCEEDED:
            return f"{d.tag} is in production"
        case _:
            return digest.headline(d)


def _short(text: str) -> str:
    return text if len(text) <= DESCRIPTION_MAX else text[: DESCRIPTION_MAX - 1] + "…"
