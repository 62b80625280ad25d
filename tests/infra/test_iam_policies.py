"""Each Lambda function's IAM policy is complete and least-privilege, proven on the calls the controller
really makes.

Every test's controller calls are checked as they happen (tests/infra/iam_plugin.py: a denied call fails
the test that made it). The two `iam_coverage` tests run after all others, on every call of the session: each
statement is needed by some call or carries a reason (the role's `WhyGrantedButNeverCalled` metadata in
.chalice/resources.json), and removing any permission a call used makes that call denied.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import textwrap
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.infra import aws_calls, iam_plugin
from tests.infra.authorization import Request, Unmapped, requests_of
from tests.infra.aws_calls import Call
from tests.infra.function_policies import function_policies
from tests.infra.iam_evaluation import decide

ROOT = Path(__file__).resolve().parents[2]
CONFIG = {
    "EB_APPLICATION": "shop",
    "PROD_CNAME_PREFIX": "shop",
    "ARTIFACT_BUCKET": "shop-artifacts",
    "DEPLOYMENTS_TABLE": "shop-dev-deployments",
    "RECONCILE_QUEUE": "shop-dev-reconcile",
    "SIGNING_SECRET_PARAM": "/aws/reference/secretsmanager/shop/signing-secret",
}


def _call(function: str, service: str, operation: str, **params: Any) -> Call:
    return Call(function, service, operation, params, "eu-west-1", dict(CONFIG))


# --- the check every test gets -----------------------------------------------------------------------------


def test_the_reconcile_function_may_write_its_own_table_but_no_other() -> None:
    own = _call("reconcile_tick", "dynamodb", "PutItem", TableName="shop-dev-deployments")
    other = _call("reconcile_tick", "dynamodb", "PutItem", TableName="shop-prod-deployments")

    assert iam_plugin.problems_of(own) == []
    assert iam_plugin.problems_of(other) == [
        "reconcile_tick may not dynamodb:PutItem on arn:aws:dynamodb:eu-west-1:123456789012:table/"
        "shop-prod-deployments (policy policy-reconcile-tick.json)"
    ]


def test_beanstalk_reads_are_confined_to_the_configured_application() -> None:
    own = _call("reconcile_tick", "elasticbeanstalk", "DescribeEnvironments", ApplicationName="shop")
    other = _call("reconcile_tick", "elasticbeanstalk", "DescribeEnvironments", ApplicationName="bank")

    assert iam_plugin.problems_of(own) == []
    assert len(iam_plugin.problems_of(other)) == 1


def test_the_api_function_holds_no_deployment_permission() -> None:
    update = _call(
        "api_handler", "elasticbeanstalk", "UpdateEnvironment", EnvironmentName="shop-green", VersionLabel="2"
    )
    bundle = _call("api_handler", "s3", "PutObject", Bucket="shop-artifacts", Key="shop/2.zip")

    assert iam_plugin.problems_of(update) and iam_plugin.problems_of(bundle)
    assert (
        iam_plugin.problems_of(
            _call(
                "reconcile_tick",
                "elasticbeanstalk",
                "UpdateEnvironment",
                EnvironmentName="shop-green",
                VersionLabel="2",
            )
        )
        == []
    )


def test_the_signing_secret_is_read_through_its_ssm_reference_by_both_functions_and_no_other() -> None:
    """The API checks signatures and links; the reconcile function mints its messages' one-click links."""
    read = {"Name": CONFIG["SIGNING_SECRET_PARAM"], "WithDecryption": True}
    other = {"Name": "/aws/reference/secretsmanager/bank/signing-secret", "WithDecryption": True}

    assert iam_plugin.problems_of(_call("api_handler", "ssm", "GetParameter", **read)) == []
    assert iam_plugin.problems_of(_call("reconcile_tick", "ssm", "GetParameter", **read)) == []
    assert iam_plugin.problems_of(_call("reconcile_tick", "ssm", "GetParameter", **other))


def test_notification_secrets_are_readable_by_the_reconcile_function_only_when_configured() -> None:
    github = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/github-token-AbCdEf"
    chat = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/chat-webhook-AbCdEf"
    configured = {**CONFIG, "GITHUB_TOKEN_SECRET": github, "CHAT_WEBHOOK_URL_SECRET": chat}

    def read(function: str, secret: str, config: dict[str, str]) -> list[str]:
        call = Call(function, "secretsmanager", "GetSecretValue", {"SecretId": secret}, "eu-west-1", config)
        return iam_plugin.problems_of(call)

    assert read("reconcile_tick", github, configured) == []
    assert read("reconcile_tick", chat, configured) == []
    assert read("api_handler", github, configured)
    assert read("reconcile_tick", github, dict(CONFIG))  # not configured: not granted
    assert read("reconcile_tick", github.replace("github-token", "other"), configured)


def test_a_transaction_is_authorized_item_by_item() -> None:
    items = [
        {"Put": {"TableName": "shop-dev-deployments", "Item": {}}},
        {"Update": {"TableName": "somebody-elses", "Key": {}}},
    ]
    call = _call("api_handler", "dynamodb", "TransactWriteItems", TransactItems=items)

    assert [str(r) for r in requests_of(call)] == [
        "dynamodb:PutItem on arn:aws:dynamodb:eu-west-1:123456789012:table/shop-dev-deployments",
        "dynamodb:UpdateItem on arn:aws:dynamodb:eu-west-1:123456789012:table/somebody-elses",
    ]
    assert len(iam_plugin.problems_of(call)) == 1


