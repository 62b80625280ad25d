"""The sandbox provisions its AWS side from the templates a user deploys, through the emulated
CloudFormation: both stacks complete, the Beanstalk environments are the stack's resources, the controller
gets its configuration from the stack, and the policies CloudFormation made are the ones the IAM check
evaluates."""

from __future__ import annotations

import ast
import json
import logging
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

import moto_ext
from moto_ext.elasticbeanstalk.settings.options import counts_4xx
from sandbox.live.dockerrun import ImageRef
from sandbox.provision import (
    INFRA_TEMPLATE,
    Names,
    Provisioned,
    ProvisionError,
    deploy_stack,
    newest_docker_stack,
    provision,
)
from tests.infra.authorization import ACCOUNT, PARTITION
from tests.infra.function_policies import UNRESOLVED, bindings, function_policies, resolve

ROOT = Path(__file__).resolve().parents[2]
NAMES = Names()
FIRST = ImageRef("docker.io/acme/deliverypipeline", "1.0.0")


def _session(endpoint: str) -> SimpleNamespace:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=NAMES.region
    )
    services = (
        "s3",
        "sqs",
        "elasticbeanstalk",
        "cloudformation",
        "secretsmanager",
        "iam",
        "apigateway",
        "sts",
    )
    clients = {service: session.client(service, endpoint_url=endpoint) for service in services}
    return SimpleNamespace(**clients, awslambda=session.client("lambda", endpoint_url=endpoint))


@pytest.fixture(scope="module")
def provisioned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimpleNamespace, Provisioned]]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    endpoint, stop = moto_ext.start_server(port=0)
    # As the plain sandbox does: the environments launch at once (the emulation's default is minutes).
    moto_ext.backend(region=NAMES.region).set_timings(launch_s=0)
    clients = _session(endpoint)
    try:
        yield clients, provision(clients, NAMES, FIRST, tmp_path_factory.mktemp("provision"))
    finally:
        stop()


def test_both_stacks_complete_with_the_environments_among_their_resources(provisioned: Any) -> None:
    clients, result = provisioned
    cfn = clients.cloudformation

    statuses = {s["StackName"]: s["StackStatus"] for s in cfn.describe_stacks()["Stacks"]}
    resources = {
        r["LogicalResourceId"]: r
        for r in cfn.list_stack_resources(StackName=NAMES.infra_stack)["StackResourceSummaries"]
    }

    assert result.stacks == (NAMES.infra_stack, NAMES.controller_stack)
    assert statuses == {NAMES.infra_stack: "CREATE_COMPLETE", NAMES.controller_stack: "CREATE_COMPLETE"}
    for logical, name in (("BlueEnvironment", NAMES.blue), ("GreenEnvironment", NAMES.green)):
        assert resources[logical]["ResourceType"] == "AWS::ElasticBeanstalk::Environment"
        assert resources[logical]["PhysicalResourceId"] == name
        assert resources[logical]["ResourceStatus"] == "CREATE_COMPLETE"
    assert json.loads(json.dumps(cfn.get_template(StackName=NAMES.infra_stack)["TemplateBody"])) == (
        INFRA_TEMPLATE.read_text()
    ), "GetTemplate answers the template as submitted"
    controller = cfn.describe_stacks(StackName=NAMES.controller_stack)["Stacks"][0]
    assert controller["RoleARN"] == _outputs(cfn, NAMES.infra_stack)["ControllerDeployRoleArn"]  # as make


def test_blue_serves_production_and_green_staging_on_the_first_version(provisioned: Any) -> None:
    clients, _ = provisioned
    described = clients.elasticbeanstalk.describe_environments(ApplicationName=NAMES.application)
    by_name = {env["EnvironmentName"]: env for env in described["Environments"]}
    initial = next(
        r["PhysicalResourceId"]
        for r in clients.cloudformation.list_stack_resources(StackName=NAMES.infra_stack)[
            "StackResourceSummaries"
        ]
        if r["LogicalResourceId"] == "InitialVersion"
    )

    assert by_name[NAMES.blue]["CNAME"] == NAMES.cname(NAMES.prod_prefix)
    assert by_name[NAMES.green]["CNAME"] == NAMES.cname(NAMES.staging_prefix)
    for env in by_name.values():
        assert env["Status"] == "Ready"
        assert env["VersionLabel"] == initial
        assert env["SolutionStackName"].endswith("running Docker")


