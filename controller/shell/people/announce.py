"""Tell people about a deployment's state change, after the tick saved it: GitHub, chat, the metrics line.

    d = announce.run(d, rt, last_smoke)        # claim what is due, then tell it
    d = announce.deliver(d, event, rt)         # the tick's own save claimed it already

The change due (core.announcements) is claimed first: the record is saved with it marked announced (and,
for a failure, its digest), conditional on the record's version, so of two ticks that loaded the same record
only one sends anything. A tick claims it in the very save that makes the change when that save is a
transaction (the deployment holds the lease: taking it, renewing it, releasing it): no extra write. A change
nothing is told about (no GitHub token, no chat webhook) is only claimed when it ends the deployment, for
its metrics line. Then, within NOTIFY_BUDGET_S (the reconcile function's timeout leaves room for it
and the saves): the GitHub deployment and its status, the chat message, and, for the first way it
finished, one metrics line. A delivery that still fails after its retries (`people.webhook`) becomes
a warning in the record, and nothing else: no notification changes a deployment's outcome, and an error of
ours here is logged, never raised into the tick.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from controller.core import announcements, chat_message, digest, github_requests
from controller.core.announcements import Event
from controller.core.config import DEFAULT_GITHUB_API_URL
from controller.core.links import Links
from controller.core.model import Deployment, Status
from controller.core.observation import HttpCheck
from controller.shell import aws_errors, clients, deadline, logline
from controller.shell.people import links, metrics, webhook
from controller.shell.runtime import Runtime
from controller.shell.store import StaleRecord

NOTIFY_BUDGET_S = 20.0  # of the reconcile function's 60 s (.chalice/config.json lambda_timeout)
GITHUB_API_VERSION = "2022-11-28"
SAVE_ATTEMPTS = 3
MAX_WARNINGS = 20


def run(d: Deployment, rt: Runtime, last_smoke: tuple[HttpCheck, ...] | None = None) -> Deployment:
    event = announcements.due(d)
    if event is None or not (event in announcements.FINISHING or telling(rt)):
        return d
    told = None
    if event in announcements.GOES_WRONG and d.digest is None:
        told = digest.compose(d, instance_causes(d, rt), last_response(last_smoke))
    try:
        saved = rt.store.claim(announcements.claim(d, event, told))
    except StaleRecord:
        logline.emit("announce_skipped", deployment_id=d.id, change=event.value, reason="claimed elsewhere")
        return d
    return deliver(saved, event, rt)


def deliver(d: Deployment, event: Event, rt: Runtime) -> Deployment:
    """Tell `event`, which `d` (as saved) has claimed; the record as saved after it."""
    logline.emit("announce", deployment_id=d.id, change=event.value, digest=d.digest)
    return _Announcement(d, event, rt).deliver()


def telling(rt: Runtime) -> bool:
    """Whether anyone is told anything: a GitHub token or a chat webhook is configured."""
    c = rt.config
    return any((c.github_token_secret, c.github_token, c.chat_webhook_url_secret, c.chat_webhook_url))


def notify_budget_s() -> float:
    """NOTIFY_BUDGET_S, or less when the invocation's deadline (deadline.py) leaves less after room for the
    announcement's own save and the next tick's queueing: deliveries never push a tick past its timeout."""
    left = deadline.current().left_s() - 2 * clients.ATTEMPT_S
    return max(0.0, min(NOTIFY_BUDGET_S, left))


class _Announcement:
    def __init__(self, d: Deployment, event: Event, rt: Runtime) -> None:
        self.d, self.event, self.rt = d, event, rt
        self.budget = webhook.Budget(notify_budget_s())
        self.warnings: list[str] = []
        self.github_id: int | None = d.github_deployment_id

    def deliver(self) -> Deployment:
        if self.event in announcements.TOLD and telling(self.rt):
            message_links = self._guarded("links", lambda: links.for_event(self.d, self.event, self.rt))
            shown = message_links if isinstance(message_links, Links) else Links()
            self._guarded("GitHub", lambda: self._github(shown))
            self._guarded("chat", lambda: self._chat(shown))
        if announcements.finishes_first(self.d, self.event):
            metrics.finished(self.d)
        return self._record()

    # --- GitHub ------------------------------------------------------------------------------------------

    def _github(self, shown: Links) -> None:
        if not github_requests.applies(self.d):
            return
        token = self.rt.github_token()
        if token is None:
            return
        urls = github_requests.Urls(
            production=f"http://{self.rt.config.prod_cname}/",
            preproduction=f"http://{self.d.preprod_cname}/" if self.d.preprod_cname else None,
            dashboard=shown.dashboard,
        )
        if self.github_id is None:
            self.github_id = self._create(token, github_requests.PRODUCTION)
            if self.github_id is None:
                return
        self._call(token, "status", *github_requests.status(self.d, self.event, self.github_id, urls))
        if self.event is Event.AWAITING_PROMOTION:
            staging = self._create(token, github_requests.STAGING)
            if staging is not None:
                self._call(token, "staging status", *github_requests.staging_status(self.d, staging, urls))

    def _create(self, token: str, environment: str) -> int | None:
        path, body = github_requests.create_deployment(self.d, environment)
        answer = self._call(token, f"{environment} deployment", path, body)
        made = None if answer is None else answer.json().get("id")
        if answer is not None and not isinstance(made, int):
            self._warn(f"GitHub: the {environment} deployment was not created (HTTP {answer.status})")
            return None
        return made

    def _call(self, token: str, what: str, path: str, body: dict[str, Any]) -> webhook.Delivery | None:
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": GITHUB_API_VERSION,
            "User-Agent": "deliverypipeline",
        }
        url = self.rt.config.github_api_url + path
        sent = webhook.post_json(url, body, headers, self.budget, self.rt.sleep)
        logline.emit(
            "github", deployment_id=self.d.id, change=self.event.value, call=what, status=sent.status
        )
        if not sent.delivered:
            self._warn(f"GitHub {what} ({path}): {sent.problem}")
            return None
        return sent

    # --- chat --------------------------------------------------------------------------------------------

    def _chat(self, shown: Links) -> None:
        url = self.rt.chat_webhook_url()
        if url is None:
            return
        payload = chat_message.message(self.d, self.event, shown, self._commit_url())
        sent = webhook.post_json(url, payload, {}, self.budget, self.rt.sleep)
        logline.emit("chat", deployment_id=self.d.id, change=self.event.value, status=sent.status)
        if not sent.delivered:
            self._warn(f"chat webhook: {sent.problem}")

    def _commit_url(self) -> str | None:
        if self.d.repository is None or self.d.commit is None:
            return None
        return f"{web_url(self.rt.config.github_api_url)}/{self.d.repository}/commit/{self.d.commit}"

    # --- what the record keeps -----------------------------------------------------------------------

    def _guarded(self, what: str, deliver: Callable[[], object]) -> object:
        """Run one delivery; an AWS error (its secret could not be read) becomes a warning."""
        try:
            return deliver()
        except Exception as error:
            classified = aws_errors.classify(error)
            if classified is None:
                logline.emit("announce_error", deployment_id=self.d.id, what=what, error=repr(error))
                self._warn(f"{what}: not sent ({type(error).__name__})")
                return None
            self._warn(f"{what}: not sent: {classified}")
            return None

    def _warn(self, text: str) -> None:
        warning = f"{self.event.value}: {text}"
        logline.emit("announce_warning", deployment_id=self.d.id, warning=warning)
        self.warnings.append(warning[:500])

    def _record(self) -> Deployment:
        """Save the warnings and the GitHub deployment's id into the record (read again when a tick or a
        request saved it meanwhile)."""
        if not self.warnings and self.github_id == self.d.github_deployment_id:
            return self.d
        current = self.d
        for _ in range(SAVE_ATTEMPTS):
            updated = dataclasses.replace(
                current,
                warnings=(*current.warnings, *self.warnings)[-MAX_WARNINGS:],
                github_deployment_id=current.github_deployment_id or self.github_id,
            )
            try:
                return self.rt.store.save(updated, self.rt.clock())
            except StaleRecord:
                found = self.rt.store.get(self.d.id)
                if found is None:
                    break
                current = found
        logline.emit("announce_unrecorded", deployment_id=self.d.id, warnings=self.warnings)
        return self.d


def web_url(api_url: str) -> str:
    """GitHub's web address for its REST API's: api.github.com -> github.com; an Enterprise server's
    https://host/api/v3 -> https://host."""
    if api_url.rstrip("/") == DEFAULT_GITHUB_API_URL:
        return "https://github.com"
    return api_url.rstrip("/").removesuffix("/api/v3")


def instance_causes(d: Deployment, rt: Runtime) -> tuple[str, ...]:
    """DescribeInstancesHealth's causes for the environment the deployment deployed to (none when it never
    got that far, or Beanstalk cannot say now)."""
    if d.preprod_env is None or (d.status is Status.ROLLED_BACK and d.swap_back is None):
        return ()  # not deployed anywhere yet, or rolled back by request: the instances say nothing of why
    try:
        answer = rt.eb.describe_instances_health(EnvironmentName=d.preprod_env, AttributeNames=["Causes"])
    except Exception as error:
        classified = aws_errors.classify(error, "DescribeInstancesHealth")
        if classified is None:
            raise
        logline.emit("digest_incomplete", deployment_id=d.id, error=str(classified))
        return ()
    return tuple(
        f"{i.get('InstanceId', 'an instance')}: {cause}"
        for i in answer.get("InstanceHealthList", [])
        for cause in i.get("Causes", [])
    )


def last_response(checks: tuple[HttpCheck, ...] | None) -> str | None:
    if not checks:
        return None
    last = checks[-1]
    return f"GET {last.url}: " + digest.response_excerpt(last.status, last.body, last.error)
