"""The controller's stack on a new AWS account, through the emulated CloudFormation: its defaults deploy where
Lambda's concurrency limit is still 10, and a first create that failed can be deleted and retried - nothing
the rollback kept stands in the way (the table's DeletionPolicy is RetainExceptOnCreate)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

import moto_ext
from moto_ext import awslambda
from sandbox.live.dockerrun import ImageRef, build_bundle
from sandbox.provision import (
    INFRA_TEMPLATE,
    Names,
    ProvisionError,
    deploy_stack,
    finish_packaging,
    newest_docker_stack,
    start_packaging,
)
from tests.infra.authorization import ACCOUNT

NAMES = Names(application="fresh")
NEW_ACCOUNT_LIMIT = 10  # what a new account's Lambda concurrency may start at


@pytest.fixture(scope="module")
def account(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimpleNamespace, dict[str, Any]]]:
    """A new account (Lambda concurrency limit 10) with the provisioning stack, and the controller's
    packaged template."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    endpoint, stop = moto_ext.start_server(port=0)
    try:
        moto_ext.backend(region=NAMES.region).set_timings(launch_s=0)
        awslambda.set_concurrency_limit(NEW_ACCOUNT_LIMIT, ACCOUNT, NAMES.region)
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=NAMES.region
        )
        clients = SimpleNamespace(
            **{
                name: session.client(name, endpoint_url=endpoint)
                for name in ("s3", "cloudformation", "dynamodb", "elasticbeanstalk")
            },
            awslambda=session.client("lambda", endpoint_url=endpoint),
        )
        packaging = start_packaging(tmp_path_factory.mktemp("package") / "out")
        clients.s3.create_bucket(Bucket=NAMES.packages_bucket)
        first = ImageRef("docker.io/acme/deliverypipeline", "1.0.0")
        clients.s3.put_object(Bucket=NAMES.packages_bucket, Key="initial.zip", Body=build_bundle(first))
        deploy_stack(
            clients.cloudformation,
            NAMES.infra_stack,
            INFRA_TEMPLATE.read_text(encoding="utf-8"),
            {
                "ApplicationName": NAMES.application,
                "ProductionCnamePrefix": NAMES.prod_prefix,
                "InitialVersionBucket": NAMES.packages_bucket,
                "InitialVersionKey": "initial.zip",
                "SolutionStackName": newest_docker_stack(clients.elasticbeanstalk),
            },
        )
        template = finish_packaging(packaging, clients.s3, NAMES.packages_bucket)
        yield clients, template
    finally:
        stop()


def _deploy(clients: SimpleNamespace, template: dict[str, Any], stack: str, **parameters: str) -> None:
    deploy_stack(
        clients.cloudformation,
        stack,
        json.dumps(template),
        {"Stage": "prod", "InfraStack": NAMES.infra_stack, **parameters},
    )


def test_the_account_reports_the_limit_a_new_account_starts_with(account: Any) -> None:
    """What `aws lambda get-account-settings` shows before deploying (README "Run it on AWS")."""
    clients, _ = account
    limit = clients.awslambda.get_account_settings()["AccountLimit"]

    assert (limit["ConcurrentExecutions"], limit["UnreservedConcurrentExecutions"]) == (10, 10)


def test_the_controller_stack_deploys_with_its_defaults_on_a_new_account(account: Any) -> None:
    clients, template = account

    _deploy(clients, template, "fresh-controller")

    api = clients.awslambda.get_function(FunctionName="fresh-controller-api")
    assert "Concurrency" not in api  # unreserved: the account keeps its 10 for every function


def test_a_failed_first_create_is_retried_after_deleting_the_rolled_back_stack(account: Any) -> None:
    clients, template = account

    with pytest.raises(
        ProvisionError, match=r"ROLLBACK_COMPLETE: .*UnreservedConcurrentExecution below its minimum"
    ):
        _deploy(clients, template, "retried-controller", ApiReservedConcurrency="10")
    clients.cloudformation.delete_stack(StackName="retried-controller")

    _deploy(clients, template, "retried-controller", ApiReservedConcurrency="0")

    tables = clients.dynamodb.list_tables()["TableNames"]
    assert "retried-controller-deployments" in tables
