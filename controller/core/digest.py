"""Why a deployment failed or was rolled back, in one paragraph (pure).

The digest is composed when the deployment fails or is rolled back, from what the record and the shell
know then: the error (the step that failed and why: a smoke test, a verification, an analysis, a timeout,
a request), the failing step's detail when it adds to it, the failure events of its update (matched by
RequestId) that the error does not quote already, the instance health causes Beanstalk gives for the
environment it deployed to (DescribeInstancesHealth), and the smoke test's last response (status and first
200 bytes). Its first sentence (`headline`) stands alone: GitHub's status description, a chat message's
headline.
"""

from __future__ import annotations

from controller.core.model import Deployment, Status, Step, StepStatus

MAX_EVENTS = 3
MAX_CAUSES = 4
BODY_BYTES = 200


def compose(d: Deployment, causes: tuple[str, ...] = (), last_response: str | None = None) -> str | None:
    """The paragraph for a failed or rolled-back deployment (None for any other status)."""
    if d.status not in (Status.FAILED, Status.ROLLED_BACK):
        return None
    failed = _failed_step(d)
    parts = [headline(d)]
    if failed is not None and failed.detail and failed.detail not in (d.error or ""):
        parts.append(f"{failed.name.value}: {_sentence(failed.detail)}")
    events = [event for event in d.failure_events if event not in (d.error or "")]  # not said twice
    if events:
        shown = "; ".join(events[:MAX_EVENTS])
        extra = len(events) - MAX_EVENTS
        more = f" (and {extra} more)" if extra > 0 else ""
        parts.append(f"Beanstalk reported: {_sentence(shown + more)}")
    if causes:
        shown = "; ".join(dict.fromkeys(causes[:MAX_CAUSES]))
        parts.append(f"Instance health on {d.preprod_env}: {_sentence(shown)}")
    if last_response:
        parts.append(f"The smoke test's last response: {_sentence(last_response)}")
    return " ".join(parts)


def headline(d: Deployment) -> str:
    """The digest's first sentence: what happened, at which step, and why."""
    failed = _failed_step(d)
    where = f" at {failed.name.value}" if failed is not None else ""
    what = "was rolled back" if d.status is Status.ROLLED_BACK else "failed"
    return f"{d.version_label} {what}{where}: {_sentence(d.error or 'no reason was recorded')}"


def _failed_step(d: Deployment) -> Step | None:
    return next((s for s in d.steps if s.status in (StepStatus.FAILED, StepStatus.ROLLED_BACK)), None)


def response_excerpt(status: int | None, body: str | None, error: str | None = None) -> str:
    """`HTTP 503: <first 200 bytes>` (or the transport error) for the digest."""
    if status is None:
        return error or "no answer"
    text = (body or "").encode()[:BODY_BYTES].decode(errors="replace").replace("\n", " ").strip()
    return f"HTTP {status}" + (f": {text}" if text else " with an empty body")


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "!", "?")) else text + "."
