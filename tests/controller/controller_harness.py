"""A whole controller world in one process: moto + the Beanstalk emulation, the Chalice app through
chalice.test.Client, a simulated clock shared by the controller and Beanstalk, and a simulated SQS queue
that delivers each requeued tick when its DelaySeconds have passed in simulated time.

Beanstalk's own timeline runs between the ticks: before each delivery the emulation settles what falls due
up to that moment, and the events it publishes on moto's EventBridge reach the reconcile queue through the
rule the controller's template defines (`BeanstalkEventsRule`, created in moto's EventBridge with the
template's pattern); they join the simulated queue at the moment they arrive, as the SQS event source
would hand them to `reconcile_tick`. `be.set_event_delivery(...)` drops, duplicates or delays them.

Used by tests/controller and by bench/controller.py (which counts calls and times handlers with it).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from botocore.awsrequest import AWSResponse
from chalice.test import Client
from moto.core.botocore_stubber import MockRawResponse
from moto.core.models import botocore_stubber

import moto_ext
from controller.api.routes import app
from controller.client import signing
from controller.core import config
from controller.core.model import Deployment
from controller.core.observation import HttpCheck
from controller.shell import beanstalk_events, clients, runtime
from controller.shell.store import DeploymentStore
from controller.shell.tick_queue import SqsTickQueue, TickMessage, TickQueue
from moto_ext import cloudwatch
from sandbox.network.dns_cache import DnsCache

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT, REGION = "123456789012", "us-east-1"
SOLUTION_STACK = "64bit Amazon Linux 2023 v4.6.0 running Docker"
SECRET = "test-signing-secret"
OLD_LABEL = "1.0.41-9be07d2"
IMAGE = "docker.io/acme/deliverypipeline"


def stage_environment(stage: str = "dev") -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return {**config["environment_variables"], **config["stages"][stage]["environment_variables"]}


ENV = stage_environment()
APPLICATION = ENV["EB_APPLICATION"]
PROD_PREFIX = ENV["PROD_CNAME_PREFIX"]
PROD_CNAME = f"{PROD_PREFIX}.{REGION}.elasticbeanstalk.com"
BLUE, GREEN = f"{APPLICATION}-blue", f"{APPLICATION}-green"


RULE = "beanstalk-events"
IMPORTS = {"${InfraStack}-ApplicationName": APPLICATION}  # what the controller's stack imports, here


def _imported(value: Any) -> Any:
    """The template's value with the provisioning stack's exports filled in."""
    if isinstance(value, dict):
        if set(value) == {"Fn::ImportValue"}:
            return IMPORTS[value["Fn::ImportValue"]["Fn::Sub"]]
        return {key: _imported(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_imported(item) for item in value]
    return value


def process_environment() -> dict[str, str]:
    """Everything the Lambda function would see, offline."""
    return {
        **ENV,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }


@functools.cache
def shared_session() -> Any:
    """One botocore session for every world: loading the service models per client is what costs time.
    moto's hook into botocore is on every client made after moto is imported; mock_aws switches it."""
    return clients.new_session()


def aws_client(service: str, region_name: str = REGION) -> Any:
    """A plain client (standard retries), as a test or an operator would use."""
    return shared_session().client(service, region_name=region_name)


class SimClock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass(order=True)
class Message:
    due: datetime
    seq: int
    deployment_id: str = field(compare=False)
    chain: str = field(compare=False, default="")
    retry: int = field(compare=False, default=0)
    event: str | None = field(compare=False, default=None)  # the body of an EventBridge event instead
    recheck: str | None = field(compare=False, default=None)  # a quiet wake's re-check of this environment
    rechecks: int = field(compare=False, default=0)

    def body(self) -> str:
        if self.event is not None:
            return self.event
        return TickMessage(self.deployment_id, self.chain, self.retry, self.recheck, self.rechecks).body()


