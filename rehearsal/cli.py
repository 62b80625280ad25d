"""`python -m rehearsal`: check, say what will be made and what it costs, provision, run the four
deployments, report, tear down (also after a failure, Ctrl-C or SIGTERM). Progress goes to stderr; the
summary is printed last on stdout and written beside the report.

Exit codes: 0 every deployment ended as expected and everything was deleted (or kept on request); 1 a
deployment ended otherwise, a command failed, or something could not be deleted; 2 refused (settings,
credentials, account); 130 interrupted.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from . import capture, evidence, removal, report, scenarios
from .account import Refusal, caller_account, throwaway_account
from .aws import Clients
from .commands import CommandFailed, Commands, base_environment
from .provisioning import provision
from .settings import ACCOUNT_VARIABLE, Settings, SettingsError, settings
from .teardown import Teardown, to_stderr

# On-demand prices in us-east-1 (USD/hour); other regions differ by a few per cent.
HOURLY = {
    "t3.small instance": 0.0208,
    "Application Load Balancer at idle": 0.0305,
    "public IPv4 address": 0.005,
}
HOURS = 1.5  # provisioning ~20 min, four deployments ~40 min, teardown ~15 min
# After the last deployment, how long until its Beanstalk events (EventBridge, then CloudWatch Logs) and its
# Lambda log lines can be read back: on AWS both take seconds, now and then tens of seconds.
SETTLE_ON_AWS_S = 60
SETTLE_S = 3


def main(argv: Sequence[str] | None = None) -> int:
    say = to_stderr
    try:
        chosen = settings(argv, os.environ)
        clients, account = _target(chosen)
    except (SettingsError, Refusal) as refusal:
        print(f"rehearsal: {refusal}", file=sys.stderr)
        return 2
    if chosen.remove:
        return _remove(chosen, clients, say)
    for line in plan(chosen, account, clients.region):
        say(line)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _rehearse(chosen, clients, account, say)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _target(chosen: Settings) -> tuple[Clients, str]:
    if chosen.endpoint_url is None:
        found = throwaway_account(os.environ, ACCOUNT_VARIABLE, "the rehearsal")
        return Clients(found.region, None, found.session), found.account_id
    region = os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    clients = Clients(region, chosen.endpoint_url)
    probe = Clients(region, chosen.endpoint_url).session_for_endpoint()
    return clients, caller_account(probe, chosen.endpoint_url, f"the endpoint {chosen.endpoint_url}")


def plan(chosen: Settings, account: str, region: str) -> list[str]:
    where = (
        f"AWS account {account}, region {region}" if chosen.on_aws else f"the endpoint {chosen.endpoint_url}"
    )
    lines = [
        f"rehearsal {chosen.prefix}: against {where}",
        f"  will create, all named {chosen.prefix}*:",
        "  - the provisioning stack (make provision): the Beanstalk application, blue and green environments "
        "(t3.small, load-balanced), their roles, the artifact bucket, the signing secret",
        "  - the controller's stack (make deploy-controller): Lambda, API Gateway, SQS, its rule, and its "
        "DynamoDB table (which the stack keeps on deletion; the rehearsal deletes it)",
        f"  - a catch-all rule for aws.elasticbeanstalk events into /aws/events/{chosen.prefix}-beanstalk",
        f"  will deploy {chosen.image}: {chosen.good_tag} (good), {chosen.broken_tag} (broken), "
        f"{chosen.held_tag} (held, then promoted), then roll back; pushes nothing",
    ]
    if chosen.on_aws:
        hourly = 2 * (sum(HOURLY.values()) + HOURLY["public IPv4 address"])
        lines.append(
            f"  estimated cost: {hourly * HOURS + 0.05:.2f} USD (two environments for {HOURS} h at us-east-1 "
            "on-demand prices: a t3.small, an ALB and two public IPv4 addresses each; Lambda, API Gateway, "
            "DynamoDB, SQS, EventBridge and CloudWatch Logs under 0.05 USD)"
        )
    keep = "left running (--keep)" if chosen.keep else "deleted at the end, also after a failure or Ctrl-C"
    lines.append(f"  everything is {keep}")
    return lines


def _rehearse(chosen: Settings, clients: Clients, account: str, say: Any) -> int:
    chosen.out_dir.mkdir(parents=True, exist_ok=True)
    commands = Commands(
        chosen.out_dir / "rehearsal.log", base_environment(chosen.endpoint_url), say, chosen.endpoint_url
    )
    teardown = removal.everything(chosen.prefix, clients, Teardown(say=say))
    started = _now()
    entries: list[dict[str, Any]] = []
    provisioning: dict[str, float] = {}
    problem: str | None = None
    code = 0
    try:
        say("rehearsal: catching aws.elasticbeanstalk events into CloudWatch Logs")
        caught = capture.start(chosen.prefix, clients, account, clients.region)
        say(f"rehearsal: provisioning both stacks (the commands' output: {commands.log})")
        provisioned = provision(chosen, commands, clients)
        provisioning = provisioned.seconds
        reached = scenarios.controller(
            provisioned.controller_url, provisioned.signing_secret, chosen.front_url
        )
        say(f"rehearsal: waiting for the controller at {reached.url} to answer")
        scenarios.wait_until_it_answers(reached)
        runs = scenarios.run_all(chosen, commands, reached, say)
        settle_s = SETTLE_ON_AWS_S if chosen.on_aws else SETTLE_S
        say(f"rehearsal: waiting {settle_s} s for the last events and log lines to arrive")
        scenarios.close_windows(runs, settle_s)
        say("rehearsal: reading back the deployments' records, AWS calls and events")
        reference = report.load_reference(chosen.reference)
        for run in runs:
            entry = report.deployment_entry(
                run,
                evidence.steps(run),
                evidence.aws_calls(run, provisioned.functions, clients),
                evidence.beanstalk_events(run, caught, clients),
            )
            entry["differences"] = report.differences(entry, reference.get(run.scenario))
            entries.append(entry)
        if any(not entry["as_expected"] for entry in entries):
            code = 1
    except KeyboardInterrupt:
        problem, code = "interrupted (Ctrl-C or SIGTERM)", 130
    except CommandFailed as error:
        problem, code = str(error), 1
    except Exception as error:  # an AWS error or a bug: reported, and everything is still deleted
        problem, code = f"{type(error).__name__}: {error}", 1
    if problem:
        say(f"rehearsal: stopped: {problem}")
    failures: list[str] = []
    if chosen.keep:
        say(f"rehearsal: kept; to remove it: {removal.how_to_remove(chosen.prefix, chosen.endpoint_url)}")
    else:
        say("rehearsal: deleting everything it created")
        failures = teardown.run()
        code = code or (1 if failures else 0)
    written = _write(chosen, account, clients.region, started, provisioning, entries, problem, failures)
    print(report.summary(written), end="")
    say(
        f"rehearsal: report in {chosen.out_dir / 'rehearsal-report.json'}, summary in "
        f"{chosen.out_dir / 'rehearsal-summary.md'}"
    )
    if chosen.write_reference is not None and entries:
        report.write_reference(chosen.write_reference, entries)
    return code


def _write(
    chosen: Settings,
    account: str,
    region: str,
    started: str,
    provisioning: dict[str, float],
    entries: list[dict[str, Any]],
    problem: str | None,
    failures: list[str],
) -> dict[str, Any]:
    written = {
        "rehearsal": {
            "prefix": chosen.prefix,
            "target": "aws" if chosen.on_aws else f"endpoint {chosen.endpoint_url}",
            "account": account,
            "region": region,
            "image": chosen.image,
            "good_tag": chosen.good_tag,
            "held_tag": chosen.held_tag,
            "started": started,
            "finished": _now(),
            "stopped": problem,
        },
        "provisioning": provisioning,
        "deployments": entries,
        "teardown": {
            "kept": chosen.keep,
            "failures": failures,
            "how_to_remove": removal.how_to_remove(chosen.prefix, chosen.endpoint_url),
        },
    }
    (chosen.out_dir / "rehearsal-report.json").write_text(
        json.dumps(written, indent=2) + "\n", encoding="utf-8"
    )
    (chosen.out_dir / "rehearsal-summary.md").write_text(report.summary(written), encoding="utf-8")
    return written


def _remove(chosen: Settings, clients: Clients, say: Any) -> int:
    say(f"rehearsal: deleting what rehearsal {chosen.prefix} left")
    failures = removal.everything(chosen.prefix, clients, Teardown(say=say)).run()
    for failure in failures:
        say(f"rehearsal: could not delete {failure}")
    return 1 if failures else 0


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
