"""`python -m sandbox demo`: a guided blue/green deployment on this machine, start to rollback.

1. production (blue) serves 1.0.0; 2. CI's notification deploys 2.0.0 through the controller
(`python -m controller.client deploy --wait`, live steps) while production keeps answering;
3. 2.1.0 is held for manual promotion (`deploy --hold`): pre-production serves it on its own URL while
production stays on 2.0.0, until `promote ID --wait` swaps it in; 4. the standby is ready to take production
back (`environments`), and the 2.1.0 deployment is rolled back (`rollback ID --wait`): the CNAMEs swap back
to the environment that still runs 2.0.0; 5. 2.2.0 answers 5% of its users with 500 once it is production
(the emulation's errors-after-swap fault) while its health stays Green: the metric analysis swaps it back;
6. 3.0.0-broken cannot start: the deployment fails and production never notices; 7. the standby, left Red
by it, is not ready to take production back, and `environments` says why. A summary table ends it.
Users call production about 20 times a second throughout: the analysis judges their requests.

Where people are: the demo's inbox (sandbox/network/inbox.py) stands in for GitHub and a chat webhook; the
GitHub deployment statuses and chat messages of each deployment are shown as they arrive, and so is a
dashboard link (`python -m controller.client dashboard`).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto_ext import ControlClient, Fault
from sandbox.live.instances import REPO_ROOT, without_proxies
from sandbox.network.inbox import Inbox
from sandbox.pipeline_api import PipelineError, latest_deployment
from sandbox.stack import Stack, StackInfo
from sandbox.traffic import Background, Production, Tally

CLIENT_TIMEOUT_S = 180
SWITCH_TIMEOUT_S = 60.0
WARM_UP_CALLS = 3
SECOND_TAG = "2.0.0"
HELD_TAG = "2.1.0"
ERRORING_TAG = "2.2.0"
BROKEN_TAG = "3.0.0-broken"
REPOSITORY = "acme/deliverypipeline"  # the GitHub repository the demo's deployments name (its inbox answers)
INBOX_SETTLE_S = 3.0
DEMO_TAGS = (SECOND_TAG, HELD_TAG, ERRORING_TAG, BROKEN_TAG)
USERS_INTERVAL_S = 0.05  # production's users: about 20 requests a second
INJECTED_ERROR = "errors-after-swap"  # how the front's 500s for that fault say what they are


@dataclass(frozen=True)
class Row:
    step: str
    deployment: str
    status: str
    production: str
    seconds: float
    traffic: str
    expected: bool


class Demo:
    def __init__(
        self,
        stack: Stack,
        *,
        keep: bool = False,
        out: Callable[[str], None] | None = None,
        inbox: Inbox | None = None,
    ) -> None:
        assert stack.info is not None, "start the stack first"
        self.info: StackInfo = stack.info
        self.stack = stack
        self.keep = keep
        self.names = stack.options.names
        self.image = stack.options.image_repository
        self.first = stack.options.first_tag
        self.production = Production(self.names.cname(self.names.prod_prefix), self.info.cname_proxy)
        self.rows: list[Row] = []
        self._out = out or (lambda line: print(line, flush=True))
        self.inbox = inbox

    def run(self) -> int:
        self._intro()
        self._serve_first_version()
        self._deploy(SECOND_TAG, expect="succeeded", step=f"deploy {SECOND_TAG}")
        self._show_production("production now")
        held = self._deploy(HELD_TAG, expect="awaiting_promotion", step=f"deploy {HELD_TAG} --hold")
        promoted = self._promote(held) if held is not None else None
        if promoted is not None:
            self._environments("The standby is ready to take production back", ready=True)
            self._rollback(promoted, back_to=SECOND_TAG)
            self._show_production("production after the rollback")
        self._deploy(ERRORING_TAG, expect="rolled_back", step=f"deploy {ERRORING_TAG}", fault=True)
        self._show_production("production after the analysis swapped it back")
        self._deploy(BROKEN_TAG, expect="failed", step=f"deploy {BROKEN_TAG}")
        self._show_production("production after the failed deployment")
        self._environments("After the failed deployment, the standby is not ready", ready=False)
        self._summary()
        if self.keep:
            self._keep_instructions()
        if all(row.expected for row in self.rows):
            return 0
        self._say("")
        self._say("Something did not go as expected; the controller's last log lines:")
        for line in self.stack.controller_log().split(" | "):
            self._say(f"  {line}")
        return 1

    # --- the steps ----------------------------------------------------------------------------------

    def _intro(self) -> None:
        prod, staging = self.names.blue, self.names.green
        self._say("")
        self._say("== deliverypipeline, the whole loop on this machine (no AWS account, no Docker Hub) ==")
        self._say(f"  emulated AWS (moto + Elastic Beanstalk)  {self.info.aws_endpoint}")
        self._say(f"  deploy controller (API + SQS poller)     {self.info.controller_url}")
        self._say(
            f"  production  http://{self.names.cname(self.names.prod_prefix)}  -> {prod} ({self.first})"
        )
        self._say(
            f"  staging     http://{self.names.cname(self.names.staging_prefix)}  -> {staging} ({self.first})"
        )
        self._say(f"  (both CNAMEs resolve through the sandbox's front, {self.info.cname_proxy})")
        if self.inbox is not None:
            self._say(f"  GitHub's API and the chat webhook (the demo's inbox)  {self.inbox.url}")
        self._dashboard_link()

    def _serve_first_version(self) -> None:
        self._say("")
        self._say(f"1. Users call production: GET {self.production.url}")
        started = time.monotonic()
        tally = Tally()
        for _ in range(WARM_UP_CALLS):
            try:
                answer = self.production.call()
            except (urllib.error.URLError, OSError) as error:
                tally.failed(str(error))
                self._say(f"   failed: {error}")
                continue
            tally.answered(str(answer["version"]))
            self._say(f"   version {answer['version']}  calls {answer['calls']}")
        version = self._production_version()
        self.rows.append(
            Row(
                "serve traffic",
                "-",
                "-",
                version,
                time.monotonic() - started,
                _traffic(tally),
                expected=version == self.first and not tally.failures,
            )
        )

    def _deploy(self, tag: str, *, expect: str, step: str, fault: bool = False) -> str | None:
        """Run the CI client's deploy for `tag` with production under traffic (with `fault`, under the
        emulation's errors-after-swap); the deployment id when it ended as expected (succeeded, or held
        awaiting promotion)."""
        self._say("")
        number = len(self.rows) + 1
        hold = expect == "awaiting_promotion"
        self._say(f"{number}. CI notifies the controller: image {self.image}:{tag} is released")
        if expect == "failed":
            self._say("   (this one cannot start: the sandbox runs tags ending in -broken with PORT=broken,")
            self._say("    which the web app rejects at start, as a release with a bad setting would)")
        if hold:
            self._say("   (held for manual promotion: it stops after the smoke test, before the swap)")
        if fault:
            self._say(
                "   (this one has a bug its health check cannot see: once production, it answers 5% of its"
            )
            self._say("    users with 500 - the emulation's errors-after-swap fault - while its /health and")
            self._say("    Beanstalk's health stay Green; the controller's analysis of the load balancer's")
            self._say("    metrics after the swap is what notices)")
        command = ["deploy", "--image", self.image, "--tag", tag, *(["--hold"] if hold else [])]
        command += ["--commit", _commit(tag), "--repository", REPOSITORY]
        command += ["--wait", "--timeout", str(CLIENT_TIMEOUT_S)]
        controls = ControlClient(self.info.aws_endpoint)
        started = time.monotonic()
        if fault:
            controls.arm(Fault.ERRORS_AFTER_SWAP)
        try:
            with Background(self.production, interval_s=USERS_INTERVAL_S) as tally:
                code = self._client(command)
        finally:
            if fault:
                controls.clear(Fault.ERRORS_AFTER_SWAP)
        seconds = time.monotonic() - started
        deployment = self._latest()
        status = str(deployment.get("status")) if deployment else "unknown"
        version = self._production_version()
        self._say(f"   client exit code {code}; deployment {status}; production answers {version}")
        self._say(f"   production during the deployment: {_traffic(tally)}")
        self._show_inbox()
        if deployment and deployment.get("status") in ("failed", "rolled_back"):
            self._explain_failure(str(deployment["id"]))
        failures = [f for f in tally.failures if not (fault and INJECTED_ERROR in f)]
        expected_code = 1 if expect in ("failed", "rolled_back") else 0
        self.rows.append(
            Row(
                step,
                str(deployment.get("id")) if deployment else "-",
                status,
                version,
                seconds,
                _traffic(tally),
                expected=status == expect and code == expected_code and not failures,
            )
        )
        kept = ("succeeded", "awaiting_promotion")
        return str(deployment["id"]) if deployment and status == expect and status in kept else None

    def _promote(self, deployment_id: str) -> str | None:
        """People look at the held version on pre-production's own URL, then promote it."""
        staging = Production(self.names.cname(self.names.staging_prefix), self.info.cname_proxy)
        seen = staging.health()
        self._say("")
        self._say(f"{len(self.rows) + 1}. People look at {HELD_TAG} before it goes live:")
        self._say(f"   GET {staging.url}health -> version {seen.get('version') if seen else 'unreachable'}")
        self._say(f"   GET {self.production.url}health -> version {self._production_version()}")
        self._say("   and promote it: the controller goes on to the swap")
        started = time.monotonic()
        with Background(self.production, interval_s=USERS_INTERVAL_S) as tally:
            code = self._client(["promote", deployment_id, "--wait", "--timeout", str(CLIENT_TIMEOUT_S)])
        seconds = time.monotonic() - started
        status = self._status_now(deployment_id)
        version = self._production_version()
        self._say(f"   client exit code {code}; deployment {status}; production answers {version}")
        self._say(f"   production during the promotion: {_traffic(tally)}")
        self._show_inbox()
        looked = seen is not None and seen.get("version") == HELD_TAG
        as_expected = looked and code == 0 and status == "succeeded" and version == HELD_TAG
        self.rows.append(
            Row(
                f"promote {deployment_id}",
                deployment_id,
                status,
                version,
                seconds,
                _traffic(tally),
                expected=as_expected and not tally.failures,
            )
        )
        return deployment_id if status == "succeeded" else None

    def _rollback(self, deployment_id: str, back_to: str) -> None:
        self._say("")
        self._say(f"{len(self.rows) + 1}. Roll back deployment {deployment_id}: production back to {back_to}")
        previous = self._previous_environment(deployment_id)
        self._say(f"   ({previous} still runs {back_to}, Ready and Green: the controller swaps the CNAMEs")
        self._say("    back, and the deployment reads rolled_back once production answers that version)")
        started = time.monotonic()
        with Background(self.production, interval_s=USERS_INTERVAL_S) as tally:
            code = self._client(["rollback", deployment_id, "--wait", "--timeout", str(CLIENT_TIMEOUT_S)])
        version = self._production_version()
        seconds = time.monotonic() - started
        status = self._status_now(deployment_id)
        self._say(f"   client exit code {code}; deployment {status}; production answers {version}")
        self._say(f"   production during the rollback: {_traffic(tally)}")
        self._show_inbox()
        self.rows.append(
            Row(
                f"roll back {deployment_id}",
                deployment_id,
                status,
                version,
                seconds,
                _traffic(tally),
                expected=code == 0 and status == "rolled_back" and version == back_to and not tally.failures,
            )
        )

    def _environments(self, title: str, *, ready: bool) -> None:
        """`environments`: production and the standby, and whether a rollback could run now."""
        self._say("")
        self._say(f"{len(self.rows) + 1}. {title}:")
        started = time.monotonic()
        code = self._client(["environments"])
        version = self._production_version()
        self.rows.append(
            Row(
                "environments",
                "-",
                "rollback ready" if code == 0 else "not ready",
                version,
                time.monotonic() - started,
                "-",
                expected=(code == 0) is ready,
            )
        )

    def _status_now(self, deployment_id: str) -> str:
        """The deployment's status, or "unknown" (saying why) when the controller does not answer."""
        try:
            return str(self._status(deployment_id).get("status"))
        except PipelineError as error:
            self._say(f"   {error}")
            return "unknown"

    def _previous_environment(self, deployment_id: str) -> str:
        try:
            return str(self._status(deployment_id).get("prod_env"))
        except PipelineError:
            return "the previous environment"

    def _explain_failure(self, deployment_id: str) -> None:
        try:
            record = self._status(deployment_id)
        except PipelineError as error:
            self._say(f"   {error}")
            return
        self._say(f"   why: {record.get('digest') or record.get('error')}")
        for event in record.get("failure_events") or []:
            self._say(f"     Beanstalk event: {event}")

    def _show_production(self, title: str) -> None:
        try:
            answer = self.production.call()
        except (urllib.error.URLError, OSError) as error:
            self._say(f"   {title}: unreachable ({error})")
            return
        history = ", ".join(f"{d['version']} (since {d['deployed_at']})" for d in answer.get("deploys", []))
        by_version = ", ".join(f"{v}: {n}" for v, n in sorted(answer.get("calls_by_version", {}).items()))
        self._say(f"   {title}: version {answer['version']}, calls {answer['calls']} ({by_version})")
        self._say(f"   deploy history: {history}")

    def _summary(self) -> None:
        self._say("")
        self._say("Summary")
        header = (
            "step",
            "deployment",
            "status",
            "production",
            "took",
            "production traffic meanwhile",
            "outcome",
        )
        rows = [
            (
                r.step,
                r.deployment,
                r.status,
                r.production,
                f"{r.seconds:.1f} s",
                r.traffic,
                "as expected" if r.expected else "UNEXPECTED",
            )
            for r in self.rows
        ]
        widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
        for line in (header, tuple("-" * w for w in widths), *rows):
            self._say(
                "  " + "  ".join(str(cell).ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
            )

    def _keep_instructions(self) -> None:
        info, prod_cname = self.info, self.names.cname(self.names.prod_prefix)
        exports = f"export PIPELINE_URL={info.controller_url} PIPELINE_SECRET={info.signing_secret}"
        self._say("")
        self._say("Everything keeps running (Ctrl-C stops it all). Try:")
        self._say(f"  curl {info.prod_url}/                      # production, whichever environment owns it")
        self._say(f"  curl -x {info.cname_proxy} http://{prod_cname}/health")
        for env_name, env in info.environments.items():
            self._say(f"  curl {env['url']}/health    # {env_name} directly")
        self._say(f"  {exports}")
        self._say(f"  {sys.executable} -m controller.client deploy --image {self.image} --tag 4.0.0 --wait")
        self._say(f"  {sys.executable} -m controller.client list")
        self._say(
            f"  AWS_ENDPOINT_URL={info.aws_endpoint} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "
            f"aws elasticbeanstalk describe-environments --region {info.region}"
        )

    # --- where people are ---------------------------------------------------------------------------

    def _dashboard_link(self) -> None:
        self._say("  the dashboard (a signed link, valid an hour):")
        self._client(["dashboard"])

    def _show_inbox(self) -> None:
        """What GitHub and the chat were told about the step (an announcement may trail the client a bit)."""
        if self.inbox is None:
            return
        lines: list[str] = []
        deadline, quiet_since = time.monotonic() + INBOX_SETTLE_S, time.monotonic()
        while time.monotonic() < deadline and time.monotonic() - quiet_since < 1.0:
            arrived = self.inbox.take()
            if arrived:
                lines += arrived
                quiet_since = time.monotonic()
            time.sleep(0.1)
        for line in lines:
            self._say(f"   {line}")

    # --- details ------------------------------------------------------------------------------------

    def _client(self, arguments: list[str]) -> int:
        """Run the CI client as CI would, echoing its output line by line as it comes."""
        self._say(f"   $ python -m controller.client {shlex.join(arguments)}")
        env = without_proxies(os.environ)
        env.update(PIPELINE_URL=self.info.controller_url, PIPELINE_SECRET=self.info.signing_secret)
        with subprocess.Popen(
            [sys.executable, "-m", "controller.client", *arguments],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        ) as client:
            assert client.stdout is not None
            try:
                for line in client.stdout:
                    self._say(f"     | {line.rstrip()}")
                return client.wait(timeout=CLIENT_TIMEOUT_S + 30)
            except BaseException:  # interrupted (Ctrl-C, SIGTERM) or stuck: the client goes too
                client.kill()
                raise

    def _latest(self) -> dict[str, Any] | None:
        try:
            return latest_deployment(self.info.controller_url, self.info.signing_secret)
        except PipelineError as error:
            self._say(f"   {error}")
            return None

    def _status(self, deployment_id: str) -> dict[str, Any]:
        from sandbox.pipeline_api import get

        return get(self.info.controller_url, self.info.signing_secret, f"/deployments/{deployment_id}")

    def _production_version(self) -> str:
        health = self.production.health()
        return str(health.get("version")) if health else "unreachable"

    def _wait_for_production(self, version: str) -> str:
        deadline = time.monotonic() + SWITCH_TIMEOUT_S
        seen = self._production_version()
        while seen != version and time.monotonic() < deadline:
            time.sleep(0.2)
            seen = self._production_version()
        return seen

    def _say(self, line: str) -> None:
        self._out(line)


def _commit(tag: str) -> str:
    """A commit SHA for each demo release (GitHub deployments name a commit)."""
    import hashlib

    return hashlib.sha1(tag.encode(), usedforsecurity=False).hexdigest()


def _traffic(tally: Tally) -> str:
    if tally.total == 0:
        return "-"
    versions = ", ".join(f"{version} x{count}" for version, count in sorted(tally.by_version.items()))
    return f"{tally.total} calls, {len(tally.failures)} failed ({versions})"
