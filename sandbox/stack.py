"""The whole system on one machine: emulated AWS, two live environments, the CNAME front, the controller.

`Stack.start()` brings everything up in order and answers `StackInfo` (what `python -m sandbox up`
prints); `Stack.stop()` stops everything it started, in reverse, and is safe to call at any point of a
partial start. Progress goes to the `report` callable (stderr by default), never to stdout. Its files live
in a run directory that goes with it, except, with `Options.keep_logs`, the logs (the controller's and the
environments' instances'), whose place it reports.

`Options.realistic` gives the emulation AWS's shape of time, compressed (`moto_ext.REALISTIC`):
environments launch, each update ends Yellow for a while before Green, a new instance answers 503 while it
registers with the load balancer (within the update), and DNS keeps the old target for a while after a
swap. `Options.faults` forces rough edges by name on every deployment (`moto_ext.Fault`).
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3

import moto_ext
from sandbox.beanstalk_clock import BeanstalkClock
from sandbox.interruptions import shielded
from sandbox.live.dockerrun import ImageRef
from sandbox.live.environments import Environments, EnvironmentStartError
from sandbox.live.instances import (
    Launcher,
    ProcessLauncher,
    log_tail,
    spawn_logged,
    stop_process_group,
    without_proxies,
)
from sandbox.network.alb_metrics import LoadBalancerMetrics
from sandbox.network.dns_cache import DnsCache
from sandbox.network.front import Front, Observer, Route, Router, cname_router, environment_route
from sandbox.network.ports import LOOPBACK, free_port
from sandbox.network.scanners import Scanners
from sandbox.network.stale_resolvers import StaleResolvers
from sandbox.network.traffic_log import TrafficLog
from sandbox.provision import Names, ProvisionError, provision

ACCOUNT_ID = moto_ext.DEFAULT_ACCOUNT_ID
PROCESS_IMAGE = "docker.io/acme/deliverypipeline"  # any reference: process mode runs this checkout
DOCKER_IMAGE = "127.0.0.1:5000/deliverypipeline"  # --docker: the image pushed to the local registry
FIRST_TAG = "1.0.0"
CONTROLLER_START_TIMEOUT_S = 60.0
# --realistic compresses Beanstalk's timings (moto_ext.REALISTIC: health recovers in 3 s, instances register
# in 2 s, DNS keeps a swapped name 3 s); the controller's windows shrink with them, keeping their margin over
# what they wait out (on AWS: 120 s of grace for ~60 s of recovery, 300 s to verify for a 60 s TTL). The grace
# is counted on Beanstalk's clock, so it may be tight; the smoke test and the verification meet the web app,
# which a busy machine slows (its /health answers 503 when the store takes over 2 s): their windows keep a
# minute, which only a failure waits out in full.
REALISTIC_CONTROLLER_WINDOWS = {"HEALTH_GRACE_S": "15", "SMOKE_WINDOW_S": "60", "VERIFY_WINDOW_S": "60"}
# The load balancers publish their metrics every second (a compressed minute) in both modes, and the
# controller reads them at that pace: its drain waits for 3 quiet periods (AWS: 2 quiet minutes), its analysis
# judges from the first whole second after the swap. Its p99-latency check tolerates up to a second
# more than the previous version: the environments share this machine with everything else, whose hiccups
# are no regression (on AWS the default 0.1 s stands).
SANDBOX_METRICS_PERIOD_S = 1
SANDBOX_CONTROLLER_EVIDENCE = {
    "METRICS_PERIOD_S": str(SANDBOX_METRICS_PERIOD_S),
    "DRAIN_WINDOW_S": "3",
    "DRAIN_TIMEOUT_S": "120",
    "ANALYSIS_CHECKS": '[{"name": "p99-latency", "floor_s": 1.0}]',
}
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}  # moto accepts any
CONTROLLER_LOG = "controller.log"  # in the run directory
INSTANCE_LOGS = "logs"  # in the run directory: one log per environment instance
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))

Report = Callable[[str], None]


def to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Options:
    names: Names = field(default_factory=Names)
    image_repository: str = PROCESS_IMAGE
    first_tag: str = FIRST_TAG
    settle_after_s: float = 1.0  # Beanstalk's time to settle a swap (the hook settles updates)
    poll_interval_s: int = 1  # the controller's re-check interval (POLL_INTERVAL_S)
    docker: bool = False
    publish_tags: tuple[str, ...] = ()  # --docker: more tags to build and push at start (CI's image job)
    realistic: bool = False  # --realistic: AWS's timings and transient behaviours, compressed
    faults: tuple[moto_ext.Fault, ...] = ()  # --fault NAME: forced on every deployment
    keep_logs: bool = False  # --keep-logs: the run directory's logs outlive the stack


@dataclass(frozen=True)
class StackInfo:
    controller_url: str
    aws_endpoint: str
    region: str
    application: str
    prod_url: str
    signing_secret: str
    environments: dict[str, dict[str, str]]
    cname_proxy: str

    def as_json(self) -> dict[str, Any]:
        return {
            "controller_url": self.controller_url,
            "aws_endpoint": self.aws_endpoint,
            "region": self.region,
            "application": self.application,
            "prod_url": self.prod_url,
            "signing_secret": self.signing_secret,
            "environments": self.environments,
            "cname_proxy": self.cname_proxy,
        }


class StackError(RuntimeError):
    """A part of the stack did not come up; the message names it and why."""


class Stack:
    def __init__(self, options: Options | None = None, report: Report = to_stderr) -> None:
        self.options = options or Options()
        self._report = report
        self._stops: list[tuple[str, Callable[[], None]]] = []
        self.run_dir = Path(tempfile.mkdtemp(prefix="deliverypipeline-sandbox-"))
        self._stops.append(("run directory", self._leave_run_directory))
        self.environments: Environments | None = None
        self.info: StackInfo | None = None
        self.stale: list[StaleResolvers] = []  # slow-drain's resolvers: the proxy's and production's URL's
        self.traffic_log = TrafficLog(frozenset())  # where the fronts sent production's requests

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> StackInfo:
        names = self.options.names
        self._report(f"sandbox: starting the AWS emulation (moto + Beanstalk); files in {self.run_dir}")
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every request
        endpoint, stop_aws = moto_ext.start_server(port=0)
        self._stops.append(("AWS emulation", stop_aws))
        backend = moto_ext.backend(account_id=ACCOUNT_ID, region=names.region)
        self._roughen(backend)
        clients = _clients(endpoint, names.region)

        first = ImageRef(self.options.image_repository, self.options.first_tag)
        if self.options.docker:
            tags = (first.tag, *self.options.publish_tags)
            self._publish([ImageRef(first.repository, tag) for tag in tags])
        environments = Environments(self._launcher())
        self.environments = environments
        self._stops.append(("environments", environments.stop_all))
        for env_name in names.environments:
            self._report(f"sandbox: starting {env_name} on {first}")
            try:
                environments.launch(env_name, first)
            except EnvironmentStartError as error:
                raise StackError(f"the first version cannot start: {error}") from error
        self._report(
            f"sandbox: deploying stacks {names.infra_stack} (infra/pipeline.yaml: application, environments, "
            f"bucket, secret) and {names.controller_stack} (the controller) through CloudFormation"
        )
        try:
            provisioned = provision(clients, names, first, self.run_dir)
        except ProvisionError as error:
            raise StackError(f"provisioning failed: {error}") from error
        hook = deploy_hook(environments, backend, self.options.realistic, self._report)
        for env_name in names.environments:
            backend.set_deploy_hook(env_name, hook)
        clock = BeanstalkClock(backend, self._report)  # operations end, and their events go out, unasked
        clock.start()
        self._stops.append(("Beanstalk's clock", clock.stop))

        owner_of = _cname_owner(backend, names.application)
        failing, erroring = failing_of(backend), _erroring(backend)
        production = frozenset({names.cname(names.prod_prefix)})
        self.stale = [
            _slow_drain(DnsCache(owner_of, ttl_s=_dns_ttl(backend)), production, backend),
            _slow_drain(owner_of, production, backend),
        ]
        metrics = load_balancers_metrics(backend, clients.cloudwatch, names.application)
        metrics.start()
        self._stops.append(("load balancers' metrics", metrics.stop))
        self.traffic_log = TrafficLog(production)
        observers: list[Observer] = [metrics, self.traffic_log]
        parts = (environments.port_of, environments.registering, failing, erroring)
        proxy = self._front(cname_router(self.stale[0], *parts), observers=observers)
        prod_front = self._front(
            cname_router(self.stale[1], *parts), host=names.cname(names.prod_prefix), observers=observers
        )
        env_fronts = {
            env_name: self._front(
                _fixed_environment(env_name, environments, failing, erroring), observers=observers
            )
            for env_name in names.environments
        }
        scanners = Scanners(
            lambda: backend.controls.active(moto_ext.Fault.SCANNER_4XX), [f.url for f in env_fronts.values()]
        )
        scanners.start()
        self._stops.append(("scanners", scanners.stop))

        controller_url = self._start_controller(
            endpoint,
            names,
            {**provisioned.function_environment, **self._windows(backend)},
            proxy.url,
            _credentials_of(clients, provisioned.reconcile_role),
        )
        self.info = StackInfo(
            controller_url=controller_url,
            aws_endpoint=endpoint,
            region=names.region,
            application=names.application,
            prod_url=prod_front.url,
            signing_secret=provisioned.signing_secret,
            environments={
                env_name: _described(names.cname(prefix), env_fronts[env_name].url, first.tag)
                for env_name, prefix in names.environments.items()
            },
            cname_proxy=proxy.url,
        )
        self._report("sandbox: ready")
        return self.info

    def stop(self) -> None:
        """Stop everything started so far, newest first (idempotent)."""
        while self._stops:
            what, stop = self._stops.pop()
            try:
                stop()
            except Exception as error:  # keep stopping the rest; say what could not be stopped
                self._report(f"sandbox: stopping the {what} failed: {error!r}")

    def _roughen(self, backend: moto_ext.BeanstalkBackend) -> None:
        """--realistic and --fault: how rough the emulation is for this run. IAM checks are always on:
        Beanstalk acts downstream as the environments' operations role, or as the controller
        (moto_ext/elasticbeanstalk/iam/downstream.py).
        """
        backend.settle_after_s = self.options.settle_after_s
        backend.set_caller_permissions(True)
        if not self.options.realistic:
            # The plain sandbox launches its environments at once; the provisioning stack then completes
            # as soon as CloudFormation sees them Ready (--realistic: after the compressed launch time).
            backend.set_timings(launch_s=0, metrics_period_s=SANDBOX_METRICS_PERIOD_S)
        else:
            backend.set_timings(**asdict(moto_ext.REALISTIC))
            backend.set_settling_health("Yellow")
            backend.set_fault(moto_ext.Fault.DNS_LAG)
            self._report("sandbox: --realistic: launches, updates, swaps and health take AWS's shape of time")
        for fault in self.options.faults:
            backend.set_fault(fault, every_deployment=True)
            self._report(f"sandbox: --fault {fault.value}: forced on every deployment")

    def _windows(self, backend: moto_ext.BeanstalkBackend) -> dict[str, str]:
        """The controller's windows for this run's Beanstalk: DNS_TTL_S is how long the CNAME front's
        resolver keeps a name (dns-lag; 0 without it), plus a second; the drain and the analysis at the
        load balancers' pace; --realistic shrinks the others."""
        controls = backend.controls
        ttl = controls.timings.dns_ttl_s if controls.active(moto_ext.Fault.DNS_LAG) else 0.0
        windows = {"DNS_TTL_S": str(math.ceil(ttl) + 1 if ttl else 0), **SANDBOX_CONTROLLER_EVIDENCE}
        return {**windows, **(REALISTIC_CONTROLLER_WINDOWS if self.options.realistic else {})}

    def lingering_until(self) -> float | None:
        """slow-drain: when the last callers still reaching the environment that lost production's name stop
        (time.monotonic()); None when none linger."""
        until = [end for stale in self.stale if (end := stale.lingering_until()) is not None]
        return max(until) if until else None

    def controller_log(self) -> str:
        return log_tail(self.run_dir / CONTROLLER_LOG, lines=20)

    def _leave_run_directory(self) -> None:
        """Delete the run directory; with keep_logs, all but its logs, and say where they are."""
        logs = [self.run_dir / CONTROLLER_LOG, self.run_dir / INSTANCE_LOGS]
        kept = [path.name for path in logs if path.exists()] if self.options.keep_logs else []
        if not kept:
            shutil.rmtree(self.run_dir, ignore_errors=True)
            return
        for entry in self.run_dir.iterdir():
            if entry in logs:
                continue
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
        self._report(f"sandbox: logs kept in {self.run_dir}: {', '.join(kept)}")

    def _launcher(self) -> Launcher:
        store = self.run_dir / "store.sqlite3"
        logs = self.run_dir / INSTANCE_LOGS
        if self.options.docker:
            from sandbox.live.containers import DockerLauncher

            docker: Launcher = DockerLauncher(store_dir=self.run_dir / "shared-store", log_dir=logs)
            return docker
        return ProcessLauncher(store=store, log_dir=logs)

    def _publish(self, images: list[ImageRef]) -> None:
        """--docker: this checkout's image into the local registry under every tag the run deploys."""
        from sandbox.live.images import publish

        try:
            publish(images, self._report)
        except Exception as error:  # no engine, no registry, a failed build: all end the start here
            raise StackError(f"--docker: cannot publish the images to the local registry: {error}") from error

    def _front(
        self, router: Router, host: str | None = None, observers: list[Observer] | None = None
    ) -> Front:
        front = Front(router, host=host, observers=observers or ())
        self._stops.append((f"front {front.url}", front.stop))
        return front

    def _start_controller(
        self,
        endpoint: str,
        names: Names,
        function_environment: dict[str, str],
        proxy_url: str,
        credentials: dict[str, str],
    ) -> str:
        port = free_port()
        url = f"http://{LOOPBACK}:{port}"
        env = {
            **without_proxies(os.environ),
            **controller_environment(
                endpoint, names, function_environment, proxy_url, self.options.poll_interval_s
            ),
            **credentials,
        }
        log_path = self.run_dir / CONTROLLER_LOG
        self._report(f"sandbox: starting the controller (API + SQS poller) on {url}; its log: {log_path}")
        command = [sys.executable, "-m", "sandbox.hosting.controller_host", "--port", str(port)]
        with shielded():  # recorded for the stop before a signal can interrupt
            process = spawn_logged(command, env, log_path)
            self._stops.append(("controller", lambda: stop_process_group(process)))
        deadline = time.monotonic() + CONTROLLER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                code = process.returncode
                raise StackError(f"the controller exited with code {code}: {log_tail(log_path)}")
            if _answers(f"{url}/health"):
                return url
            time.sleep(0.2)
        limit = CONTROLLER_START_TIMEOUT_S
        raise StackError(f"the controller did not answer {url}/health within {limit:g} s")


