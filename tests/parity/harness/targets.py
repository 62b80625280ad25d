"""Where the parity suite sends its requests, and the checks before it sends any.

- the emulation (default): `python -m sandbox.aws`, started by the suite, fake credentials;
- `--aws`: real AWS through the standard credential chain, only when `PARITY_ACCOUNT_ID` is the account the
  credentials belong to (STS GetCallerIdentity);
- `--endpoint-url URL`: any AWS-compatible endpoint (a running emulation, LocalStack).

Every refusal is a `Refusal` with a sentence for a person: no stack trace, and no hang (short timeouts, and
no EC2 instance-metadata lookup, which can wait a long time off EC2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rehearsal.account import Refusal, caller_account, throwaway_account

from .emulation import Controls

__all__ = ["Refusal", "Target", "aws_target", "emulation_target", "endpoint_target"]

ACCOUNT_VARIABLE = "PARITY_ACCOUNT_ID"
EMULATION_REGION = "us-east-1"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


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
    account = caller_account(probe.session(), endpoint, f"the endpoint {endpoint}")
    return Target("endpoint", region, account, endpoint, controls, credentials)


def aws_target(environ: Mapping[str, str]) -> Target:
    """Real AWS, after the checks a user running this against an account relies on (each a Refusal)."""
    account = throwaway_account(environ, ACCOUNT_VARIABLE, "--aws")
    return Target(kind="aws", region=account.region, account=account.account_id)
