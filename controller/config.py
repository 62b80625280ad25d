"""Controller configuration from the environment, read once and validated (errors name the variable)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

HEALTH_COLOURS = frozenset({"Green", "Yellow", "Red", "Grey"})
_NAME = re.compile(r"^[A-Za-z0-9._/-]{1,255}$")


class ConfigError(ValueError):
    """A configuration variable is missing or invalid; the message names it."""


@dataclass(frozen=True)
class Config:
    eb_application: str
    prod_cname_prefix: str
    artifact_bucket: str
    deployments_table: str
    reconcile_queue: str
    signing_secret_param: str | None
    signing_secret: str | None
    region: str
    accepted_health: frozenset[str] = frozenset({"Green"})
    deploy_timeout_s: int = 1200
    poll_interval_s: int = 15

    @property
    def max_poll_interval_s(self) -> int:
        """Waits back off from POLL_INTERVAL_S to at most 8x it (SQS allows 900 s)."""
        return min(900, 8 * self.poll_interval_s)

    @property
    def lease_ttl_s(self) -> int:
        """A running deployment saves at least once per DEPLOY_TIMEOUT_S; the lease outlives that."""
        return self.deploy_timeout_s + 900

    @property
    def prod_cname(self) -> str:
        return f"{self.prod_cname_prefix}.{self.region}.elasticbeanstalk.com"


def load(environ: Mapping[str, str] | None = None) -> Config:
    env = os.environ if environ is None else environ
    secret_param = env.get("SIGNING_SECRET_PARAM") or None
    secret = env.get("SIGNING_SECRET") or None
    if secret_param is None and secret is None:
        raise ConfigError("SIGNING_SECRET_PARAM is not set (or SIGNING_SECRET for local runs)")
    return Config(
        eb_application=_name(env, "EB_APPLICATION"),
        prod_cname_prefix=_name(env, "PROD_CNAME_PREFIX"),
        artifact_bucket=_name(env, "ARTIFACT_BUCKET"),
        deployments_table=_name(env, "DEPLOYMENTS_TABLE"),
        reconcile_queue=_name(env, "RECONCILE_QUEUE"),
        signing_secret_param=secret_param,
        signing_secret=secret,
        region=_name(env, "AWS_DEFAULT_REGION", env.get("AWS_REGION", "us-east-1")),
        accepted_health=_health(env.get("ACCEPTED_HEALTH", "Green")),
        deploy_timeout_s=_seconds(env, "DEPLOY_TIMEOUT_S", 1200, minimum=60),
        poll_interval_s=_seconds(env, "POLL_INTERVAL_S", 15, minimum=1, maximum=900),
    )


def _name(env: Mapping[str, str], var: str, default: str | None = None) -> str:
    value = env.get(var) or default
    if not value:
        raise ConfigError(f"{var} is not set")
    if not _NAME.match(value):
        raise ConfigError(f"{var}={value!r} is not a valid name")
    return value


def _health(raw: str) -> frozenset[str]:
    colours = frozenset(c.strip() for c in raw.split(",") if c.strip())
    unknown = colours - HEALTH_COLOURS
    if not colours or unknown:
        raise ConfigError(
            f"ACCEPTED_HEALTH={raw!r}: expected a comma list of {', '.join(sorted(HEALTH_COLOURS))}"
        )
    return colours


def _seconds(env: Mapping[str, str], var: str, default: int, minimum: int, maximum: int = 86400) -> int:
    raw = env.get(var)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{var}={raw!r} is not a whole number of seconds") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{var}={value} must be between {minimum} and {maximum}")
    return value
