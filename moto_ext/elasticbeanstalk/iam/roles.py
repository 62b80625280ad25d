"""The IAM roles an environment names, as Elastic Beanstalk uses them: the service role it assumes for health
monitoring, the managed-updates service role it assumes for managed platform updates, and the operations
role whose permissions it uses downstream instead of the caller's.

Beanstalk assumes a service role as `elasticbeanstalk.amazonaws.com`, and the only condition key its
documented trust policy checks is `sts:ExternalId` = `elasticbeanstalk`
(https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/iam-servicerole.html): that is all the request
carries here, so a trust policy demanding more (`aws:SourceAccount`, ...) cannot be assumed. When it cannot
assume the service role, health monitoring reports Severe with the cause AWS documents
(https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/health-enhanced-status.html): 'Unable to assume role
"arn:aws:iam::123456789012:role/aws-elasticbeanstalk-service-role". Verify that the role exists and is
configured correctly.' The managed-updates service-linked role
(`AWSServiceRoleForElasticBeanstalkManagedUpdates`) is AWS's own and always assumable.
"""

from __future__ import annotations

from typing import Any

from moto.iam.models import iam_backends

from . import judge

BEANSTALK = "elasticbeanstalk.amazonaws.com"
BEANSTALK_SENDS = {"sts:ExternalId": "elasticbeanstalk"}
MANAGED_UPDATES_SLR = "AWSServiceRoleForElasticBeanstalkManagedUpdates"


def arn_of(reference: str, account_id: str) -> str:
    """A role named by ARN or by name, as an ARN (for messages)."""
    return reference if reference.startswith("arn:") else f"arn:aws:iam::{account_id}:role/{reference}"


def find(reference: str, account_id: str) -> Any | None:
    """The role in moto's IAM named by `reference` (ARN or name), or None."""
    backend = iam_backends[account_id]["aws"]
    try:
        if reference.startswith("arn:"):
            return backend.get_role_by_arn(reference)
        return backend.get_role(reference)
    except Exception:  # moto raises its IAMNotFoundException; absent is the answer
        return None


def assumable(reference: str, account_id: str) -> bool:
    """Whether Beanstalk can assume the role (it exists and its trust lets Beanstalk in as it asks)."""
    if reference.rsplit("/", 1)[-1] == MANAGED_UPDATES_SLR:
        return True
    role = find(reference, account_id)
    return role is not None and judge.trusts(role.assume_role_policy_document, BEANSTALK, BEANSTALK_SENDS)


def unassumable(reference: str, account_id: str) -> str:
    return (
        f'Unable to assume role "{arn_of(reference, account_id)}". '
        "Verify that the role exists and is configured correctly."
    )


def policies(reference: str, account_id: str) -> list[Any]:
    """The role's policy documents, inline and attached (none when it does not exist)."""
    role = find(reference, account_id)
    if role is None:
        return []
    return [*role.policies.values(), *role.managed_policies.values()]
