"""Everything a handler needs, in one object built once per container from the validated configuration:
the AWS clients (made on first use), the signing secret, the reconcile queue, the clock and the HTTP check.

`current()` is that object for the Lambda container; tests and the sandbox build their own `Runtime` (a
simulated clock, queue or HTTP check) and install it with `install()`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from controller.core import config as config_module
from controller.core.config import Config
from controller.core.observation import HttpCheck
from controller.shell import clients, http_check
from controller.shell.store import DeploymentStore
from controller.shell.tick_queue import SqsTickQueue, TickMessage, TickQueue


def utc_now() -> datetime:
    return datetime.now(UTC)


class Runtime:
    def __init__(
        self,
        config: Config,
        *,
        session: Any = None,
        clock: Callable[[], datetime] = utc_now,
        http_get: Callable[[str], HttpCheck] = http_check.health,
        queue: TickQueue | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.clock = clock
        self.http_get = http_get
        self.sleep = sleep  # between deliveries of a notification (tests may pass their own)
        self._session = session
        self._queue = queue
        self._clients: dict[tuple[str, bool], Any] = {}
        self._store: DeploymentStore | None = None
        self._secret: str | None = None
        self._secrets: dict[str, str | None] = {}

    # --- AWS ----------------------------------------------------------------------------------------

    @property
    def eb(self) -> Any:
        """Elastic Beanstalk for reads (retried)."""
        return self.client("elasticbeanstalk")

    @property
    def eb_once(self) -> Any:
        """Elastic Beanstalk for calls that change something: one attempt, never re-sent by botocore."""
        return self.client("elasticbeanstalk", single_attempt=True)

    @property
    def cloudwatch(self) -> Any:
        """CloudWatch for reads (retried): the drain's and the analysis' metrics, the alarms."""
        return self.client("cloudwatch")

    @property
    def s3(self) -> Any:
        return self.client("s3")

    def client(self, service: str, single_attempt: bool = False) -> Any:
        key = (service, single_attempt)
        if key not in self._clients:
            if self._session is None:
                self._session = clients.new_session()
            make = clients.single_attempt if single_attempt else clients.for_reads
            self._clients[key] = make(self._session, service)
        return self._clients[key]

    @property
    def store(self) -> DeploymentStore:
        if self._store is None:
            self._store = DeploymentStore(
                self.client("dynamodb"), self.config.deployments_table, self.config.lease_ttl_s
            )
        return self._store

    @property
    def queue(self) -> TickQueue:
        if self._queue is None:
            self._queue = SqsTickQueue(self.client("sqs"), self.config.reconcile_queue)
        return self._queue

    def enqueue(self, deployment_id: str, delay_s: int, chain: str | None = None, retry: int = 0) -> None:
        """Schedule a reconcile tick for the deployment after `delay_s` seconds (SQS allows 0..900).

        `chain` names the sequence of ticks the message continues; None starts a new one (see tick.py)."""
        self.queue.send(TickMessage(deployment_id, chain, retry), delay_s)

    def signing_secret(self) -> str:
        """The SSM SecureString named by SIGNING_SECRET_PARAM (read once), or SIGNING_SECRET for local runs.
        Never logged."""
        if self._secret is None:
            if self.config.signing_secret_param is None:
                assert self.config.signing_secret is not None  # config.load guarantees one of the two
                self._secret = self.config.signing_secret
            else:
                answer = self.client("ssm").get_parameter(
                    Name=self.config.signing_secret_param, WithDecryption=True
                )
                self._secret = str(answer["Parameter"]["Value"])
        return self._secret

    def github_token(self) -> str | None:
        """GitHub's token: the Secrets Manager secret GITHUB_TOKEN_SECRET (read once), or GITHUB_TOKEN for
        local runs; None when neither is set. Never logged."""
        return self._secret_value(self.config.github_token_secret, self.config.github_token)

    def chat_webhook_url(self) -> str | None:
        """The chat's incoming webhook: the secret CHAT_WEBHOOK_URL_SECRET (read once), or CHAT_WEBHOOK_URL
        for local runs; None when neither is set. Never logged (the URL is the credential)."""
        return self._secret_value(self.config.chat_webhook_url_secret, self.config.chat_webhook_url)

    def _secret_value(self, secret_id: str | None, local: str | None) -> str | None:
        if secret_id is None:
            return local
        if secret_id not in self._secrets:
            answer = self.client("secretsmanager").get_secret_value(SecretId=secret_id)
            self._secrets[secret_id] = str(answer["SecretString"]).strip() or None
        return self._secrets[secret_id]


_current: list[Runtime] = []


def current() -> Runtime:
    """The container's runtime, built from the environment on first use (ConfigError names a bad variable)."""
    if not _current:
        _current.append(Runtime(config_module.load()))
    return _current[0]


def install(rt: Runtime | None) -> None:
    """Use `rt` from now on (None: build from the environment again on next use)."""
    _current.clear()
    if rt is not None:
        _current.append(rt)