def test_the_environments_run_the_newest_docker_platform_beanstalk_offers(provisioned: Any) -> None:
    """As `make provision` chooses it: a pinned version ages and is refused for new environments."""
    clients, _ = provisioned
    offered = clients.elasticbeanstalk.list_available_solution_stacks()["SolutionStacks"]
    docker = [
        s for s in offered if s.startswith("64bit Amazon Linux 2023 v") and s.endswith(" running Docker")
    ]
    described = clients.elasticbeanstalk.describe_environments(ApplicationName=NAMES.application)

    assert docker == ["64bit Amazon Linux 2023 v4.6.0 running Docker"]
    assert {env["SolutionStackName"] for env in described["Environments"]} == set(docker)


def _settings(clients: SimpleNamespace, application: str, environment: str) -> dict[tuple[str, str], str]:
    described = clients.elasticbeanstalk.describe_configuration_settings(
        ApplicationName=application, EnvironmentName=environment
    )
    return {
        (o["Namespace"], o["OptionName"]): o.get("Value", "")
        for o in described["ConfigurationSettings"][0]["OptionSettings"]
    }


def test_beanstalk_assumes_the_service_role_and_has_one_for_managed_updates(provisioned: Any) -> None:
    """Health stays Green only while Beanstalk can assume the service role (its trust must not demand
    keys Beanstalk does not send); managed updates run as the role ServiceRoleForManagedUpdates names."""
    clients, _ = provisioned
    role = next(
        r["PhysicalResourceId"]
        for r in clients.cloudformation.list_stack_resources(StackName=NAMES.infra_stack)[
            "StackResourceSummaries"
        ]
        if r["LogicalResourceId"] == "ServiceRole"
    )
    arn = clients.iam.get_role(RoleName=role)["Role"]["Arn"]
    for environment in (NAMES.blue, NAMES.green):
        health = clients.elasticbeanstalk.describe_environment_health(
            EnvironmentName=environment, AttributeNames=["Color", "Causes"]
        )
        settings = _settings(clients, NAMES.application, environment)
        warnings = clients.elasticbeanstalk.describe_events(EnvironmentName=environment, Severity="WARN")[
            "Events"
        ]
        assert (health["Color"], health["Causes"]) == ("Green", [])
        assert settings[("aws:elasticbeanstalk:managedactions", "ServiceRoleForManagedUpdates")] == arn
        assert settings[("aws:elasticbeanstalk:environment", "ServiceRole")] == arn
        assert [w["Message"] for w in warnings] == []


def test_the_reconcile_role_deploys_even_a_configuration_update_through_the_operations_role(
    provisioned: Any,
) -> None:
    """With IAM checks on, Beanstalk's downstream calls are judged: the environments' operations role
    holds all of them (a configuration update's too), so the reconcile function needs none."""
    clients, result = provisioned
    backend = moto_ext.backend(region=NAMES.region)
    credentials = clients.sts.assume_role(RoleArn=result.reconcile_role, RoleSessionName="reconcile")[
        "Credentials"
    ]
    reconcile = boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=NAMES.region,
    ).client("elasticbeanstalk", endpoint_url=clients.s3.meta.endpoint_url)
    timeout = {"Namespace": "aws:elasticbeanstalk:command", "OptionName": "Timeout", "Value": "900"}
    backend.set_caller_permissions(True)
    try:
        reconcile.update_environment(EnvironmentName=NAMES.green, OptionSettings=[timeout])
        backend.advance(NAMES.green)
    finally:
        backend.set_caller_permissions(False)
        _drain(
            clients.sqs, result.function_environment["RECONCILE_QUEUE"]
        )  # this update's news: no other test's

    errors = clients.elasticbeanstalk.describe_events(EnvironmentName=NAMES.green, Severity="ERROR")["Events"]
    assert [e["Message"] for e in errors] == []
    assert (
        _settings(clients, NAMES.application, NAMES.green)[("aws:elasticbeanstalk:command", "Timeout")]
        == "900"
    )


