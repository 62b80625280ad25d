"""The EB CLI's blue/green workflow against the emulation: what the EB CLI reports is the true outcome."""

from __future__ import annotations

import json

import pytest

from .conftest import Clients

pytestmark = pytest.mark.clients

DOCKERRUN = {
    "AWSEBDockerrunVersion": "1",
    "Image": {"Name": "docker.io/acme/deliverypipeline:2.0.0", "Update": "true"},
    "Ports": [{"ContainerPort": "8080"}],
}


@pytest.fixture
def project(clients: Clients) -> Clients:
    """`eb init -p docker myapp` in a project holding a Dockerrun.aws.json; blue (prod) and green launched."""
    (clients.project / "Dockerrun.aws.json").write_text(json.dumps(DOCKERRUN))
    init = clients.eb("init", "-p", "docker", "myapp", "--region", "us-east-1")
    assert init.returncode == 0, init.stdout + init.stderr
    clients.environment("myapp-blue", "myapp-prod")
    clients.environment("myapp-green", "myapp-pre")
    launched = clients.controls.settle()["environments"]  # the AWS CLI's waiter is tested apart
    assert {name: env["status"] for name, env in launched.items()} == {
        "myapp-blue": "Ready",
        "myapp-green": "Ready",
    }
    return clients


def cname_of(clients: Clients, name: str) -> str:
    described = clients.aws_json("elasticbeanstalk", "describe-environments", "--environment-names", name)
    return str(described["Environments"][0]["CNAME"])


def test_eb_init_creates_a_new_application_on_the_docker_platform(clients: Clients) -> None:
    done = clients.eb("init", "-p", "docker", "newapp", "--region", "us-east-1")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "Application newapp has been created." in done.stdout
    config = (clients.project / ".elasticbeanstalk" / "config.yml").read_text()
    assert "application_name: newapp" in config
    assert "default_platform: Docker" in config
    apps = clients.aws_json("elasticbeanstalk", "describe-applications")["Applications"]
    assert [app["ApplicationName"] for app in apps] == ["newapp"]


def test_eb_init_joins_an_existing_application(clients: Clients) -> None:
    clients.aws_json("elasticbeanstalk", "create-application", "--application-name", "myapp")

    done = clients.eb("init", "-p", "docker", "myapp", "--region", "us-east-1")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "has been created" not in done.stdout
    assert "application_name: myapp" in (clients.project / ".elasticbeanstalk" / "config.yml").read_text()


def test_eb_list_status_events_and_health_describe_the_environments(project: Clients) -> None:
    listed = project.eb("list")
    status = project.eb("status", "myapp-blue")
    events = project.eb("events", "myapp-blue")
    health = project.eb("health", "myapp-blue")

    assert listed.returncode == 0 and listed.stdout.split() == ["myapp-blue", "myapp-green"]
    assert status.returncode == 0, status.stdout + status.stderr
    assert "CNAME: myapp-prod.us-east-1.elasticbeanstalk.com" in status.stdout
    assert (
        "Platform: arn:aws:elasticbeanstalk:us-east-1::platform/Docker running on 64bit Amazon Linux 2023"
        in (status.stdout)
    )
    assert "Status: Ready" in status.stdout and "Health: Green" in status.stdout
    assert "Successfully launched environment: myapp-blue" in events.stdout
    assert health.returncode == 0, health.stdout + health.stderr
    assert "Ok" in health.stdout and "i-0a1b2c3d4e5f60718" in health.stdout


def test_eb_deploy_uploads_creates_the_version_updates_and_reports_success(project: Clients) -> None:
    done = project.eb("deploy", "myapp-green", "--label", "2.0.0")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "Environment update completed successfully." in done.stdout
    # Every event of the update, as AWS's `eb deploy` example shows them (none skipped by the EB CLI).
    assert "Environment update is starting." in done.stdout
    assert "Deploying new version to instance(s)." in done.stdout
    version = project.aws_json(
        "elasticbeanstalk",
        "describe-application-versions",
        "--application-name",
        "myapp",
        "--version-labels",
        "2.0.0",
    )["ApplicationVersions"][0]
    assert version["SourceBundle"]["S3Bucket"] == "elasticbeanstalk-us-east-1-123456789012"
    status = project.eb("status", "myapp-green")
    assert "Deployed Version: 2.0.0" in status.stdout and "Health: Green" in status.stdout


def test_a_deploy_that_ends_red_is_reported_as_failed(project: Clients) -> None:
    project.eb("deploy", "myapp-green", "--label", "2.0.0")  # an earlier success the EB CLI must not reuse
    project.controls.set_outcome("myapp-green", "Red")

    done = project.eb("deploy", "myapp-green", "--label", "3.0.0")

    assert done.returncode != 0
    assert "Failed to deploy application." in done.stdout + done.stderr
    assert "Environment update completed successfully." not in done.stdout
    assert "Deployed Version: 2.0.0" in project.eb("status", "myapp-green").stdout


def test_eb_swap_returns_once_the_cnames_have_moved(project: Clients) -> None:
    project.eb("deploy", "myapp-green", "--label", "2.0.0")

    done = project.eb("swap", "myapp-green", "--destination_name", "myapp-blue")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "Completed swapping CNAMEs for environments 'myapp-green' and 'myapp-blue'." in done.stdout
    assert cname_of(project, "myapp-green") == "myapp-prod.us-east-1.elasticbeanstalk.com"
    assert cname_of(project, "myapp-blue") == "myapp-pre.us-east-1.elasticbeanstalk.com"


def test_eb_abort_stops_a_stuck_deploy_back_on_the_previous_version(project: Clients) -> None:
    project.eb("deploy", "myapp-green", "--label", "2.0.0")
    project.controls.set_outcome("myapp-green", "Stuck")
    started = project.eb("deploy", "myapp-green", "--label", "3.0.0", "--nohang")
    assert started.returncode == 0, started.stdout + started.stderr

    done = project.eb("abort", "myapp-green")

    assert done.returncode == 0, done.stdout + done.stderr
    assert 'Aborting update to environment "myapp-green".' in done.stdout
    status = project.eb("status", "myapp-green").stdout
    assert "Status: Ready" in status and "Deployed Version: 2.0.0" in status


def test_eb_terminate_waits_for_the_termination(project: Clients) -> None:
    done = project.eb("terminate", "myapp-blue", "--force")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "terminateEnvironment completed successfully." in done.stdout
    assert project.eb("list").stdout.split() == ["myapp-green"]
