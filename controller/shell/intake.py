"""A notification becomes a deployment: a new one, or the one it already made (POST is idempotent).

Deployment ids are deterministic: attempt 1 of an image and tag is `deployment_id(image, tag)`, and each
redeploy of them is the next attempt, `deployment_id(image, tag, n)`. So a notification sent twice finds
what the first made, and so does a redeploy sent twice while its deployment is queued or running.

- Without `redeploy`: the first attempt, or the latest attempt when there is one (even a failed one).
- With `redeploy`: the latest attempt while it is queued, running or awaiting promotion; once it has
  finished (whatever the outcome), a new attempt; the first attempt when there is none.
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.core.model import Deployment, Promotion, deployment_id, new_deployment
from controller.core.notification import Notification
from controller.shell.runtime import Runtime

MAX_ATTEMPTS = 100  # redeploys of one image and tag; past that, a new tag


@dataclass(frozen=True)
class Intake:
    deployment: Deployment
    created: bool  # a new deployment (202), or one that already existed (200)


def take(n: Notification, rt: Runtime, controller_url: str | None = None) -> Intake | str:
    """The deployment for the notification, or why none can be made. `controller_url`: where the
    notification came in (its one-click links point there)."""
    if not n.redeploy:
        created = rt.store.create(_new(n, rt, 1, controller_url))
        if created is not None:
            return Intake(created, True)
    for _ in range(3):  # each round loses only to a concurrent notification making the same attempt
        latest = latest_attempt(n.image, n.tag, rt)
        if latest is not None and (not n.redeploy or not latest.finished):
            return Intake(latest, False)
        attempt = 1 if latest is None else latest.attempt + 1
        if attempt > MAX_ATTEMPTS:
            return f"{n.image}:{n.tag} was deployed {MAX_ATTEMPTS} times; push a new tag"
        created = rt.store.create(_new(n, rt, attempt, controller_url))
        if created is not None:
            return Intake(created, True)
    return f"{n.image}:{n.tag} is being notified concurrently; look at its deployments and retry"


def latest_attempt(image: str, tag: str, rt: Runtime) -> Deployment | None:
    """The image and tag's newest deployment (one read per attempt)."""
    latest = None
    for attempt in range(1, MAX_ATTEMPTS + 1):
        found = rt.store.get(deployment_id(image, tag, attempt))
        if found is None:
            return latest
        latest = found
    return latest


def _new(n: Notification, rt: Runtime, attempt: int, controller_url: str | None) -> Deployment:
    return new_deployment(
        rt.config.eb_application,
        n.image,
        n.tag,
        n.commit,
        n.build_url,
        rt.clock(),
        Promotion(n.promotion),
        attempt,
        repository=n.repository,
        controller_url=controller_url,
    )