def test_without_a_mongodb_uri_or_a_vpc_no_such_option_reaches_the_environments(provisioned: Any) -> None:
    """Beanstalk refuses an environment secret without a value; the default VPC needs no option."""
    clients, _ = provisioned
    for environment in (NAMES.blue, NAMES.green):
        namespaces = {namespace for namespace, _ in _settings(clients, NAMES.application, environment)}
        assert "aws:elasticbeanstalk:application:environmentsecrets" not in namespaces
        assert "aws:ec2:vpc" not in namespaces


def test_both_environments_ignore_http_4xx_in_their_health(provisioned: Any) -> None:
    """Scanners' 404s on the public URLs must not turn health Yellow (tests/sandbox: scanner-4xx)."""
    clients, _ = provisioned
    for environment in (NAMES.blue, NAMES.green):
        settings = _settings(clients, NAMES.application, environment)
        assert counts_4xx(settings) == {"ApplicationRequests4xx": False, "ELBRequests4xx": False}


def test_a_mongodb_uri_and_a_vpc_of_ones_own_reach_both_environments(provisioned: Any) -> None:
    clients, _ = provisioned
    parameters = {
        "ApplicationName": "atlas",
        "ProductionCnamePrefix": "atlas-prod",
        "SolutionStackName": newest_docker_stack(clients.elasticbeanstalk),
        "MongoDbUriParameter": "/atlas/mongodb-uri",
        "VpcId": "vpc-0a1b2c3d",
        "InstanceSubnets": "subnet-0a1,subnet-0b2",
        "ConfigureApiGatewayLogging": "false",
    }

    deploy_stack(clients.cloudformation, "atlas", INFRA_TEMPLATE.read_text(), parameters)

    for environment in ("atlas-blue", "atlas-green"):
        settings = _settings(clients, "atlas", environment)
        assert settings[("aws:elasticbeanstalk:application:environmentsecrets", "MONGODB_URI")] == (
            f"arn:aws:ssm:{NAMES.region}:{ACCOUNT}:parameter/atlas/mongodb-uri"
        )
        assert settings[("aws:ec2:vpc", "VPCId")] == "vpc-0a1b2c3d"
        assert (
            settings[("aws:ec2:vpc", "Subnets")]
            == settings[("aws:ec2:vpc", "ELBSubnets")]
            == ("subnet-0a1,subnet-0b2")
        )


def test_the_controller_runs_with_what_the_stack_gave_its_functions(provisioned: Any) -> None:
    clients, result = provisioned
    env = result.function_environment
    infra = _outputs(clients.cloudformation, NAMES.infra_stack)

    assert env["EB_APPLICATION"] == NAMES.application
    assert env["PROD_CNAME_PREFIX"] == NAMES.prod_prefix
    assert env["ARTIFACT_BUCKET"] == infra["ArtifactBucketName"]
    assert env["SIGNING_SECRET_PARAM"] == f"/aws/reference/secretsmanager/{NAMES.application}/signing-secret"
    assert env["DEPLOYMENTS_TABLE"] == f"{NAMES.controller_stack}-deployments"
    assert env["RECONCILE_QUEUE"] == f"{NAMES.controller_stack}-reconcile"
    # the secret Secrets Manager generated, readable the way the controller reads it (SSM's reference)
    assert len(result.signing_secret) == 64 and result.signing_secret.isalnum()
    ssm = boto3.client(
        "ssm",
        endpoint_url=clients.s3.meta.endpoint_url,
        region_name=NAMES.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    read = ssm.get_parameter(Name=env["SIGNING_SECRET_PARAM"], WithDecryption=True)
    assert read["Parameter"]["Value"] == result.signing_secret


def test_the_reconcile_queue_is_mapped_to_its_function_and_left_to_the_sandbox_poller(
    provisioned: Any,
) -> None:
    clients, result = provisioned
    mappings = clients.awslambda.list_event_source_mappings()["EventSourceMappings"]
    queue = clients.sqs.get_queue_url(QueueName=result.function_environment["RECONCILE_QUEUE"])["QueueUrl"]
    clients.sqs.send_message(QueueUrl=queue, MessageBody="{}")

    assert [m["FunctionArn"].rsplit(":", 1)[-1] for m in mappings] == [f"{NAMES.controller_stack}-reconcile"]
    # nothing consumed it: moto's own trigger would have run the function in a Lambda container
    received = clients.sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0)
    assert [m["Body"] for m in received.get("Messages", [])] == ["{}"]


