"""An empty emulated account that runs what is deployed into it, as AWS runs it:

    python -m sandbox host      # prints {"aws_endpoint", "region", "front"}; runs until SIGINT/SIGTERM

Nothing is provisioned up front. Whatever a user deploys into `aws_endpoint` with the commands they run on
AWS (`make provision`, `make deploy-controller`, the AWS CLI) comes alive:
- every Beanstalk environment that appears gets a running instance of the web app (its version's image,
  or Beanstalk's sample application before it has one) and the emulation's deploy hook, so updates run
  the new image, and a tag ending in `-broken` fails to start, as in `sandbox up`;
- every controller stack (a stack answering `EndpointURL` and `APIHandlerName`) gets the controller hosted
  as Lambda hosts it (`sandbox.hosting.controller_host`, its functions' environment, its queue polled), its
  log lines going to CloudWatch Logs as Lambda's do (`/aws/lambda/<APIHandlerName>`).

`front` is an HTTP proxy standing in for DNS, load balancers and API Gateway: a request for an environment's
CNAME reaches its instance; a request for a hosted controller's API host (`<api>.execute-api.<region>.
amazonaws.com`, over plain HTTP) reaches that controller with API Gateway's stage prefix taken off. Each
environment's load balancer publishes what the front served into CloudWatch (AWS/ApplicationELB, as ELB
does) once a second, a compressed minute, and the hosted controllers' drain and analysis read at that pace.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3

import moto_ext
from sandbox import interruptions
from sandbox.beanstalk_clock import BeanstalkClock
from sandbox.live.dockerrun import BundleError, ImageRef, read_image
from sandbox.live.environments import Environments, EnvironmentStartError
from sandbox.live.instances import ProcessLauncher, spawn_logged, stop_process_group, without_proxies
from sandbox.network.front import Front, Route, environment_route
from sandbox.network.ports import LOOPBACK, free_port
from sandbox.provision import leave_the_queue_to_the_poller
from sandbox.stack import (
    FAKE_CREDENTIALS,
    PROCESS_IMAGE,
    SANDBOX_CONTROLLER_EVIDENCE,
    SANDBOX_METRICS_PERIOD_S,
    deploy_hook,
    failing_of,
    load_balancers_metrics,
)

ACCOUNT_ID = moto_ext.DEFAULT_ACCOUNT_ID
REGION = "us-east-1"
SAMPLE = ImageRef(PROCESS_IMAGE, "sample-application")  # an environment created without a version
WATCH_EVERY_S = 0.5
CONTROLLER_START_TIMEOUT_S = 60.0

Report = Callable[[str], None]


def to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class HostInfo:
    aws_endpoint: str
    region: str
    front: str

    def as_json(self) -> dict[str, str]:
        return {"aws_endpoint": self.aws_endpoint, "region": self.region, "front": self.front}


@dataclass
class _Controller:
    stack: str
    api_host: str  # <api>.execute-api.<region>.amazonaws.com
    stage_path: str  # "/api": API Gateway's stage prefix
    port: int
    process: Any
    log: Path
    log_group: str
    forwarded: int = 0  # bytes of its log already sent to CloudWatch Logs


class HostedAccount:
    def __init__(self, report: Report = to_stderr) -> None:
        self._report = report
        self._stops: list[tuple[str, Callable[[], None]]] = []
        self.run_dir = Path(tempfile.mkdtemp(prefix="deliverypipeline-host-"))
        self._stops.append(("run directory", lambda: shutil.rmtree(self.run_dir, ignore_errors=True)))
        self._adopted: set[str] = set()
        self._controllers: dict[str, _Controller] = {}  # by stack name
        self._lock = threading.Lock()
        self._watching = threading.Event()  # set: stop watching (the host is stopping)
        self._watcher: threading.Thread | None = None
        self.info: HostInfo | None = None

    def start(self) -> HostInfo:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        endpoint, stop_aws = moto_ext.start_server(port=0)
        self._stops.append(("AWS emulation", stop_aws))
        self._endpoint = endpoint
        self._backend = moto_ext.backend(account_id=ACCOUNT_ID, region=REGION)
        # As `sandbox up`: environments launch at once; load balancers publish their metrics every second
        self._backend.set_timings(launch_s=0, metrics_period_s=SANDBOX_METRICS_PERIOD_S)
        self._backend.settle_after_s = 1.0
        self._environments = Environments(
            ProcessLauncher(store=self.run_dir / "store.sqlite3", log_dir=self.run_dir / "logs")
        )
        self._stops.append(("environments", self._environments.stop_all))
        self._hook = deploy_hook(self._environments, self._backend, False, self._report)
        self._failing = failing_of(self._backend)
        clock = BeanstalkClock(self._backend, self._report)
        clock.start()
        self._stops.append(("Beanstalk's clock", clock.stop))
        metrics = load_balancers_metrics(self._backend, _clients(endpoint).cloudwatch)
        metrics.start()
        self._stops.append(("load balancers' metrics", metrics.stop))
        self._front = Front(self._route, observers=[metrics])
        self._stops.append(("front", self._front.stop))
        self._watcher = threading.Thread(target=self._watch, name="host-watcher", daemon=True)
        self._watcher.start()
        self.info = HostInfo(endpoint, REGION, self._front.url)
        self._report(
            f"sandbox host: an empty account at {endpoint}; front {self._front.url}; files in {self.run_dir}"
        )
        return self.info

    def stop(self) -> None:
        """Stop everything, newest first (idempotent): the watcher first, so that nothing new starts."""
        self._watching.set()
        if self._watcher is not None and self._watcher is not threading.current_thread():
            self._watcher.join(timeout=CONTROLLER_START_TIMEOUT_S + 5)
        with self._lock:
            controllers = list(self._controllers.values())
            self._controllers.clear()
        for controller in controllers:
            stop_process_group(controller.process)
        while self._stops:
            what, stop = self._stops.pop()
            try:
                stop()
            except Exception as error:  # keep stopping the rest; say what could not be stopped
                self._report(f"sandbox host: stopping the {what} failed: {error!r}")

    # ----- the front ---------------------------------------------------------------------------------

    def _route(self, host: str) -> Route:
        with self._lock:
            controller = next((c for c in self._controllers.values() if c.api_host == host), None)
        if controller is not None:
            return Route(controller.port, strip_prefix=controller.stage_path)
        for env in self._backend.describe_environments(include_deleted=False):
            if host and host in (env.cname.lower(), env.endpoint_url.lower()):
                return environment_route(
                    env.environment_name,
                    self._environments.port_of,
                    self._environments.registering,
                    self._failing,
                    shown=f"{env.environment_name} ({host})",
                )
        return Route(None, f"nothing deployed here answers for {host}")

    # ----- adopting what gets deployed -------------------------------------------------------------------

    def _watch(self) -> None:
        clients = _clients(self._endpoint)
        while not self._watching.wait(WATCH_EVERY_S):
            try:
                self._adopt_environments()
                self._retire_environments()
                self._host_controllers(clients)
                self._forward_logs(clients)
            except Exception as error:  # keep watching; say what went wrong
                self._report(f"sandbox host: {error!r}")

    def _adopt_environments(self) -> None:
        for env in self._backend.describe_environments(include_deleted=False):
            name = env.environment_name
            if name in self._adopted or env.status == "Terminating":
                continue
            self._adopted.add(name)
            image = self._image_of(env)
            self._report(f"sandbox host: {name} appeared; starting {image}")
            try:
                self._environments.launch(name, image)
            except EnvironmentStartError as error:
                self._report(f"sandbox host: {name} cannot start: {error}")
            self._backend.set_deploy_hook(name, self._hook)

    def _retire_environments(self) -> None:
        """Stop the instances of environments that were terminated (a deleted stack's)."""
        live = {
            env.environment_name
            for env in self._backend.describe_environments(include_deleted=False)
            if env.status not in ("Terminating", "Terminated")
        }
        for name in sorted(self._adopted - live):
            self._adopted.discard(name)
            self._environments.stop(name)
            self._report(f"sandbox host: {name} was terminated; its instance stopped")

    def _image_of(self, env: Any) -> ImageRef:
        version = self._backend.versions.get((env.application_name, env.version_label or ""))
        if version is None or version.source_bundle is None:
            return SAMPLE
        try:
            return read_image(self._backend.read_bundle(*version.source_bundle))
        except BundleError:  # not a Dockerrun bundle (Beanstalk's sample, another platform)
            return SAMPLE

    def _host_controllers(self, clients: Any) -> None:
        stacks = clients.cloudformation.describe_stacks()["Stacks"]
        standing = {s["StackName"] for s in stacks if not s["StackStatus"].startswith("DELETE_")}
        with self._lock:
            gone = [c for name, c in self._controllers.items() if name not in standing]
            for controller in gone:
                del self._controllers[controller.stack]
        for controller in gone:
            _forward_new_lines(clients.logs, controller)
            stop_process_group(controller.process)
            self._report(f"sandbox host: the stack {controller.stack} was deleted; its controller stopped")
        for stack in stacks:
            name = stack["StackName"]
            outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}
            if name in self._controllers or "EndpointURL" not in outputs or "APIHandlerName" not in outputs:
                continue
            if stack["StackStatus"] not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
                continue
            self._host(name, outputs, clients)

    def _host(self, stack: str, outputs: dict[str, str], clients: Any) -> None:
        function = outputs["APIHandlerName"]
        environment = clients.awslambda.get_function_configuration(FunctionName=function)["Environment"][
            "Variables"
        ]
        leave_the_queue_to_the_poller(clients.sqs, environment["RECONCILE_QUEUE"], REGION)
        url = urlsplit(outputs["EndpointURL"])
        port = free_port()
        log = self.run_dir / f"{stack}.log"
        env = {
            **without_proxies(os.environ),
            **environment,
            **FAKE_CREDENTIALS,
            "AWS_ENDPOINT_URL": self._endpoint,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "HTTP_PROXY": self._front.url,
            "http_proxy": self._front.url,
            "NO_PROXY": f"{LOOPBACK},localhost",
            "no_proxy": f"{LOOPBACK},localhost",
            "POLL_INTERVAL_S": "1",
            "DNS_TTL_S": "0",  # the front resolves at once (no dns-lag here)
            **SANDBOX_CONTROLLER_EVIDENCE,  # the drain and the analysis at the load balancers' pace
        }
        command = [sys.executable, "-m", "sandbox.hosting.controller_host", "--port", str(port)]
        process = spawn_logged(command, env, log)
        self._report(f"sandbox host: hosting the controller of {stack} for {url.hostname} (its log: {log})")
        deadline = time.monotonic() + CONTROLLER_START_TIMEOUT_S
        while "ready" not in log.read_text(errors="replace") and time.monotonic() < deadline:
            if self._watching.is_set():  # the host is stopping: so does this controller
                stop_process_group(process)
                return
            if process.poll() is not None:
                raise RuntimeError(
                    f"the controller of {stack} exited: {log.read_text(errors='replace')[-500:]}"
                )
            time.sleep(0.2)
        group = f"/aws/lambda/{function}"
        _ensure_log_group(clients.logs, group)
        with self._lock:
            self._controllers[stack] = _Controller(
                stack,
                (url.hostname or "").lower(),
                "/" + url.path.strip("/").split("/")[0],
                port,
                process,
                log,
                group,
            )

    def _forward_logs(self, clients: Any) -> None:
        """The hosted controllers' JSON log lines into CloudWatch Logs, as Lambda sends a function's
        output."""
        with self._lock:
            controllers = list(self._controllers.values())
        for controller in controllers:
            _forward_new_lines(clients.logs, controller)


