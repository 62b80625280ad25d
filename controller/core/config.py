"""Controller configuration from the environment, read once and validated (errors name the variable)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from controller.core.analysis import settings as analysis_settings
from controller.core.analysis.checks import DEFAULT_CHECKS, Check

# Health that lets a deployment go on: Green, or Green and Yellow (Red and Grey never do).
ACCEPTED_HEALTH_CHOICES = {"Green": frozenset({"Green"}), "Green,Yellow": frozenset({"Green", "Yellow"})}
_NAME = re.compile(r"[A-Za-z0-9._/-]{1,255}")
_CNAME_PREFIX = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
# A .dockercfg under registry/ in the artifact bucket (what infra/pipeline.yaml lets the instances read).
_REGISTRY_AUTH_KEY = re.compile(r"registry/[A-Za-z0-9_./-]{1,1000}")
# CloudWatch periods: ALB metrics are per minute; shorter ones need high-resolution data (an emulation's).
METRICS_PERIODS = (1, 5, 10, 30, 60)
_HTTP_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[!-~]*)?")
# A Secrets Manager secret: its ARN, or its name (letters, digits and /_+=.@-).
_SECRET_ID = re.compile(
    r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+|[A-Za-z0-9/_+=.@-]{1,512}"
)
DEFAULT_GITHUB_API_URL = "https://api.github.com"


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
    health_grace_s: int = 120
    smoke_window_s: int = 60
    verify_window_s: int = 300
    bake_s: int = 0
    promotion_timeout_s: int = 3600
    dns_ttl_s: int = 60  # the minimum wait after a swap before the drain may pass (DNS's TTL)
    analysis_checks: tuple[Check, ...] = DEFAULT_CHECKS
    drain_max_requests: int = 0  # per minute
    drain_window_s: int = 120
    drain_timeout_s: int = 1800
    metrics_period_s: int = 60
    preprod_cname_prefix: str | None = None
    registry_auth_key: str | None = None  # private images: Dockerrun "Authentication" in the artifact bucket
    # Where people are (notifications): GitHub's REST API and its token, the chat's incoming webhook, each
    # from Secrets Manager (`*_SECRET`) or, for local runs, the environment; the controller's public URL
    # when the one notifications come through is not it (a custom domain).
    github_api_url: str = DEFAULT_GITHUB_API_URL
    github_token_secret: str | None = None
    github_token: str | None = None
    chat_webhook_url_secret: str | None = None
    chat_webhook_url: str | None = None
    controller_url: str | None = None

    @property
    def max_poll_interval_s(self) -> int:
        """Waits back off from POLL_INTERVAL_S to at most 8x it (SQS allows 900 s)."""
        return min(900, 8 * self.poll_interval_s)

    @property
    def safety_poll_s(self) -> int:
        """A wait for something Beanstalk announces on EventBridge (an update ending, health changing) is
        woken by the event; it still looks every 40x POLL_INTERVAL_S (600 s by default, at most SQS's
        900 s) in case the event was lost: a safety net, like a controller's periodic resync."""
        return min(900, 40 * self.poll_interval_s)

    @property
    def smoke_interval_s(self) -> int:
        """Seconds between smoke rounds: room for several rounds of consecutive passes in SMOKE_WINDOW_S,
        and never slower than POLL_INTERVAL_S."""
        return max(1, min(self.poll_interval_s, self.smoke_window_s // 10))

    @property
    def lease_ttl_s(self) -> int:
        """A running deployment saves at least once per its longest wait (DEPLOY_TIMEOUT_S, one of the
        windows, the bake or a held deployment's PROMOTION_TIMEOUT_S); the lease outlives that."""
        longest = max(
            self.deploy_timeout_s,
            self.health_grace_s,
            self.smoke_window_s,
            self.verify_window_s,
            self.bake_s,
            self.promotion_timeout_s,
            self.drain_timeout_s,
        )
        return longest + 900

    @property
    def prod_cname(self) -> str:
        return f"{self.prod_cname_prefix}.{self.region}.elasticbeanstalk.com"


def load(environ: Mapping[str, str] | None = None) -> Config:
    env = os.environ if environ is None else environ
    secret_param = env.get("SIGNING_SECRET_PARAM") or None
    secret = env.get("SIGNING_SECRET") or None
    if secret_param is None and secret is None:
        raise ConfigError("SIGNING_SECRET_PARAM is not set (or SIGNING_SECRET for local runs)")
    period = _choice(env, "METRICS_PERIOD_S", 60, METRICS_PERIODS)
    drain_window, drain_timeout = _drain(env, period)
    return Config(
        eb_application=_name(env, "EB_APPLICATION"),
        prod_cname_prefix=_name(env, "PROD_CNAME_PREFIX"),
        artifact_bucket=_name(env, "ARTIFACT_BUCKET"),
        deployments_table=_name(env, "DEPLOYMENTS_TABLE"),
        reconcile_queue=_name(env, "RECONCILE_QUEUE"),
        signing_secret_param=secret_param,
        signing_secret=secret,
        region=_name(env, "AWS_DEFAULT_REGION", env.get("AWS_REGION", "us-east-1")),
        accepted_health=_health(env.get("ACCEPTED_HEALTH") or "Green"),
        deploy_timeout_s=_seconds(env, "DEPLOY_TIMEOUT_S", 1200, minimum=60),
        poll_interval_s=_seconds(env, "POLL_INTERVAL_S", 15, minimum=1, maximum=900),
        health_grace_s=_seconds(env, "HEALTH_GRACE_S", 120, minimum=0),
        smoke_window_s=_seconds(env, "SMOKE_WINDOW_S", 60, minimum=1),
        verify_window_s=_seconds(env, "VERIFY_WINDOW_S", 300, minimum=1),
        bake_s=_seconds(env, "BAKE_S", 0, minimum=0),
        promotion_timeout_s=_seconds(env, "PROMOTION_TIMEOUT_S", 3600, minimum=60),
        dns_ttl_s=_seconds(env, "DNS_TTL_S", 60, minimum=0, maximum=3600),
        analysis_checks=_checks(env, "ANALYSIS_CHECKS"),
        drain_max_requests=_count(env, "DRAIN_MAX_REQUESTS", 0),
        drain_window_s=drain_window,
        drain_timeout_s=drain_timeout,
        metrics_period_s=period,
        preprod_cname_prefix=_cname_prefix(env, "PREPROD_CNAME_PREFIX"),
        registry_auth_key=_registry_auth_key(env, "REGISTRY_AUTH_KEY"),
        github_api_url=(_url(env, "GITHUB_API_URL") or DEFAULT_GITHUB_API_URL).rstrip("/"),
        github_token_secret=_secret_id(env, "GITHUB_TOKEN_SECRET"),
        github_token=env.get("GITHUB_TOKEN") or None,
        chat_webhook_url_secret=_secret_id(env, "CHAT_WEBHOOK_URL_SECRET"),
        chat_webhook_url=_url(env, "CHAT_WEBHOOK_URL"),
        controller_url=(_url(env, "CONTROLLER_URL") or "").rstrip("/") or None,
    )


def _drain(env: Mapping[str, str], period: int) -> tuple[int, int]:
    """DRAIN_WINDOW_S and DRAIN_TIMEOUT_S: the window spans at least two metrics periods (one not yet
    published never decides alone), and the timeout leaves room for one window."""
    window = _seconds(env, "DRAIN_WINDOW_S", 120, minimum=1, maximum=3600)
    if window < 2 * period:
        raise ConfigError(
            f"DRAIN_WINDOW_S={window} must be at least twice METRICS_PERIOD_S={period} (two whole periods "
            "without traffic)"
        )
    timeout = _seconds(env, "DRAIN_TIMEOUT_S", 1800, minimum=1)
    if timeout < window:
        raise ConfigError(f"DRAIN_TIMEOUT_S={timeout} must be at least DRAIN_WINDOW_S={window}")
    return window, timeout


def _checks(env: Mapping[str, str], var: str) -> tuple[Check, ...]:
    try:
        return analysis_settings.parse(env.get(var))
    except analysis_settings.CheckError as error:
        raise ConfigError(f"{var}: {error}") from None


def _count(env: Mapping[str, str], var: str, default: int, maximum: int = 10**9) -> int:
    raw = env.get(var)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) > maximum:
        raise ConfigError(f"{var}={raw!r} is not a whole number from 0 to {maximum}")
    return int(raw)


def _choice(env: Mapping[str, str], var: str, default: int, choices: tuple[int, ...]) -> int:
    raw = env.get(var)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) not in choices:
        shown = ", ".join(str(c) for c in choices)
        raise ConfigError(f"{var}={raw!r} must be one of {shown} (seconds)")
    return int(raw)


