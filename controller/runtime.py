"""Everything a handler needs, built once per container from the validated configuration."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from controller import clients, http_check
from controller import config as config_module
from controller.config import Config
from controller.observation import HttpCheck
from controller.store import DeploymentStore

MAX_DELAY_S = 900


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    config: Config
    store: DeploymentStore
    eb: Any
    s3: Any
    sqs: Any
    clock: Callable[[], datetime] = utc_now
    http_get: Callable[[str], HttpCheck] = http_check.health
    _queue_url: str | None = field(default=None, repr=False)

    def enqueue(self, deployment_id: str, delay_s: int, chain: str | None = None) -> None:
        """Schedule a reconcile tick for the deployment after `delay_s` seconds (SQS allows 0..900).

        `chain` names the sequence of ticks the message continues; None starts a new one (see tick.py)."""
        if self._queue_url is None:
            self._queue_url = str(self.sqs.get_queue_url(QueueName=self.config.reconcile_queue)["QueueUrl"])
        body = {"deployment_id": deployment_id, "chain": chain or new_chain()}
        self.sqs.send_message(
            QueueUrl=self._queue_url,
            MessageBody=json.dumps(body),
            DelaySeconds=max(0, min(MAX_DELAY_S, int(delay_s))),
        )


def new_chain() -> str:
    return secrets.token_hex(6)


_current: Runtime | None = None


def current() -> Runtime:
    global _current
    if _current is None:
        cfg = config_module.load()
        _current = Runtime(
            config=cfg,
            store=DeploymentStore(clients.client("dynamodb"), cfg.deployments_table, cfg.lease_ttl_s),
            eb=clients.client("elasticbeanstalk"),
            s3=clients.client("s3"),
            sqs=clients.client("sqs"),
        )
    return _current


def config() -> Config:
    """The validated configuration without creating any AWS client."""
    return _current.config if _current is not None else _loaded_config()


_config_cache: list[Config] = []


def _loaded_config() -> Config:
    if not _config_cache:
        _config_cache.append(config_module.load())
    return _config_cache[0]


def reset() -> None:
    """Forget the container state (tests change the environment between cases)."""
    global _current
    _current = None
    _config_cache.clear()
    clients.reset()
