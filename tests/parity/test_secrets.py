"""Secret reads the way the product makes them: the controller reads the signing secret through SSM
Parameter Store's reference to Secrets Manager (GetParameter /aws/reference/secretsmanager/<name>,
WithDecryption); `make circleci-context` reads it with `secretsmanager get-secret-value`."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .harness.ledger import Ledger, gone_if_missing
from .harness.observations import answer, refusal
from .harness.snapshots import Session
from .harness.targets import Target

pytestmark = pytest.mark.parity

VALUE = "parity-signing-secret-0123456789abcdef"


@pytest.fixture(scope="module")
def secret(target: Target, ledger: Ledger) -> dict[str, Any]:
    """A secret named as the infra template names the signing secret (<name>/signing-secret)."""
    sm = target.client("secretsmanager", attempts=5)
    name = f"{ledger.prefix}/signing-secret"
    ledger.will_create(
        f"Secrets Manager secret {name}",
        lambda: gone_if_missing(
            lambda: sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True),
            "ResourceNotFoundException",
        ),
    )
    return dict(sm.create_secret(Name=name, SecretString=VALUE, Tags=ledger.tags))


def _named(snapshot: Session, secret: dict[str, Any]) -> None:
    snapshot.name(str(secret["ARN"]), "secret-arn")
    snapshot.name(str(secret["Name"]), "secret-name")
    snapshot.name(VALUE, "secret-value")


def test_the_controller_reads_the_secret_through_parameter_store(
    target: Target, secret: dict[str, Any], snapshot: Session
) -> None:
    _named(snapshot, secret)

    read = target.client("ssm").get_parameter(
        Name=f"/aws/reference/secretsmanager/{secret['Name']}", WithDecryption=True
    )

    parameter = dict(read["Parameter"])
    if isinstance(parameter.get("SourceResult"), str):
        parameter["SourceResult"] = json.loads(parameter["SourceResult"])
    snapshot.match("read", {"Parameter": parameter})


def test_get_secret_value_answers_the_current_version(
    target: Target, secret: dict[str, Any], snapshot: Session
) -> None:
    _named(snapshot, secret)

    read = target.client("secretsmanager").get_secret_value(SecretId=secret["Name"])

    snapshot.match("read", answer(read))


def test_a_secret_that_does_not_exist_is_refused(target: Target, ledger: Ledger, snapshot: Session) -> None:
    missing = f"{ledger.prefix}/no-such-secret"
    snapshot.name(missing, "missing")

    refused = refusal(target.client("secretsmanager").get_secret_value, SecretId=missing)

    snapshot.match("refused", refused)
