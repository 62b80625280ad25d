"""Secret reads as the product makes them and AWS answers them: the controller's GetParameter of
/aws/reference/secretsmanager/<name> (docs.aws.amazon.com/systems-manager/latest/userguide/
integration-ps-secretsmanager.html), and Secrets Manager's answer for a secret that does not exist."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from .harness import Aws


def test_a_reference_to_a_secret_answers_as_aws_documents(aws: Aws) -> None:
    secret = aws.client("secretsmanager").create_secret(Name="app/signing-secret", SecretString="s3cr3t")

    read = aws.client("ssm").get_parameter(
        Name="/aws/reference/secretsmanager/app/signing-secret", WithDecryption=True
    )

    parameter = read["Parameter"]
    assert (parameter["Name"], parameter["Type"], parameter["Value"]) == (
        "/aws/reference/secretsmanager/app/signing-secret",
        "SecureString",
        "s3cr3t",
    )
    assert parameter["ARN"] == secret["ARN"]
    source = json.loads(parameter["SourceResult"])
    assert {key: source[key] for key in ("Name", "VersionId", "SecretString", "VersionStages", "ARN")} == {
        "Name": "app/signing-secret",
        "VersionId": secret["VersionId"],
        "SecretString": "s3cr3t",
        "VersionStages": ["AWSCURRENT"],
        "ARN": secret["ARN"],
    }
    assert isinstance(source["CreatedDate"], float)


def test_a_secret_that_does_not_exist_is_a_400(aws: Aws) -> None:
    with pytest.raises(ClientError) as refused:
        aws.client("secretsmanager").get_secret_value(SecretId="nowhere")

    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert refused.value.response["Error"] == {
        "Code": "ResourceNotFoundException",
        "Message": "Secrets Manager can't find the specified secret.",
    }