def test_beanstalks_events_reach_the_reconcile_queue_through_the_stacks_rule(provisioned: Any) -> None:
    """The controller's stack routes Beanstalk's news about the application's environments to its queue,
    whose policy lets only that rule send to it."""
    clients, result = provisioned
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=NAMES.region
    )
    events = session.client("events", endpoint_url=clients.sqs.meta.endpoint_url)
    queue = clients.sqs.get_queue_url(QueueName=result.function_environment["RECONCILE_QUEUE"])["QueueUrl"]
    attributes = clients.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn", "Policy"])
    rule = events.describe_rule(Name=f"{NAMES.controller_stack}-beanstalk-events")
    targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    statement = json.loads(attributes["Attributes"]["Policy"])["Statement"][0]

    assert json.loads(rule["EventPattern"])["detail"]["ApplicationName"] == [NAMES.application]
    assert [t["Arn"] for t in targets] == [attributes["Attributes"]["QueueArn"]]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == rule["Arn"]

    clients.sqs.purge_queue(QueueUrl=queue)
    green = NAMES.green
    running = clients.elasticbeanstalk.describe_environments(EnvironmentNames=[green])["Environments"][0]
    clients.elasticbeanstalk.update_environment(EnvironmentName=green, VersionLabel=running["VersionLabel"])
    moto_ext.backend(region=NAMES.region).advance()
    bodies = [
        json.loads(m["Body"])
        for m in clients.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    ]
    assert [(b["source"], b["detail"]["EnvironmentName"], b["detail"]["Status"]) for b in bodies] == [
        ("aws.elasticbeanstalk", green, "Environment update successful")
    ]


def test_the_api_is_throttled_and_logs_access(provisioned: Any) -> None:
    clients, _ = provisioned
    api_id = _outputs(clients.cloudformation, NAMES.controller_stack)["RestAPIId"]
    stage = clients.apigateway.get_stage(restApiId=api_id, stageName="api")
    paths = {r["path"] for r in clients.apigateway.get_resources(restApiId=api_id)["items"]}

    assert stage["methodSettings"]["*/*"]["throttlingRateLimit"] == 10.0
    assert stage["methodSettings"]["*/*"]["throttlingBurstLimit"] == 20
    assert stage["accessLogSettings"]["destinationArn"].endswith(
        f"/aws/apigateway/{NAMES.controller_stack}-access"
    )
    assert {"/health", "/deployments", "/deployments/{deployment_id}/rollback"} <= paths


