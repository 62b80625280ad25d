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
from sandbox.live.dockerrun import ImageRef
from sandbox.provision import INFRA_TEMPLATE, Names, Provisioned, ProvisionError, deploy_stack, provision
from tests.infra.authorization import ACCOUNT, PARTITION
from tests.infra.function_policies import UNRESOLVED, bindings, function_policies, resolve

ROOT = Path(__file__).resolve().parents[2]
NAMES = Names()
FIRST = ImageRef("docker.io/acme/deliverypipeline", "1.0.0")


def _session(endpoint: str) -> SimpleNamespace:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=NAMES.region
    )
    services = ("s3", "sqs", "elasticbeanstalk", "cloudformation", "secretsmanager", "iam", "apigateway")
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


def test_the_controller_runs_with_what_the_stack_gave_its_functions(provisioned: Any) -> None:
    clients, result = provisioned
    env = result.function_environment
    infra = _outputs(clients.cloudformation, NAMES.infra_stack)

    assert env["EB_APPLICATION"] == NAMES.application
    assert env["PROD_CNAME_PREFIX"] == NAMES.prod_prefix
    assert env["ARTIFACT_BUCKET"] == infra["ArtifactBucketName"]
    assert env["SIGNING_SECRET_PARAM"] == f"/aws/reference/secretsmanager/{NAMES.application}/signing-secret"
    assert env["DEPLOYMENTS_TABLE"] == "deliverypipeline-dev-deployments"
    assert env["RECONCILE_QUEUE"] == "deliverypipeline-dev-reconcile"
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


def test_a_cname_already_taken_is_refused_with_the_services_message(provisioned: Any) -> None:
    clients, _ = provisioned
    parameters = {"ApplicationName": "another", "ProductionCnamePrefix": NAMES.prod_prefix}

    with pytest.raises(
        ProvisionError, match=r"stack another refused: DNS name .*deliverypipeline-prod.* not available"
    ):
        deploy_stack(clients.cloudformation, "another", INFRA_TEMPLATE.read_text(), parameters)


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


def _outputs(cfn: Any, stack: str) -> dict[str, str]:
    found = cfn.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    return {o["OutputKey"]: o["OutputValue"] for o in found}
