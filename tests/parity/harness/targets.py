"""Where the parity suite sends its requests, and the checks before it sends any.

- the emulation (default): `python -m sandbox.aws`, started by the suite, fake credentials;
- `--aws`: real AWS through the standard credential chain, only when `PARITY_ACCOUNT_ID` is the account the
  credentials belong to (STS GetCallerIdentity);
- `--endpoint-url URL`: any AWS-compatible endpoint (a running emulation, LocalStack).

Every refusal is a `Refusal` with a sentence for a person: no stack trace, and no hang (short timeouts, and
no EC2 instance-metadata lookup, which can wait a long time off EC2).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .emulation import Controls

ACCOUNT_VARIABLE = "PARITY_ACCOUNT_ID"
EMULATION_REGION = "us-east-1"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
NO_CREDENTIALS = (
    "no AWS credentials: the parity suite found none in the standard chain. Set AWS_PROFILE (after "
    "`aws configure` or `aws sso login`) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for the throwaway "
    "account, then run again."
)


class Refusal(Exception):
    """The suite will not run against this target; the message says why and what to do."""


@dataclass(frozen=True)
class Target:
    kind: str  # "emulation" | "aws" | "endpoint"
    region: str
    account: str
    endpoint_url: str | None = None
    controls: Controls | None = None
    credentials: Mapping[str, str] = field(default_factory=dict)  # explicit ones (emulation, endpoint)
    _clients: dict[tuple[str, int], Any] = field(default_factory=dict, compare=False, repr=False)
    _sessions: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def poll_s(self) -> float:
        """How often a wait looks again."""
        return 0.2 if self.controls is not None else 10.0

    @property
    def patience_s(self) -> float:
        """How long an environment operation (a launch, an update) may take before a wait gives up."""
        return 60.0 if self.controls is not None else 1800.0

    @property
    def is_aws(self) -> bool:
        return self.kind == "aws"

    def session(self) -> Any:
        import boto3

        return boto3.session.Session(
            aws_access_key_id=self.credentials.get("AWS_ACCESS_KEY_ID"),
            aws_secret_access_key=self.credentials.get("AWS_SECRET_ACCESS_KEY"),
            region_name=self.region,
        )

    def client(self, service: str, attempts: int = 1) -> Any:
        """A client of this target (made once: making clients is the slow part). `attempts=1` (the
        default) shows AWS's answer as it is, a throttling or a 5xx included; arranging and polling use
        more."""
        key = (service, attempts)
        if key not in self._clients:
            from botocore.config import Config

            config = Config(
                connect_timeout=10,
                read_timeout=60,
                retries={"mode": "standard", "max_attempts": attempts},
            )
            self._clients[key] = self._session().client(
                service, endpoint_url=self.endpoint_url, config=config
            )
        return self._clients[key]

    def _session(self) -> Any:
        if "session" not in self._sessions:
            self._sessions["session"] = self.session()
        return self._sessions["session"]

    def environ(self, base: Mapping[str, str]) -> dict[str, str]:
        """The environment a CLI (AWS CLI, EB CLI) runs with to reach this target."""
        kept = {key: value for key, value in base.items() if not key.lower().endswith("_proxy")}
        if self.kind != "aws":
            kept = {key: value for key, value in kept.items() if not key.startswith("AWS_")}
        found = {**kept, **self.credentials, "AWS_DEFAULT_REGION": self.region, "AWS_PAGER": ""}
        if self.endpoint_url is not None:
            found["AWS_ENDPOINT_URL"] = self.endpoint_url
        return found


def emulation_target(endpoint: str, controls: Controls) -> Target:
    return Target(
        kind="emulation",
        region=EMULATION_REGION,
        account="123456789012",
        endpoint_url=endpoint,
        controls=controls,
        credentials=dict(FAKE_CREDENTIALS),
    )


def endpoint_target(endpoint: str, controls: Controls | None, environ: Mapping[str, str]) -> Target:
    """Any AWS-compatible endpoint: its own credentials if the environment has some, else fake ones."""
    credentials = {key: environ[key] for key in FAKE_CREDENTIALS if environ.get(key)} or dict(
        FAKE_CREDENTIALS
    )
    region = environ.get("AWS_DEFAULT_REGION") or environ.get("AWS_REGION") or EMULATION_REGION
    probe = Target("endpoint", region, "", endpoint, controls, credentials)
    account = _caller_account(probe.session(), endpoint, f"the endpoint {endpoint}")
    return Target("endpoint", region, account, endpoint, controls, credentials)


def aws_target(environ: Mapping[str, str]) -> Target:
    """Real AWS, after the checks a user running this against an account relies on (each a Refusal)."""
    wanted = environ.get(ACCOUNT_VARIABLE, "").strip()
    if not re.fullmatch(r"\d{12}", wanted):
        shown = f" (got {wanted!r})" if wanted else ""
        raise Refusal(
            f"--aws needs {ACCOUNT_VARIABLE}{shown}: the 12-digit id of the throwaway account to run in. "
            "The suite creates and deletes resources there and refuses any other account."
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
    account = _caller_account(session, None, "AWS")
    if account != wanted:
        raise Refusal(
            f"the credentials belong to account {account}, but {ACCOUNT_VARIABLE} is {wanted}: refusing to "
            "create anything. Point the credentials at the throwaway account, or correct "
            f"{ACCOUNT_VARIABLE}."
        )
    return Target(kind="aws", region=session.region_name, account=account)


def _caller_account(session: Any, endpoint: str | None, where: str) -> str:
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