class SimQueue:
    """The reconcile queue in simulated time (moto's SQS honours DelaySeconds in wall time)."""

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self.also: TickQueue | None = None  # e.g. the real SQS queue too, so its calls count
        self.pending: list[Message] = []
        self.sent: list[tuple[str, int]] = []
        self._seq = 0
        self._lock = threading.Lock()

    def send(self, message: TickMessage, delay_s: int) -> None:
        assert 0 <= delay_s <= 900, delay_s
        if self.also is not None:
            self.also.send(message, delay_s)
        with self._lock:
            self.sent.append((message.deployment_id, delay_s))
            self._seq += 1
            due = self.clock.now + timedelta(seconds=delay_s)
            chain = json.loads(message.body())["chain"]
            self.pending.append(
                Message(
                    due,
                    self._seq,
                    message.deployment_id,
                    chain,
                    message.retry,
                    recheck=message.recheck,
                    rechecks=message.rechecks,
                )
            )

    def arrive(self, event_body: str) -> None:
        """An EventBridge event reaches the queue now."""
        with self._lock:
            self._seq += 1
            self.pending.append(Message(self.clock.now, self._seq, "", event=event_body))

    def head_due(self) -> datetime | None:
        with self._lock:
            return min((m.due for m in self.pending), default=None)

    def pop_next(self) -> Message | None:
        with self._lock:
            if not self.pending:
                return None
            self.pending.sort()
            return self.pending.pop(0)

    def ticks_of(self, chain: str | None) -> list[Message]:
        """The queued ticks (not events, not re-checks) of one chain."""
        with self._lock:
            return [m for m in self.pending if m.event is None and m.recheck is None and m.chain == chain]

    def rechecks(self) -> list[Message]:
        with self._lock:
            return [m for m in self.pending if m.recheck is not None]


@dataclass
class Users:
    """Production's users (World.publish_traffic): none unless a test says how many."""

    per_minute: int = 0
    latency_s: float = 0.05
    errors: dict[str, float] = field(default_factory=dict)  # version label -> share answered 500
    stale_per_minute: int = 0  # after a swap, users whose resolver keeps the old environment ...
    stale_minutes: int = 0  # ... for this long