def test_the_policies_cloudformation_made_are_the_ones_the_iam_check_evaluates(provisioned: Any) -> None:
    """tests/infra/function_policies.py resolves the policy files from a controller's configuration; here
    CloudFormation resolved the same files for the same stack: every statement that resolution can
    complete must be identical."""
    clients, result = provisioned
    pseudo = {
        "AWS::Partition": PARTITION,
        "AWS::Region": NAMES.region,
        "AWS::AccountId": ACCOUNT,
        "AWS::StackName": NAMES.controller_stack,
    }
    compared = 0
    roles = {r["RoleName"]: r for r in clients.iam.list_roles()["Roles"]}
    for function, policy in function_policies().items():
        role_name = next(name for name in roles if f"-{policy.role}-" in name)
        (policy_name,) = clients.iam.list_role_policies(RoleName=role_name)["PolicyNames"]
        made = clients.iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
        made = made if isinstance(made, dict) else ast.literal_eval(made)  # moto keeps a dict's repr
        ours = resolve(policy.document, bindings(result.function_environment), pseudo)
        for statement, theirs in zip(ours["Statement"], made["Statement"], strict=True):
            if UNRESOLVED.split("{")[0] not in json.dumps(statement):
                assert statement == theirs, function
                compared += 1
    assert compared >= 10


def test_a_cname_already_taken_rolls_the_stack_back_with_the_services_message(provisioned: Any) -> None:
    """As on AWS, CreateStack succeeds and the stack fails: ROLLBACK_COMPLETE, nothing of it left running."""
    clients, _ = provisioned
    parameters = {
        "ApplicationName": "another",
        "ProductionCnamePrefix": NAMES.prod_prefix,
        "SolutionStackName": newest_docker_stack(clients.elasticbeanstalk),
    }

    refused = r"stack another is ROLLBACK_COMPLETE: .*DNS name \(deliverypipeline-prod\..*\) is not available"
    with pytest.raises(ProvisionError, match=refused):
        deploy_stack(clients.cloudformation, "another", INFRA_TEMPLATE.read_text(), parameters)

    assert clients.elasticbeanstalk.describe_applications(ApplicationNames=["another"])["Applications"] == []
    live = clients.elasticbeanstalk.describe_environments(IncludeDeleted=False)["Environments"]
    assert "another" not in {env["ApplicationName"] for env in live}


def test_a_second_pipeline_provisions_beside_the_first_in_the_same_account(
    provisioned: Any, tmp_path: Path
) -> None:
    """Every name the stacks give (table, queues, functions, rule, secret, environments) derives from the
    stack names, so another INFRA_STACK is another pipeline, not a collision with the first."""
    clients, first = provisioned
    other = Names(application="shop")

    second = provision(clients, other, FIRST, tmp_path)

    for stack in (other.infra_stack, other.controller_stack):
        described = clients.cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
        assert described["StackStatus"] == "CREATE_COMPLETE"
    for name in ("DEPLOYMENTS_TABLE", "RECONCILE_QUEUE", "ARTIFACT_BUCKET", "SIGNING_SECRET_PARAM"):
        assert second.function_environment[name] != first.function_environment[name], name
    assert second.function_environment["EB_APPLICATION"] == "shop"


@pytest.mark.slow
def test_sandbox_up_shows_its_stacks_through_the_emulated_cloudformation_api() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "up"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        info = json.loads(process.stdout.readline())
        cfn = boto3.client(
            "cloudformation",
            endpoint_url=info["aws_endpoint"],
            region_name=info["region"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        stacks = {s["StackName"]: s["StackStatus"] for s in cfn.describe_stacks()["Stacks"]}
        environments = {
            r["PhysicalResourceId"]
            for r in cfn.list_stack_resources(StackName=NAMES.infra_stack)["StackResourceSummaries"]
            if r["ResourceType"] == "AWS::ElasticBeanstalk::Environment"
        }
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)

    assert stacks == {NAMES.infra_stack: "CREATE_COMPLETE", NAMES.controller_stack: "CREATE_COMPLETE"}
    assert environments == set(info["environments"]) == {NAMES.blue, NAMES.green}


def _drain(sqs: Any, queue_name: str) -> None:
    """Receive and delete every message on the queue (PurgeQueue may run once a minute only)."""
    queue = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])


def _outputs(cfn: Any, stack: str) -> dict[str, str]:
    found = cfn.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    return {o["OutputKey"]: o["OutputValue"] for o in found}
