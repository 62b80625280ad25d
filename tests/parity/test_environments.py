"""Environments as the AWS CLI and the EB CLI create, wait for, describe and terminate them: CreateEnvironment
(Launching, then its events and EventBridge events), the AWS CLI's waiters, DescribeEnvironments,
CheckDNSAvailability, DescribeEnvironmentHealth / DescribeInstancesHealth (`eb health`),
DescribeEnvironmentResources, DescribeConfigurationSettings, TerminateEnvironment."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from .harness.beanstalk import Stage
from .harness.clis import Clis
from .harness.eventbridge import EventCapture
from .harness.observations import answer, event_lines, eventbridge_lines
from .harness.snapshots import Session

pytestmark = pytest.mark.parity


@dataclass
class Launched:
    name: str
    created: dict[str, Any]
    since: datetime
    waited: Any  # the waiter's CompletedProcess


@pytest.fixture(scope="module")
def launched(stage: Stage, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launched]:
    """A third environment, created and waited for with the AWS CLI as a user would."""
    from .harness import clis

    if clis.missing():
        pytest.skip(f"{', '.join(clis.missing())} missing; run `make clients`")
    project = tmp_path_factory.mktemp("cli-project")
    home = None if stage.target.is_aws else tmp_path_factory.mktemp("cli-home")
    cli = Clis(stage.target, project, home)
    name = stage.ledger.name("cli")
    stage.ledger.will_create(f"Beanstalk environment {name}", lambda: stage.terminate(name))
    since = stage.now()
    created = cli.aws_json(
        "elasticbeanstalk",
        "create-environment",
        "--application-name",
        stage.app,
        "--environment-name",
        name,
        "--cname-prefix",
        stage.ledger.name("cli"),
        "--version-label",
        "v1",
        "--solution-stack-name",
        stage.solution_stack,
        "--option-settings",
        json.dumps(stage.option_settings),
        "--tags",
        json.dumps(stage.ledger.tags),
    )
    stage.wait_ready(name)  # first: the waiter looks at once, then only every 20 s
    waited = cli.aws("elasticbeanstalk", "wait", "environment-exists", "--environment-names", name)
    yield Launched(name, created, since, waited)


def test_create_environment_answers_launching(
    launched: Launched, beanstalk: Stage, snapshot: Session
) -> None:
    snapshot.name(launched.name, "environment")
    snapshot.name(beanstalk.solution_stack, "solution-stack")

    snapshot.match("created", launched.created)


def test_a_launch_writes_its_events_and_eventbridge_events(
    launched: Launched, beanstalk: Stage, capture: EventCapture, snapshot: Session
) -> None:
    snapshot.name(launched.name, "environment")
    assert launched.waited.returncode == 0, launched.waited.stderr

    events, began = beanstalk.operation_events(
        launched.name, launched.since, "createEnvironment is starting", "Successfully launched environment"
    )
    delivered = capture.of(launched.name, began, until_status="Environment creation successful")

    snapshot.match("events", event_lines(events))
    snapshot.match("eventbridge", eventbridge_lines(delivered))


def test_describe_environments_shows_a_ready_environment(beanstalk: Stage, snapshot: Session) -> None:
    snapshot.name(beanstalk.solution_stack, "solution-stack")
    beanstalk.wait_ready(beanstalk.blue)

    described = beanstalk.eb.describe_environments(
        ApplicationName=beanstalk.app, EnvironmentNames=[beanstalk.blue]
    )

    snapshot.match("described", answer(described))


def test_check_dns_availability_of_a_taken_and_a_free_prefix(beanstalk: Stage, snapshot: Session) -> None:
    taken = beanstalk.ledger.name("prod")
    free = beanstalk.ledger.name("free")
    snapshot.name(taken, "taken")
    snapshot.name(free, "free")

    snapshot.match("taken", answer(beanstalk.eb.check_dns_availability(CNAMEPrefix=taken)))
    snapshot.match("free", answer(beanstalk.eb.check_dns_availability(CNAMEPrefix=free)))


def test_environment_health_as_eb_health_reads_it(beanstalk: Stage, snapshot: Session) -> None:
    beanstalk.wait_ready(beanstalk.blue)
    snapshot.volatile(
        "environment.ApplicationMetrics", "the requests of the last 10 s: traffic, not behaviour"
    )
    snapshot.volatile("instances.InstanceHealthList[*].ApplicationMetrics", "traffic, not behaviour")
    snapshot.volatile("instances.InstanceHealthList[*].System", "the instance's load and CPU")

    environment = beanstalk.eb.describe_environment_health(
        EnvironmentName=beanstalk.blue, AttributeNames=["All"]
    )
    instances = beanstalk.eb.describe_instances_health(EnvironmentName=beanstalk.blue, AttributeNames=["All"])

    snapshot.match("environment", answer(environment))
    snapshot.match("instances", answer(instances))


def test_environment_resources_name_its_instance_and_load_balancer(
    beanstalk: Stage, snapshot: Session
) -> None:
    snapshot.volatile("resources.EnvironmentResources.LoadBalancers[*].Name", "a name AWS generates")
    snapshot.volatile("resources.EnvironmentResources.AutoScalingGroups[*].Name", "a name AWS generates")
    snapshot.volatile("resources.EnvironmentResources.LaunchConfigurations", "AL2023 uses launch templates")
    snapshot.volatile("resources.EnvironmentResources.LaunchTemplates", "a name AWS generates")

    described = beanstalk.eb.describe_environment_resources(EnvironmentName=beanstalk.blue)

    snapshot.match("resources", answer(described))


def test_configuration_settings_of_an_environment(beanstalk: Stage, snapshot: Session) -> None:
    snapshot.name(beanstalk.solution_stack, "solution-stack")
    snapshot.volatile("settings.ConfigurationSettings[*].OptionSettings", "hundreds of platform defaults")

    settings = beanstalk.eb.describe_configuration_settings(
        ApplicationName=beanstalk.app, EnvironmentName=beanstalk.blue
    )

    snapshot.match("settings", answer(settings))


def test_terminate_environment_answers_terminating_and_the_waiter_waits(
    launched: Launched, beanstalk: Stage, cli: Clis, snapshot: Session
) -> None:
    snapshot.name(launched.name, "environment")
    snapshot.name(beanstalk.solution_stack, "solution-stack")
    since = beanstalk.now()

    terminating = cli.aws_json(
        "elasticbeanstalk", "terminate-environment", "--environment-name", launched.name
    )
    events, _ = beanstalk.operation_events(
        launched.name,
        since,
        "terminateEnvironment is starting",
        "terminateEnvironment completed successfully",
    )
    waited = cli.aws(
        "elasticbeanstalk", "wait", "environment-terminated", "--environment-names", launched.name
    )

    assert waited.returncode == 0, waited.stderr
    snapshot.match("terminating", terminating)
    snapshot.match("events", event_lines(events))