def _forward_new_lines(logs: Any, controller: _Controller) -> None:
    fresh = controller.log.read_bytes()[controller.forwarded :]
    complete = fresh[: fresh.rfind(b"\n") + 1]
    if not complete:
        return
    controller.forwarded += len(complete)
    now = int(time.time() * 1000)
    events = [
        {"timestamp": now, "message": line}
        for line in complete.decode(errors="replace").splitlines()
        if line.startswith("{")
    ]
    if events:
        # as Lambda: a function's log group outlives its stack, but a deleted group stays deleted
        with contextlib.suppress(logs.exceptions.ResourceNotFoundException):
            logs.put_log_events(
                logGroupName=controller.log_group, logStreamName="controller", logEvents=events
            )


def _ensure_log_group(logs: Any, group: str) -> None:
    for call in (
        lambda: logs.create_log_group(logGroupName=group),
        lambda: logs.create_log_stream(logGroupName=group, logStreamName="controller"),
    ):
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            call()


def _clients(endpoint: str) -> Any:
    session = boto3.session.Session(
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )

    class Clients:
        cloudformation = session.client("cloudformation", endpoint_url=endpoint)
        awslambda = session.client("lambda", endpoint_url=endpoint)
        sqs = session.client("sqs", endpoint_url=endpoint)
        logs = session.client("logs", endpoint_url=endpoint)
        cloudwatch = session.client("cloudwatch", endpoint_url=endpoint)

    return Clients


def print_info(host: HostedAccount) -> int:
    info = host.info
    assert info is not None
    interruptions.announce_wait(lambda: print(json.dumps(info.as_json()), flush=True))
    return 0
