"""boto3 clients for the rehearsal's target: AWS through the standard credential chain, or an
AWS-compatible endpoint (the sandbox) with fake credentials."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Clients:
    region: str
    endpoint_url: str | None = None
    session: Any = None
    _made: dict[str, Any] = field(default_factory=dict)

    def session_for_endpoint(self) -> Any:
        """A session with the fake credentials an emulation accepts (moto takes any)."""
        import boto3

        fake = "testing"
        return boto3.session.Session(
            aws_access_key_id=fake, aws_secret_access_key=fake, region_name=self.region
        )

    def client(self, service: str) -> Any:
        if service not in self._made:
            from botocore.config import Config

            if self.session is None:
                self.session = self.session_for_endpoint()
            session = self.session
            config = Config(
                connect_timeout=10, read_timeout=60, retries={"mode": "adaptive", "max_attempts": 8}
            )
            self._made[service] = session.client(service, endpoint_url=self.endpoint_url, config=config)
        return self._made[service]