# Where people are: the sandbox's own environment names GitHub's API and token and a chat webhook, for the
# controller to tell (`make demo` points them at its inbox, sandbox/network/inbox.py).
PASSED_THROUGH = ("GITHUB_API_URL", "GITHUB_TOKEN", "CHAT_WEBHOOK_URL")


def controller_environment(
    endpoint: str, names: Names, function_environment: dict[str, str], proxy_url: str, poll_interval_s: int
) -> dict[str, str]:
    """The Lambda functions' environment as the controller's stack set it, pointed at the emulation and the
    CNAME front, with the sandbox's shorter timeout and re-check interval, and GITHUB_API_URL, GITHUB_TOKEN
    and CHAT_WEBHOOK_URL from the sandbox's own environment."""
    return {
        **function_environment,
        **{name: os.environ[name] for name in PASSED_THROUGH if os.environ.get(name)},
        **FAKE_CREDENTIALS,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": names.region,
        "AWS_REGION": names.region,
        "HTTP_PROXY": proxy_url,
        "http_proxy": proxy_url,
        "NO_PROXY": f"{LOOPBACK},localhost",
        "no_proxy": f"{LOOPBACK},localhost",
        "DEPLOY_TIMEOUT_S": "120",
        "POLL_INTERVAL_S": str(poll_interval_s),
    }


