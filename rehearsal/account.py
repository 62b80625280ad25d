"""Before anything is created in an account: whose credentials these are, and whether that is the account
the user named. Shared by the rehearsal and the parity suite (`--aws`).

Every refusal is a `Refusal` whose message is a sentence for a person: no stack trace and no hang (short
timeouts, and no EC2 instance-metadata lookup, which waits a long time off EC2).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

NO_CREDENTIALS = (
    "no AWS credentials: none were found in the standard chain. Set AWS_PROFILE (after `aws configure` "
    "or `aws sso login`) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for the throwaway account, then "
    "run again."
)


class Refusal(Exception):
    """Nothing will be created: the message says why and what to do."""


@dataclass(frozen=True)
class Account:
    account_id: str
    region: str
    session: Any  # the boto3 session the checks used (the standard credential chain)


def throwaway_account(environ: Mapping[str, str], variable: str, purpose: str) -> Account:
    """The account the credentials belong to, when `environ[variable]` names exactly that account."""
    wanted = environ.get(variable, "").strip()
    if not re.fullmatch(r"\d{12}", wanted):
        shown = f" (got {wanted!r})" if wanted else ""
        raise Refusal(
            f"{purpose} needs {variable}{shown}: the 12-digit id of the throwaway account to run in. It "
            "creates and deletes resources there and refuses any other account."
        )
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"  # off EC2 the metadata lookup only hangs
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        session = boto3.session.Session()
        credentials = session.get_credentials()
    except BotoCoreError as error:
        raise Refusal(f"{NO_CREDENTIALS} ({error})") from None
    if credentials is None:
        raise Refusal(NO_CREDENTIALS)
    if not session.region_name:
        raise Refusal("no AWS region: set AWS_DEFAULT_REGION (or the profile's region) to run in.")
    account = caller_account(session, None, "AWS")
    if account != wanted:
        raise Refusal(
            f"the credentials belong to account {account}, but {variable} is {wanted}: refusing to create "
            f"anything. Point the credentials at the throwaway account, or correct {variable}."
        )
    return Account(account, str(session.region_name), session)


def caller_account(session: Any, endpoint: str | None, where: str) -> str:
    """STS GetCallerIdentity's account, in seconds or a Refusal."""
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    config = Config(connect_timeout=5, read_timeout=10, retries={"mode": "standard", "max_attempts": 2})
    try:
        identity = session.client("sts", endpoint_url=endpoint, config=config).get_caller_identity()
    except ClientError as error:
        info = error.response.get("Error", {})
        raise Refusal(
            f"{where} refused the credentials ({info.get('Code')}: {info.get('Message')}). "
            "Renew them (aws sso login, or new access keys) and run again."
        ) from None
    except BotoCoreError as error:
        if "credentials" in type(error).__name__.lower() or "Unable to locate credentials" in str(error):
            raise Refusal(NO_CREDENTIALS) from None
        raise Refusal(f"could not reach {where} to check the credentials: {error}") from None
    return str(identity["Account"])
