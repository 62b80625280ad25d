"""The CNAME swap as the controller makes it (SwapEnvironmentCNAMEs) and as a person makes it (`eb swap`):
the names change hands, and the events say so."""

from __future__ import annotations

import pytest

from .harness.beanstalk import Stage
from .harness.clis import Clis
from .harness.eventbridge import EventCapture
from .harness.observations import event_lines, eventbridge_lines
from .harness.snapshots import Session

pytestmark = pytest.mark.parity


def _cnames(beanstalk: Stage) -> list[dict[str, str]]:
    return [
        {"environment": name, "CNAME": str(beanstalk.describe(name)["CNAME"])}
        for name in (beanstalk.blue, beanstalk.green)
    ]


def _name_pair(beanstalk: Stage, snapshot: Session, source: str, destination: str) -> None:
    """The two environments and their load balancers' names (the swap's events name both)."""
    snapshot.name(source, "source")
    snapshot.name(destination, "destination")
    snapshot.name(str(beanstalk.describe(source)["EndpointURL"]), "source-endpoint")
    snapshot.name(str(beanstalk.describe(destination)["EndpointURL"]), "destination-endpoint")


def test_a_swap_moves_the_names_and_writes_its_events(
    beanstalk: Stage, capture: EventCapture, snapshot: Session
) -> None:
    for name in (beanstalk.blue, beanstalk.green):
        beanstalk.wait_ready(name)
    production = next(
        name for name in (beanstalk.blue, beanstalk.green) if "-prod." in beanstalk.describe(name)["CNAME"]
    )
    standby = beanstalk.green if production == beanstalk.blue else beanstalk.blue
    _name_pair(beanstalk, snapshot, standby, production)
    before = _cnames(beanstalk)
    since = beanstalk.now()

    swapped = beanstalk.eb.swap_environment_cnames(
        SourceEnvironmentName=standby, DestinationEnvironmentName=production
    )
    events, began = beanstalk.operation_events(
        standby,
        since,
        "swapEnvironmentCNAMEs is starting",
        "Completed swapping CNAMEs",
        request_id=swapped["ResponseMetadata"]["RequestId"],
    )
    for name in (beanstalk.blue, beanstalk.green):
        beanstalk.wait_ready(name)
    after = _cnames(beanstalk)
    delivered = capture.of(standby, began)

    assert [item["CNAME"] for item in after] == [item["CNAME"] for item in reversed(before)]
    snapshot.match("events", event_lines(events))
    snapshot.match("eventbridge", eventbridge_lines(delivered))


def test_eb_swap_reports_the_swap_as_it_goes(beanstalk: Stage, cli: Clis, snapshot: Session) -> None:
    for name in (beanstalk.blue, beanstalk.green):
        beanstalk.wait_ready(name)
    production = next(
        name for name in (beanstalk.blue, beanstalk.green) if "-prod." in beanstalk.describe(name)["CNAME"]
    )
    standby = beanstalk.green if production == beanstalk.blue else beanstalk.blue
    _name_pair(beanstalk, snapshot, standby, production)
    initialized = cli.eb("init", beanstalk.app, "--platform", "docker", "--region", beanstalk.target.region)
    assert initialized.returncode == 0, initialized.stdout + initialized.stderr

    done = cli.eb("swap", standby, "--destination_name", production)

    assert done.returncode == 0, done.stdout + done.stderr
    snapshot.match("printed", _event_output(done.stdout))


SEVERITIES = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")


def _event_output(printed: str) -> list[str]:
    """The EB CLI's event lines as `SEVERITY: text`, without their timestamps. Its versions print them as
    `2018-07-11 21:05:25    INFO: text` (the documentation's) or `2026-12-05 22:14:47    INFO    text`
    (awsebcli 3.27): the same event either way."""
    lines = []
    for line in printed.splitlines():
        parts = line.split(None, 3)
        if len(parts) < 4:
            continue
        severity = parts[2].rstrip(":")
        if severity in SEVERITIES:
            lines.append(f"{severity}: {parts[3].strip()}")
    return lines