def _url(env: Mapping[str, str], var: str) -> str | None:
    value = env.get(var) or None
    if value is not None and (len(value) > 2048 or not _HTTP_URL.fullmatch(value)):
        raise ConfigError(f"{var}={value!r} is not an http(s) URL")
    return value


def _secret_id(env: Mapping[str, str], var: str) -> str | None:
    value = env.get(var) or None
    if value is not None and not _SECRET_ID.fullmatch(value):
        raise ConfigError(f"{var}={value!r} is not a Secrets Manager secret ARN or name")
    return value


def _registry_auth_key(env: Mapping[str, str], var: str) -> str | None:
    value = env.get(var) or None
    if value is not None and (not _REGISTRY_AUTH_KEY.fullmatch(value) or ".." in value.split("/")):
        raise ConfigError(f"{var}={value!r} is not a key under registry/ in the artifact bucket")
    return value


def _name(env: Mapping[str, str], var: str, default: str | None = None) -> str:
    value = env.get(var) or default
    if not value:
        raise ConfigError(f"{var} is not set")
    if not _NAME.fullmatch(value):
        raise ConfigError(f"{var}={value!r} is not a valid name")
    return value


def _cname_prefix(env: Mapping[str, str], var: str) -> str | None:
    value = env.get(var) or None
    if value is not None and not _CNAME_PREFIX.fullmatch(value):
        raise ConfigError(f"{var}={value!r} is not a CNAME prefix (letters, digits and '-', up to 63)")
    return value


def _health(raw: str) -> frozenset[str]:
    colours = frozenset(c.strip() for c in raw.split(",") if c.strip())
    for accepted in ACCEPTED_HEALTH_CHOICES.values():
        if colours == accepted:
            return accepted
    choices = " or ".join(repr(c) for c in ACCEPTED_HEALTH_CHOICES)
    raise ConfigError(f"ACCEPTED_HEALTH={raw!r}: expected {choices} (Red and Grey are never healthy)")


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
