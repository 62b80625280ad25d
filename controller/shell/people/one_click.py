"""One-click links: `GET /actions/{token}` looks (changes nothing), `POST` acts, once.

A token (controller.client.capability) names one action on one deployment and its expiry, signed with a
key derived from the signing secret. Tampered or expired: 403. Used before: 410 (the use is recorded with
the same conditional put that makes signed requests single-use, DeploymentStore.use_once). A POST performs
the action as the signed API does (interventions: 409 when the state no longer allows it). Every use is
logged with its deployment.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from controller.client import capability
from controller.client.capability import Capability
from controller.core.model import Deployment, is_deployment_id
from controller.shell import interventions, logline
from controller.shell.runtime import Runtime

USE_RECORD_MARGIN_S = 3600
PERFORM = {
    "promote": interventions.promote,
    "abort": interventions.abort,
    "rollback": interventions.rollback,
}


@dataclass(frozen=True)
class Outcome:
    status: int
    message: str
    capability: Capability | None = None
    deployment: Deployment | None = None


def look(token: str, rt: Runtime) -> Outcome:
    """What a link would do (GET): nothing changes."""
    checked = _genuine(token, rt)
    if isinstance(checked, Outcome):
        return _logged("GET", checked)
    if rt.store.was_used(checked.use_id):
        return _logged("GET", Outcome(410, "this link was already used", checked))
    d = rt.store.get(checked.deployment_id)
    if d is None:
        return _logged("GET", Outcome(404, f"no deployment {checked.deployment_id}", checked))
    return _logged("GET", Outcome(200, "confirm", checked, d))


def use(token: str, rt: Runtime) -> Outcome:
    """Perform the link's action (POST), once."""
    checked = _genuine(token, rt)
    if isinstance(checked, Outcome):
        return _logged("POST", checked)
    if not rt.store.use_once(
        checked.use_id,
        checked.expires_at + USE_RECORD_MARGIN_S,
        kind="one-click link",
        action=checked.action,
        deployment_id=checked.deployment_id,
    ):
        return _logged("POST", Outcome(410, "this link was already used", checked))
    done = PERFORM[checked.action](checked.deployment_id, rt)
    if isinstance(done, interventions.Refused):
        return _logged("POST", Outcome(done.status, done.reason, checked))
    return _logged("POST", Outcome(202, _done(checked.action, done), checked, done))


def _genuine(token: str, rt: Runtime) -> Capability | Outcome:
    checked = capability.verify(rt.signing_secret(), token, time.time(), "link")
    if isinstance(checked, str):
        hint = ": ask for a new one" if checked == "expired" else ""
        return Outcome(403, f"this link is {checked}{hint}")
    if checked.action not in PERFORM or not is_deployment_id(checked.deployment_id):
        return Outcome(403, "this link is tampered")
    return checked


def _done(action: str, d: Deployment) -> str:
    match action:
        case "promote":
            return f"deployment {d.id} promoted: {d.version_label} goes on to the swap"
        case "abort":
            return f"deployment {d.id}: abort requested; it ends failed with production untouched"
        case _:
            return (
                f"deployment {d.id}: production is swapping back to {d.prod_env} ({d.previous_label}); it "
                "reads rolled_back once production answers that version"
            )


def _logged(method: str, outcome: Outcome) -> Outcome:
    c = outcome.capability
    logline.emit(
        "action_link",
        method=method,
        status=outcome.status,
        action=c.action if c else None,
        deployment_id=c.deployment_id if c else None,
        reason=outcome.message,
    )
    return outcome
