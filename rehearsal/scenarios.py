"""The four deployments, through the real controller and its CI client, as CI and a person make them:

1. good       `deploy --image I --tag GOOD --wait`                 ends succeeded (production on GOOD)
2. broken     `deploy --image I --tag GOOD-broken --wait`          ends failed, production untouched
3. held       `deploy --image I --tag HELD --hold --wait`, then `promote ID --wait`    ends succeeded
4. rollback   `rollback ID` of the held one, then `status ID --wait`                   ends rolled_back

Each run keeps the client's commands and output, its wall-clock window (to read the logs and events of
that deployment), and the deployment's record as `status ID` prints it. A run's window lasts until the next
run starts (the last one's until a pause after it ends): Beanstalk's events and the controller's log lines
arrive a little after the command that caused them returns, and the deployments run one after another.
"""

from __future__ import annotations

import itertools
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .commands import Commands, Ran
from .settings import Settings

WAIT = ("--wait", "--timeout", "3600")
_ID = re.compile(r"\bdeployment (d-[0-9a-f]+)")


@dataclass
class DeploymentRun:
    scenario: str
    expected: str  # the status it should end in
    deployment_id: str = ""
    commands: list[Ran] = field(default_factory=list)
    started_ms: int = 0
    ended_ms: int = 0  # when its last command returned
    until_ms: int = 0  # the end of its window: the next run's start, or the pause after the last
    record: dict[str, Any] = field(default_factory=dict)

    @property
    def outcome(self) -> str:
        return str(self.record.get("status", "unknown"))

    @property
    def as_expected(self) -> bool:
        return self.outcome == self.expected


@dataclass(frozen=True)
class Controller:
    """How the CI client reaches the controller: on AWS its API's URL; on the sandbox the same URL over
    HTTP through the sandbox's front (standing in for DNS and API Gateway)."""

    url: str
    secret: str
    proxy: str | None


def controller(api_url: str, secret: str, front: str | None) -> Controller:
    if front is None:
        return Controller(api_url, secret, None)
    return Controller("http://" + api_url.split("://", 1)[1], secret, front)


def wait_until_it_answers(reached: Controller, timeout_s: float = 300.0) -> None:
    """Until the controller answers GET /health (a new API takes a moment on AWS; the sandbox starts the
    controller once its stack is complete); RuntimeError naming the last answer."""
    handlers: list[urllib.request.BaseHandler] = [
        urllib.request.ProxyHandler({"http": reached.proxy} if reached.proxy else {})
    ]
    opener = urllib.request.build_opener(*handlers)
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with opener.open(f"{reached.url}/health", timeout=10) as answered:
                if answered.status == 200:
                    return
                last = f"HTTP {answered.status}"
        except (urllib.error.URLError, OSError) as error:
            last = str(error)
        time.sleep(2)
    raise RuntimeError(
        f"the controller at {reached.url} did not answer GET /health within {timeout_s:.0f} s: {last}"
    )


def run_all(
    settings: Settings, commands: Commands, reached: Controller, say: Callable[[str], None]
) -> list[DeploymentRun]:
    image = settings.image

    def client(*args: str) -> Ran:
        return commands.client(*args, url=reached.url, secret=reached.secret, proxy=reached.proxy)

    runs: list[DeploymentRun] = []
    say(f"rehearsal: 1/4 a good deployment: {image}:{settings.good_tag}")
    runs.append(_deploy("good", "succeeded", client, "--image", image, "--tag", settings.good_tag))
    say(f"rehearsal: 2/4 a broken deployment: {image}:{settings.broken_tag} (no registry has it)")
    runs.append(_deploy("broken", "failed", client, "--image", image, "--tag", settings.broken_tag))
    say(f"rehearsal: 3/4 a held deployment, promoted: {image}:{settings.held_tag}")
    held = _deploy(
        "held and promoted", "succeeded", client, "--image", image, "--tag", settings.held_tag, "--hold"
    )
    if held.deployment_id:
        _continue(held, client, "promote", held.deployment_id, *WAIT)
    runs.append(held)
    say(f"rehearsal: 4/4 a rollback of {held.deployment_id or 'the held deployment'}")
    back = DeploymentRun("rollback", "rolled_back", deployment_id=held.deployment_id)
    if held.deployment_id:
        back.started_ms = _now_ms()
        _continue(back, client, "rollback", held.deployment_id)
        _continue(back, client, "status", held.deployment_id, *WAIT)
    runs.append(back)
    return runs


def close_windows(runs: list[DeploymentRun], settle_s: float) -> None:
    """Each run's window ends where the next one starts; the last one's `settle_s` after it ended (waited
    here), so the events and log lines it caused have arrived."""
    for run, following in itertools.pairwise(runs):
        run.until_ms = following.started_ms or run.ended_ms
    if runs:
        time.sleep(settle_s)
        runs[-1].until_ms = _now_ms()


def _deploy(scenario: str, expected: str, client: Callable[..., Ran], *args: str) -> DeploymentRun:
    run = DeploymentRun(scenario, expected, started_ms=_now_ms())
    ran = client("deploy", *args, *WAIT)
    run.commands.append(ran)
    found = _ID.search(ran.output)
    run.deployment_id = found.group(1) if found else ""
    _record(run, client)
    return run


def _continue(run: DeploymentRun, client: Callable[..., Ran], *args: str) -> None:
    run.commands.append(client(*args))
    _record(run, client)


def _record(run: DeploymentRun, client: Callable[..., Ran]) -> None:
    run.ended_ms = _now_ms()
    if not run.deployment_id:
        return
    shown = client("status", run.deployment_id)
    try:
        run.record = json.loads(shown.output)
    except ValueError:
        run.record = {"status": "unknown", "error": shown.output.strip()[-500:]}


def _now_ms() -> int:
    return int(time.time() * 1000)
