"""Who called, as IAM knows them: the identity behind a request's access key, and its policies.

The identity is found as moto finds it when it enforces IAM (moto/iam/access_control.py): an IAM user's
access key, or the temporary credentials of a role assumed through STS. A key IAM does not know (moto's
"testing" credentials) is the account's root, whom no policy limits - as moto treats every caller while
its own IAM checks are off.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from moto.iam.access_control import CreateAccessKeyFailure, create_access_key

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")


@dataclass(frozen=True)
class Caller:
    arn: str  # arn:aws:iam::<account>:user/<name> or arn:aws:sts::<account>:assumed-role/<role>/<session>
    policies: tuple[Any, ...]  # its identity-based policy documents


def identify(headers: Mapping[str, str], account_id: str, partition: str = "aws") -> Caller | None:
    """The IAM identity that signed the request, or None for a key IAM does not know (the root)."""
    found = _CREDENTIAL.search(str(headers.get("Authorization", "")))
    if found is None:
        return None
    try:
        key = create_access_key(
            account_id=account_id, partition=partition, access_key_id=found.group(1), headers=dict(headers)
        )
    except CreateAccessKeyFailure:
        return None
    return Caller(arn=str(key.arn), policies=tuple(key.collect_policies()))
