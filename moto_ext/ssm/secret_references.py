"""GetParameter of `/aws/reference/secretsmanager/<secret>` (WithDecryption), the way the controller reads
its signing secret, answers as AWS documents it (docs.aws.amazon.com/systems-manager/latest/userguide/
integration-ps-secretsmanager.html, "AWS CLI Example 1"):

    {"Parameter": {"Name": "/aws/reference/secretsmanager/s1-secret", "Value": "...",
                   "Type": "SecureString", "LastModifiedDate": ..., "ARN": <the secret's ARN>,
                   "SourceResult": "{\"CreatedDate\": ..., \"Name\": \"s1-secret\", \"VersionId\": ...,
                                     \"SecretString\": ..., \"VersionStages\": [\"AWSCURRENT\"],
                                     \"ARN\": <the secret's ARN>}"}}

moto answered the secret's bare name, an SSM parameter's ARN, and DescribeSecret's fields as SourceResult.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from moto.secretsmanager.models import secretsmanager_backends
from moto.ssm.models import Parameter, ParameterDict

PREFIX = "/aws/reference/secretsmanager/"


class SecretReference(Parameter):
    """A parameter standing for one version of a secret: its ARN is the secret's."""

    secret_arn: str = ""

    def response_object(self, decrypt: bool = False, region: str | None = None) -> dict[str, Any]:
        answered = super().response_object(decrypt, region)
        answered["ARN"] = self.secret_arn
        return answered


def install() -> None:
    ParameterDict._get_secretsmanager_parameter = _references  # type: ignore[method-assign]


def _references(self: ParameterDict, secret_name: str) -> list[Parameter]:
    """One parameter per version of the secret, AWSCURRENT last (GetParameter answers the last)."""
    secrets = secretsmanager_backends[self.account_id][self.region_name]
    described = secrets.describe_secret(secret_name).to_dict()
    stages: dict[str, list[str]] = described["VersionIdsToStages"]
    ordered = sorted(stages, key=lambda version: "AWSCURRENT" in stages[version])
    found: list[Parameter] = []
    for version_id in ordered:
        value = secrets.get_secret_value(secret_name, version_id=version_id, version_stage=None)  # type: ignore[arg-type]
        source = {
            "CreatedDate": _epoch(value.get("CreatedDate")),
            "Name": value["Name"],
            "VersionId": value["VersionId"],
            "SecretString": value.get("SecretString"),
            "VersionStages": value.get("VersionStages", []),
            "ARN": value["ARN"],
        }
        reference = SecretReference(  # type: ignore[abstract]  # moto's Parameter is instantiated as is
            account_id=self.account_id,
            name=PREFIX + secret_name,
            value=str(value.get("SecretString")),
            parameter_type="SecureString",
            description=described.get("Description"),
            allowed_pattern=None,
            keyid=None,
            last_modified_date=described["LastChangedDate"],
            version=0,
            data_type="text",
            labels=[value["VersionId"], *value.get("VersionStages", [])],
            source_result=json.dumps(source),
        )
        reference.secret_arn = str(value["ARN"])
        found.append(reference)
    return found


def _epoch(created: Any) -> float:
    """Seconds since the epoch, with their fraction, as AWS's example writes them (1526334434.743)."""
    return created.timestamp() if isinstance(created, datetime) else float(created)