class World:
    """Provisioned AWS (inside an active mock_aws), the app, and the simulation around it."""

    def __init__(self, real_sqs: bool = False) -> None:
        """`real_sqs`: every tick is also sent to the (emulated) SQS queue, as the Lambda would send it."""
        cloudwatch.install()
        self.clock = SimClock()
        self.queue = SimQueue(self.clock)
        self.be = moto_ext.backend(ACCOUNT, REGION)
        self.be.clock = self.clock
        self.broken_health: dict[str, HttpCheck] = {}
        self.dns = DnsCache(self._owner_of, ttl_s=self._dns_ttl_s, clock=lambda: self.clock.now.timestamp())
        self.calls: Counter[str] = Counter()
        self.attempts: Counter[str] = Counter()  # Beanstalk requests sent, botocore's retries included
        self._provision()
        self.clock.advance(3600)  # the environments were created well before any deployment
        self.be.settle()  # ... and their launch's events went by then
        self.collect_events()
        self.queue.pending.clear()
        self.rt = runtime.Runtime(
            config.load(),
            session=shared_session(),
            clock=self.clock,
            http_get=self.http_get,
            queue=self.queue,
        )
        runtime.install(self.rt)
        for name in ("cloudwatch", "dynamodb", "elasticbeanstalk", "s3", "sqs", "ssm", "secretsmanager"):
            self.rt.client(name).meta.events.register("before-call.*.*", self._count)
        self.rt.eb_once.meta.events.register("before-call.*.*", self._count)
        for eb in (self.rt.eb, self.rt.eb_once):
            eb.meta.events.register_first("before-send.elastic-beanstalk.*", self._count_attempt)
        if real_sqs:
            self.queue.also = SqsTickQueue(self.rt.client("sqs"), self.rt.config.reconcile_queue)
        self.client = Client(app, stage_name="dev", project_dir=str(ROOT))
        self.handler_seconds = 0.0
        self.users = Users()
        self._published_until = self.clock.now.replace(second=0)
        self._owners: list[tuple[datetime, str | None]] = [(self._published_until, self.prod_owner())]
        self._stale: list[tuple[str, datetime, datetime]] = []  # (environment, from, until)
        self._signed: set[tuple[int, str, str, bytes]] = set()

    # --- AWS arrangement ---------------------------------------------------------------------------

    def _provision(self) -> None:
        s3 = aws_client("s3", region_name=REGION)
        s3.create_bucket(Bucket=ENV["ARTIFACT_BUCKET"])
        template = json.loads((ROOT / ".chalice" / "resources.json").read_text())
        table = template["Resources"]["DeploymentsTable"]["Properties"]
        aws_client("dynamodb", region_name=REGION).create_table(
            TableName=ENV["DEPLOYMENTS_TABLE"],
            AttributeDefinitions=table["AttributeDefinitions"],
            KeySchema=table["KeySchema"],
            GlobalSecondaryIndexes=table["GlobalSecondaryIndexes"],
            BillingMode=table["BillingMode"],
        )
        sqs = aws_client("sqs", region_name=REGION)
        self.queue_url = sqs.create_queue(QueueName=ENV["RECONCILE_QUEUE"])["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        rule = template["Resources"]["BeanstalkEventsRule"]["Properties"]
        events = aws_client("events", region_name=REGION)
        events.put_rule(Name=RULE, EventPattern=json.dumps(_imported(rule["EventPattern"])), State="ENABLED")
        events.put_targets(
            Rule=RULE,
            Targets=[{"Id": t["Id"], "Arn": queue_arn["Attributes"]["QueueArn"]} for t in rule["Targets"]],
        )
        aws_client("ssm", region_name=REGION).put_parameter(
            Name=ENV["SIGNING_SECRET_PARAM"], Value=SECRET, Type="SecureString"
        )
        eb = aws_client("elasticbeanstalk", region_name=REGION)
        eb.create_application(ApplicationName=APPLICATION)
        key = f"{APPLICATION}/{OLD_LABEL}.zip"
        s3.put_object(Bucket=ENV["ARTIFACT_BUCKET"], Key=key, Body=b"old bundle")
        eb.create_application_version(
            ApplicationName=APPLICATION,
            VersionLabel=OLD_LABEL,
            Description=f"{IMAGE}:{OLD_LABEL}",
            SourceBundle={"S3Bucket": ENV["ARTIFACT_BUCKET"], "S3Key": key},
        )
        for name, prefix in ((BLUE, PROD_PREFIX), (GREEN, f"{PROD_PREFIX}-green")):
            eb.create_environment(
                ApplicationName=APPLICATION,
                EnvironmentName=name,
                CNAMEPrefix=prefix,
                VersionLabel=OLD_LABEL,
                SolutionStackName=SOLUTION_STACK,
            )

    def environments(self) -> dict[str, Any]:
        found = self.be.describe_environments(APPLICATION, include_deleted=False)
        return {e.environment_name: e for e in found}

    def prod_owner(self) -> str | None:
        return next((n for n, e in self.environments().items() if e.cname == PROD_CNAME), None)

    def versions(self) -> list[str]:
        return sorted(label for (application, label) in self.be.versions if application == APPLICATION)

    def table_items(self) -> list[dict[str, Any]]:
        db = aws_client("dynamodb", region_name=REGION)
        return list(db.scan(TableName=ENV["DEPLOYMENTS_TABLE"])["Items"])

    def bucket_keys(self) -> list[str]:
        found = aws_client("s3", region_name=REGION).list_objects_v2(Bucket=ENV["ARTIFACT_BUCKET"])
        return sorted(o["Key"] for o in found.get("Contents", []))

    # --- the web app behind each CNAME (answers /health with the version its environment runs) -------

    def http_get(self, url: str) -> HttpCheck:
        """Through a CNAME (DNS: whoever owns it now; with the emulation's dns-lag, whoever a resolver cached
        within its TTL) or an environment's own EndpointURL. A version failing after the swap (the emulation's
        fails-after-swap) answers 503, as the sandbox's front does."""
        owner = self.environments().get(self.dns(urlparse(url).hostname or "") or "")
        if owner is None:
            return HttpCheck(url=url, error="unreachable (no such host)")
        if owner.environment_name in self.broken_health:
            return dataclasses.replace(self.broken_health[owner.environment_name], url=url)
        if owner.failing:
            return HttpCheck(url=url, status=503)
        return HttpCheck(url=url, status=200, version=owner.version_label)

    def _owner_of(self, host: str) -> str | None:
        for name, e in self.environments().items():
            if host and host in (e.cname.lower(), e.endpoint_url.lower()):
                return str(name)
        return None

    def _dns_ttl_s(self) -> float:
        controls = self.be.controls
        return controls.timings.dns_ttl_s if controls.active(moto_ext.Fault.DNS_LAG) else 0.0

    # --- production's users, as the load balancers' CloudWatch metrics show them ---------------------

    def publish_traffic(self) -> None:
        """Each whole minute since the last publication: `users.per_minute` requests reached the environment
        that owned the production name when the minute began, and after a swap `users.stale_per_minute` kept
        reaching the one that lost it for `users.stale_minutes` (resolvers that ignore the TTL); each load
        balancer puts its minute into CloudWatch as ELB does (nothing for a minute without requests). A
        version in `users.errors` answers that share of its requests with 500. A change of owner is seen at
        the delivery that follows it."""
        now = self.clock.now
        owner, (_, before) = self.prod_owner(), self._owners[-1]
        if owner != before:
            if before is not None and self.users.stale_minutes:
                self._stale.append((before, now, now + timedelta(minutes=self.users.stale_minutes)))
            self._owners.append((now, owner))
        cloudwatch = aws_client("cloudwatch")
        while self._published_until + timedelta(minutes=1) <= now:
            minute = self._published_until
            counts: Counter[str] = Counter()
            owner_then = next(
                o for since, o in reversed(self._owners) if since <= minute or since == self._owners[0][0]
            )
            if owner_then is not None:
                counts[owner_then] += self.users.per_minute
            for env_name, since, until in self._stale:
                if since <= minute < until:
                    counts[env_name] += self.users.stale_per_minute
            for env_name, requests in counts.items():
                if requests:
                    cloudwatch.put_metric_data(
                        Namespace="AWS/ApplicationELB", MetricData=self._minute(env_name, minute, requests)
                    )
            self._published_until = minute + timedelta(minutes=1)

    def stale_until(self) -> datetime | None:
        """When the stale users of the last swap stop (None: there are none)."""
        return self._stale[-1][2] if self._stale else None

    def _minute(self, env_name: str, minute: datetime, requests: int) -> list[dict[str, Any]]:
        env = self.environments()[env_name]
        dimensions = [{"Name": "LoadBalancer", "Value": env.load_balancer_arn.split(":loadbalancer/")[1]}]
        errors = round(requests * self.users.errors.get(env.version_label or "", 0.0))
        data: list[dict[str, Any]] = [
            {"MetricName": "RequestCount", "Value": requests, "Unit": "Count"},
            {"MetricName": "TargetResponseTime", "Values": [self.users.latency_s], "Counts": [requests]},
        ]
        if errors:
            data.append({"MetricName": "HTTPCode_Target_5XX_Count", "Value": errors, "Unit": "Count"})
        return [{**datum, "Dimensions": dimensions, "Timestamp": minute} for datum in data]

    # --- HTTP through chalice.test.Client ----------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        sign_path: str | None = None,
        skew: int = 0,
        key: str = SECRET,
        headers: dict[str, str] | None = None,
    ) -> Any:
        ts = int(time.time()) + skew
        signed_path = sign_path or path.split("?")[0]
        while (ts, method, signed_path, body) in self._signed:  # a signed request is single-use: a test
            ts += 1  # that sends the same one twice in a second means two requests, as a client would
        self._signed.add((ts, method, signed_path, body))
        signed = signing.signed_headers(key, ts, method, signed_path, body)
        all_headers = {"Content-Type": "application/json", **signed, **(headers or {})}
        started = time.perf_counter()
        try:
            return self.client.http.request(method, path, headers=all_headers, body=body)
        finally:
            self.handler_seconds += time.perf_counter() - started

    def post_deployment(self, tag: str, image: str = IMAGE, **extra: Any) -> Any:
        return self.request(
            "POST", "/deployments", json.dumps({"image": image, "tag": tag, **extra}).encode()
        )

    def get_deployment(self, deployment_id: str) -> dict[str, Any]:
        response = self.request("GET", f"/deployments/{deployment_id}")
        assert response.status_code == 200, response.body
        return dict(json.loads(response.body))

    # --- the reconcile loop in simulated time -------------------------------------------------------

    def deliver(self, target: str | Message) -> None:
        """Invoke reconcile_tick with one SQS record: a queued message, or a new chain for a deployment id.
        The load balancers publish the minutes of production's users that have passed before it."""
        self.publish_traffic()
        body = target.body() if isinstance(target, Message) else json.dumps({"deployment_id": target})
        event = self.client.events.generate_sqs_event(
            message_bodies=[body], queue_name=ENV["RECONCILE_QUEUE"]
        )
        started = time.perf_counter()
        try:
            self.client.lambda_.invoke("reconcile_tick", event)
        finally:
            self.handler_seconds += time.perf_counter() - started

    def run(
        self, max_ticks: int = 500, on_message: Callable[[World, Message], None] | None = None
    ) -> Iterator[Message]:
        """Deliver queued ticks and arriving events in due order, moving the simulated clock to each one's
        due time (Beanstalk's timeline runs in between)."""
        for _ in range(max_ticks):
            message = self.next_message()
            if message is None:
                return
            if on_message is not None:
                on_message(self, message)
            self.deliver(message)
            yield message
        raise AssertionError(f"the queue never drained in {max_ticks} ticks")

    def drain(self, max_ticks: int = 500) -> int:
        return sum(1 for _ in self.run(max_ticks))

    def next_message(self, horizon_s: float | None = None) -> Message | None:
        """The next message in due order with the clock at its due time, once Beanstalk has done what
        falls due before it (and its events have arrived); None when none is due within `horizon_s`."""
        self.beanstalk_until_next_message()
        head = self.queue.head_due()
        if head is not None and horizon_s is not None and (head - self.clock.now).total_seconds() > horizon_s:
            return None
        message = self.queue.pop_next()
        if message is not None and message.due > self.clock.now:
            self.clock.now = message.due
        return message

    def beanstalk_until_next_message(self) -> None:
        """Settle what Beanstalk finishes before the next queued message is due (or, with nothing queued,
        until one of its events arrives or it has nothing left to do), moment by moment, letting its
        EventBridge events reach the queue."""
        while True:
            self.be.settle()
            self.collect_events()
            head, upcoming = self.queue.head_due(), self._next_beanstalk_moment()
            if upcoming is None or (head is not None and upcoming > head):
                return
            self.clock.now = upcoming

    def collect_events(self) -> int:
        """Move what EventBridge delivered to the reconcile queue (moto's SQS) into the simulated queue."""
        sqs, arrived = aws_client("sqs", region_name=REGION), 0
        while True:
            batch = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return arrived
            for message in batch:
                if beanstalk_events.parse(message["Body"]) is not None:  # not the ticks `also` sends
                    self.queue.arrive(message["Body"])
                    arrived += 1
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def _next_beanstalk_moment(self) -> datetime | None:
        """When Beanstalk next finishes something by itself (an operation, a late event); operations due
        already wait for something else (a stuck update, a deploy hook)."""
        moments = [datetime.fromisoformat(op["due"]) for op in self.be.pending_operations()]
        moments += [due for due, _ in self.be.outbox.pending]
        return min((m for m in moments if m > self.clock.now), default=None)

    def deliver_forever(self, stop: threading.Event, horizon_s: float | None = None) -> None:
        """The event source mapping on a thread: deliver ticks as they come, in simulated time (a tick due
        more than `horizon_s` ahead waits: time does not run on while a person is to act)."""
        while not stop.is_set():
            message = self.next_message(horizon_s)
            if message is None:
                time.sleep(0.01)
                continue
            self.deliver(message)

    def driving_ticks(self, deployment_id: str) -> list[Message]:
        """Queued ticks of the chain that drives the deployment now."""
        return self.queue.ticks_of(self.record(deployment_id).chain)

    def record(self, deployment_id: str) -> Deployment:
        """The stored deployment, read as a test would (not counted among the controller's calls)."""
        store = DeploymentStore(aws_client("dynamodb"), ENV["DEPLOYMENTS_TABLE"], self.rt.config.lease_ttl_s)
        found = store.get(deployment_id)
        assert found is not None
        return found

    # --- AWS answers the emulation's faults do not give, injected at the botocore boundary -------------

    def refuse(self, operation: str, code: str, message: str, times: int = 1, status: int = 400) -> list[str]:
        """The next `times` calls of the controller's Beanstalk `operation` are refused with that error and
        change nothing (throttling of a mutating call, a refusal for good, a 503 that never reached
        Beanstalk). Returns the list of attempts seen."""
        attempts: list[str] = []
        left = [times]

        def answer(request: Any, **_: Any) -> AWSResponse | None:
            attempts.append(operation)
            if left[0] <= 0:
                return None
            left[0] -= 1
            botocore_stubber.enabled = False  # moto's own handler, next in line, stays out of this one
            kind = "Receiver" if status >= 500 else "Sender"
            body = (
                f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message>"
                "</Error><RequestId>injected-0000</RequestId></ErrorResponse>"
            )
            return AWSResponse(request.url, status, {}, MockRawResponse(body))

        def back_on(**_: Any) -> None:  # once the answer is in, moto answers everything again
            botocore_stubber.enabled = True

        for eb in (self.rt.eb, self.rt.eb_once):
            eb.meta.events.register_first(f"before-send.elastic-beanstalk.{operation}", answer)
            eb.meta.events.register(f"before-parse.elastic-beanstalk.{operation}", back_on)
        return attempts

    def fail_aws(
        self,
        service: str,
        operation: str,
        code: str,
        message: str,
        *,
        status: int = 500,
        times: int = 1,
        when: Callable[[dict[str, Any]], bool] = lambda params: True,
        extra: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """The next `times` calls of the controller's `operation` whose parameters satisfy `when` answer that
        error without reaching AWS. Returns the parameters of the calls that failed."""
        failed: list[dict[str, Any]] = []

        def answer(params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]] | None:
            body = params.get("body") or b"{}"
            api_params = dict(body) if isinstance(body, dict) else json.loads(body)  # query / JSON protocol
            if len(failed) >= times or not when(api_params):
                return None
            failed.append(api_params)
            http = AWSResponse("https://aws.invalid/", status, {}, MockRawResponse(b""))
            parsed = {
                "Error": {"Code": code, "Message": message},
                "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "injected"},
                **(extra or {}),
            }
            return http, parsed

        for single_attempt in (False, True):
            client = self.rt.client(service, single_attempt)
            service_id = client.meta.service_model.service_id.hyphenize()
            client.meta.events.register_first(f"before-call.{service_id}.{operation}", answer)
        return failed

    # --- counting AWS calls ------------------------------------------------------------------------

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}.{model.name}"] += 1

    def _count_attempt(self, event_name: str, **_: Any) -> None:
        self.attempts[event_name.rsplit(".", 1)[-1]] += 1

    def aws_calls(self, prefix: str = "") -> int:
        return sum(n for name, n in self.calls.items() if name.startswith(prefix))