def test_a_call_nobody_has_examined_fails_instead_of_passing() -> None:
    call = _call("reconcile_tick", "elasticbeanstalk", "TerminateEnvironment", EnvironmentName="shop-blue")

    with pytest.raises(Unmapped, match="TerminateEnvironment"):
        requests_of(call)
    assert "no authorization rule" in iam_plugin.problems_of(call)[0]


def test_a_function_without_a_policy_fails() -> None:
    call = _call(
        "on_beanstalk_event", "sqs", "SendMessage", QueueUrl="https://x/123456789012/shop-dev-reconcile"
    )

    assert "no IAM policy for Lambda function 'on_beanstalk_event'" in iam_plugin.problems_of(call)[0]


def test_a_subprocess_records_the_calls_its_handlers_make(tmp_path: Path) -> None:
    """The sandbox's controller runs in a process of its own: its calls reach the check through the log
    directory, attributed to the handler that made them, and calls outside the handlers are left out."""
    script = textwrap.dedent(
        """
        import json, os
        from moto import mock_aws
        with mock_aws():
            import boto3
            boto3.client("sts", region_name="us-east-1").get_caller_identity()  # not the controller's
            from chalice.test import Client
            from controller.api.routes import app
            with Client(app) as client:
                event = client.events.generate_sqs_event([json.dumps({"deployment_id": "d-1"})])
                try:
                    client.lambda_.invoke("reconcile_tick", event)
                except Exception:
                    pass  # the table does not exist here: the attempt is what counts
        """
    )
    env = {
        **os.environ,
        **CONFIG,
        aws_calls.LOG_DIR_VARIABLE: str(tmp_path),
        "PYTHONPATH": iam_plugin.RECORDING_PATH,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, check=True, timeout=120, capture_output=True
    )

    recorded = list(aws_calls.read_directory(tmp_path))

    assert [(c.function, c.service, c.operation) for c in recorded] == [
        ("reconcile_tick", "dynamodb", "GetItem")
    ]
    # the configuration the handler ran with (chalice.test applies .chalice/config.json's dev stage)
    assert recorded[0].params["TableName"] == recorded[0].config["DEPLOYMENTS_TABLE"]
    assert set(recorded[0].config) == set(CONFIG)


# --- after all the others: the session's calls against each statement -------------------------------------


def _session_requests() -> dict[str, list[tuple[dict[str, Any], Request]]]:
    """Per function: (its resolved policy, request) for every distinct request the session recorded."""
    if not iam_plugin.SESSION:
        pytest.skip(
            "no controller call recorded in this session: run it with tests/controller and tests/sandbox"
        )
    found: dict[str, dict[str, tuple[dict[str, Any], Request]]] = defaultdict(dict)
    for call in iam_plugin.SESSION:
        document = iam_plugin.resolved_policy(call.function, tuple(sorted(call.config.items())), call.region)
        for request in requests_of(call):
            found[call.function][f"{request}|{id(document)}"] = (document, request)
    return {function: list(requests.values()) for function, requests in found.items()}


@pytest.mark.iam_coverage
def test_every_statement_is_used_by_the_controller_or_says_why_it_is_granted() -> None:
    requests = _session_requests()
    problems = []
    for function, policy in function_policies().items():
        used: dict[str, set[str]] = defaultdict(set)
        for document, request in requests.get(function, []):
            for sid in decide(document, request).by:
                used[sid].add(request.action)
        for statement in policy.document["Statement"]:
            sid, actions = statement["Sid"], statement["Action"]
            reason = policy.justifications.get(sid, "").strip()
            if reason:
                if used[sid]:
                    problems.append(f"{function}: {sid} is used by the controller; drop its reason")
                continue
            never = [action for action in actions if action not in used[sid]]
            if never:
                problems.append(
                    f"{function}: {sid} grants {', '.join(never)}, which no recorded call used: remove it, "
                    f"or say why in {policy.role}'s WhyGrantedButNeverCalled (.chalice/resources.json)"
                )
        sids = {statement["Sid"] for statement in policy.document["Statement"]}
        problems += [
            f"{function}: a reason for {sid}, which is no statement"
            for sid in set(policy.justifications) - sids
        ]
    assert not problems, "\n".join(problems)


@pytest.mark.iam_coverage
def test_removing_any_permission_a_call_used_denies_that_call() -> None:
    requests = _session_requests()
    checked = 0
    for function, pairs in requests.items():
        for document, request in pairs:
            for sid in decide(document, request).by:
                weakened = _without(document, sid, request.action)
                if not decide(weakened, request).allowed:
                    checked += 1
                    continue
                others = [other for other in decide(weakened, request).by if other != sid]
                pytest.fail(
                    f"{function}: {request} stays allowed without {sid} (also by {others}): a redundant grant"
                )
    assert checked


def _without(document: dict[str, Any], sid: str, action: str) -> dict[str, Any]:
    weakened = copy.deepcopy(document)
    for statement in weakened["Statement"]:
        if statement["Sid"] == sid:
            statement["Action"] = [a for a in statement["Action"] if a != action]
    weakened["Statement"] = [s for s in weakened["Statement"] if s["Action"]]
    return weakened