def _credentials_of(clients: SimpleNamespace, role_arn: str) -> dict[str, str]:
    """The temporary credentials of the reconcile function's role, as Lambda gives them to the function:
    with IAM checks on, what Beanstalk does downstream of its UpdateEnvironment is judged against that
    role (or the environment's operations role). The sandbox's controller process runs both functions;
    only the reconcile function updates environments."""
    assumed = clients.sts.assume_role(RoleArn=role_arn, RoleSessionName="reconcile")["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": assumed["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": assumed["SecretAccessKey"],
        "AWS_SESSION_TOKEN": assumed["SessionToken"],
    }


def _clients(endpoint: str, region: str) -> SimpleNamespace:
    session = boto3.session.Session(
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=region,
    )
    return SimpleNamespace(
        **{
            service: session.client(service, endpoint_url=endpoint)
            for service in (
                "s3",
                "sqs",
                "elasticbeanstalk",
                "cloudformation",
                "secretsmanager",
                "sts",
                "cloudwatch",
            )
        },
        awslambda=session.client("lambda", endpoint_url=endpoint),
    )


def deploy_hook(
    environments: Environments, backend: moto_ext.BeanstalkBackend, realistic: bool, report: Report
) -> moto_ext.DeployHook:
    def hook(request: moto_ext.DeployRequest) -> moto_ext.DeployResult:
        report(f"sandbox: {request.environment_name} is starting version {request.version_label}")
        slow = backend.controls.active(moto_ext.Fault.SLOW_REGISTER)
        register_s = backend.controls.timings.register_s if (slow or realistic) else 0.0
        outcome = environments.deploy(
            request.environment_name,
            request.source_bundle,
            register_s=register_s,
            wait_for_registration=realistic and not slow,
        )
        if outcome.ok:
            report(f"sandbox: {request.environment_name} now serves {request.version_label}")
            return moto_ext.DeployResult(moto_ext.Outcome.GREEN)
        report(f"sandbox: {request.environment_name} cannot run {request.version_label}: {outcome.message}")
        return moto_ext.DeployResult(moto_ext.Outcome.RED, outcome.message)

    return hook


def _dns_ttl(backend: moto_ext.BeanstalkBackend) -> Callable[[], float]:
    """dns-lag: a resolver keeps each answer for the (compressed) TTL; otherwise it never caches."""

    def ttl_s() -> float:
        if backend.controls.active(moto_ext.Fault.DNS_LAG):
            return backend.controls.timings.dns_ttl_s
        return 0.0

    return ttl_s


def failing_of(backend: moto_ext.BeanstalkBackend) -> Callable[[str], bool]:
    """fails-after-swap: whether the version `env_name` runs fails its health check now."""

    def failing(env_name: str) -> bool:
        return env_name in backend.failing_environments()

    return failing


def _erroring(backend: moto_ext.BeanstalkBackend) -> Callable[[str], bool]:
    """errors-after-swap: whether the version `env_name` runs answers some of its users 500 now."""

    def erroring(env_name: str) -> bool:
        return env_name in backend.erroring_environments()

    return erroring


def _slow_drain(
    resolve: Callable[[str], str | None], names: frozenset[str], backend: moto_ext.BeanstalkBackend
) -> StaleResolvers:
    """slow-drain: some of production's callers keep the old environment `slow_drain_s` after a swap."""
    controls = backend.controls
    return StaleResolvers(
        resolve,
        names,
        lambda: controls.active(moto_ext.Fault.SLOW_DRAIN),
        lambda: controls.timings.slow_drain_s,
    )


def load_balancers_metrics(
    backend: moto_ext.BeanstalkBackend, cloudwatch: Any, application: str | None = None
) -> LoadBalancerMetrics:
    """The environments' load balancers (of `application`, or all) publishing what they served into the
    emulated CloudWatch (PutMetricData, as ELB does) at the emulation's pace; started by the caller."""

    def put(data: list[dict[str, Any]]) -> None:
        cloudwatch.put_metric_data(Namespace="AWS/ApplicationELB", MetricData=data)

    def dimension(env_name: str) -> str | None:
        """Its CloudWatch LoadBalancer dimension, the last part of its ALB's ARN (None: none)."""
        for env in backend.describe_environments(application_name=application, include_deleted=False):
            if env.environment_name == env_name and env.load_balancer_arn:
                return str(env.load_balancer_arn).split(":loadbalancer/", 1)[1]
        return None

    return LoadBalancerMetrics(put, dimension, lambda: backend.controls.timings.metrics_period_s)


def _cname_owner(backend: moto_ext.BeanstalkBackend, application: str) -> Callable[[str], str | None]:
    """CNAME (or an environment's own EndpointURL, its load balancer's name) -> the live environment of
    `application` owning it now. Read from the emulation's state, as DNS and the load balancers know it: not
    through the Beanstalk API, whose throttling (the `throttle` fault) never stands between users and
    production."""

    def owner_of(host: str) -> str | None:
        for env in backend.describe_environments(application_name=application, include_deleted=False):
            names = (env.cname.lower(), env.endpoint_url.lower())
            if host and host in names and env.status != "Terminated":
                return env.environment_name
        return None

    return owner_of


def _fixed_environment(
    env_name: str, environments: Environments, failing: Callable[[str], bool], erroring: Callable[[str], bool]
) -> Router:
    """The environment's own load balancer (its EndpointURL): always `env_name`, whatever the host."""

    def route(host: str) -> Route:
        return environment_route(
            env_name, environments.port_of, environments.registering, failing, erroring=erroring
        )

    return route


def _answers(url: str) -> bool:
    try:
        with _DIRECT.open(url, timeout=2) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def _described(cname: str, url: str, version: str) -> dict[str, str]:
    return {"cname": cname, "url": url, "version": version}
