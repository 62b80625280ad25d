"""Every handler ends within its function's timeout, however slowly AWS answers, or if it never does, with
room left to record what happened (issue 18, item 9).

- The arithmetic, from the clients as the runtime builds them and the packaged template's timeouts: each
  attempt is bounded, the number of attempts too, the budgets sit below the timeouts (API Gateway's 29 s
  for the API), and the reserve holds the calls that record an outcome.
- The mechanism, against a Beanstalk that never answers (a socket that accepts and stays silent) and one
  that answers every call just before the read timeout, with every number scaled down so the test takes
  seconds: each invocation ends within its budget, and the outcome is recorded.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.retries.standard import ExponentialBackoff
from controller_builders import queued
from controller_harness import GREEN, ROOT, World, shared_session
from moto import mock_aws

from controller.core.model import Status
from controller.core.steps.checks import SMOKE_PASSES
from controller.shell import budgets, clients, http_check, runtime
from controller.shell.deadline import Budget
from controller.shell.tick import MAX_TRANSIENT_RETRIES

TAG = "1.0.42-3f2a1bc"
SERVICES = ("dynamodb", "elasticbeanstalk", "s3", "sqs", "ssm")
# What runs between the deadline's checks (Python, logging) in these tests, on a shared, noisy machine.
SLACK_S = 0.5


# --- the arithmetic ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("package") / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    chalice = str(Path(sys.executable).parent / "chalice")
    subprocess.run(
        [chalice, "package", "--stage", "dev", "--merge-template", ".chalice/resources.json", str(out)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=240,
    )
    return dict(json.loads((out / "sam.json").read_text()))


@pytest.mark.slow
def test_each_functions_budget_fits_its_packaged_timeout_with_room_to_record(
    template: dict[str, Any],
) -> None:
    functions = template["Resources"]
    api_timeout = min(functions["APIHandler"]["Properties"]["Timeout"], budgets.API_GATEWAY_LIMIT_S)
    tick_timeout = functions["ReconcileTick"]["Properties"]["Timeout"]
    assert tick_timeout == budgets.TICK_FUNCTION_TIMEOUT_S
    for budget, timeout, record_calls in ((budgets.API, api_timeout, 1), (budgets.TICK, tick_timeout, 2)):
        assert budget.seconds + budgets.MARGIN_S <= timeout, budget
        # the calls that record the outcome (the tick's save and requeue) can each make an attempt
        assert budget.reserve_s >= record_calls * clients.ATTEMPT_S, budget
        # a fresh invocation can always make an attempt and a retry, and a whole smoke round of checks:
        # no tick is ever out of time before it could do anything
        working = budget.seconds - budget.reserve_s
        assert (
            working
            >= clients.ATTEMPT_S + clients.max_retry_sleep_s(clients.READ_ATTEMPTS) + clients.ATTEMPT_S
        )
    assert budgets.TICK.seconds - budgets.TICK.reserve_s >= SMOKE_PASSES * http_check.TIMEOUT_S


def test_every_client_is_bounded_as_the_budgets_assume() -> None:
    """Each attempt ends within ATTEMPT_S, reads make READ_ATTEMPTS attempts in botocore's standard mode (no
    client-side rate limiter that sleeps unbounded), mutating calls one; the backoff bounds are botocore's."""
    session = shared_session()
    for service in SERVICES:
        for client, attempts in (
            (clients.for_reads(session, service), clients.READ_ATTEMPTS),
            (clients.single_attempt(session, service), 1),
        ):
            config = client.meta.config
            assert config.connect_timeout + config.read_timeout == clients.ATTEMPT_S
            assert config.retries == {"mode": "standard", "total_max_attempts": attempts}
    assert clients.BACKOFF_CAP_S == ExponentialBackoff._MAX_BACKOFF
    assert clients.RETRY_AFTER_EXTRA_S == ExponentialBackoff._RETRY_AFTER_MAX_ADDITIONAL
    # Without the deadline, one read alone could outlast API Gateway: the deadline is what bounds a request.
    assert clients.worst_call_s(clients.READ_ATTEMPTS) > budgets.API_GATEWAY_LIMIT_S


# --- the mechanism, scaled down ---------------------------------------------------------------------

SCALED_ATTEMPT_S = 0.5
TICK_BUDGET = Budget("reconcile_tick", seconds=3.0, reserve_s=2 * SCALED_ATTEMPT_S)
API_BUDGET = Budget("api_handler", seconds=2.0, reserve_s=SCALED_ATTEMPT_S)


@pytest.fixture
def scaled(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setattr(clients, "CONNECT_TIMEOUT_S", 0.2)
    monkeypatch.setattr(clients, "READ_TIMEOUT_S", SCALED_ATTEMPT_S - 0.2)
    monkeypatch.setattr(clients, "ATTEMPT_S", SCALED_ATTEMPT_S)
    monkeypatch.setattr(http_check, "TIMEOUT_S", 0.1)
    monkeypatch.setattr(budgets, "TICK", TICK_BUDGET)
    monkeypatch.setattr(budgets, "API", API_BUDGET)
    with mock_aws():
        yield World()


class BlackHole:
    """A TCP server that accepts every connection and never answers."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.connections: list[socket.socket] = []
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            self.connections.append(connection)

    def close(self) -> None:
        self._server.close()
        for connection in self.connections:
            connection.close()


@pytest.fixture
def silent_beanstalk(scaled: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[World, BlackHole]]:
    """The controller's Beanstalk clients reach the black hole (moto still answers every other service)."""
    hole = BlackHole()
    monkeypatch.setenv("AWS_ENDPOINT_URL_ELASTIC_BEANSTALK", hole.url)
    old = scaled.rt
    runtime.install(
        runtime.Runtime(
            old.config, session=shared_session(), clock=old.clock, http_get=old.http_get, queue=old.queue
        )
    )
    scaled.rt = runtime.current()
    try:
        yield scaled, hole
    finally:
        hole.close()


def _deliver_timed(world: World) -> list[float]:
    """Deliver every message in due order; the wall seconds of each delivery."""
    seconds = []
    while (message := world.next_message()) is not None:
        started = time.monotonic()
        world.deliver(message)
        seconds.append(time.monotonic() - started)
        assert len(seconds) < 200, "the deployment never ended"
    return seconds


def test_a_beanstalk_that_never_answers_ends_every_tick_in_time_and_the_deployment_fails_recorded(
    silent_beanstalk: tuple[World, BlackHole],
) -> None:
    world, hole = silent_beanstalk
    response = world.post_deployment(TAG)
    assert response.status_code == 202, response.body
    deployment_id = json.loads(response.body)["id"]

    seconds = _deliver_timed(world)

    assert hole.connections, "Beanstalk was never called"
    assert max(seconds) <= TICK_BUDGET.seconds + SLACK_S, seconds
    failed = world.record(deployment_id)
    assert failed.status is Status.FAILED, failed
    assert "ReadTimeout" in (failed.error or "") and f"after {MAX_TRANSIENT_RETRIES} tries" in (
        failed.error or ""
    )
    assert world.rt.store.lease(failed.application).holder is None


def test_a_request_whose_beanstalk_never_answers_gets_503_within_the_api_budget(
    silent_beanstalk: tuple[World, BlackHole],
) -> None:
    """A rollback looks at the environments first: Beanstalk's silence is a 503 within the budget."""
    world, hole = silent_beanstalk
    deployment = world.rt.store.create(
        dataclasses.replace(queued(), application=world.rt.config.eb_application)
    )
    assert deployment is not None

    started = time.monotonic()
    response = world.request("POST", f"/deployments/{deployment.id}/rollback", b"{}")

    assert time.monotonic() - started <= API_BUDGET.seconds + SLACK_S
    assert hole.connections, "Beanstalk was never called"
    assert response.status_code == 503, response.body
    assert "try again" in json.loads(response.body)["error"]


def test_a_beanstalk_answering_just_before_the_read_timeout_cuts_ticks_short_and_still_deploys(
    scaled: World,
) -> None:
    """Each Beanstalk call takes most of an attempt: a tick can only make a few, then records what it
    decided and hands over to the next tick at once. Each ends within its budget; the deployment succeeds
    with one update and one swap that took effect."""
    world = scaled

    def slow(**_: Any) -> None:
        time.sleep(SCALED_ATTEMPT_S - 0.15)  # after the deadline let the attempt start, before moto answers

    for client in (world.rt.eb, world.rt.eb_once):
        client.meta.events.register_last("before-send.elastic-beanstalk", slow)
    deployment_id = json.loads(world.post_deployment(TAG).body)["id"]

    seconds = _deliver_timed(world)

    assert max(seconds) <= TICK_BUDGET.seconds + SLACK_S, seconds
    done = world.record(deployment_id)
    assert done.status is Status.SUCCEEDED, done
    assert world.prod_owner() == GREEN
    started = [
        e for e in world.be.events if e.environment_name == GREEN and "update is starting" in e.message
    ]
    swapped = [
        e
        for e in world.be.events
        if e.environment_name == GREEN and e.message.startswith("Completed swapping")
    ]
    assert (len(started), len(swapped)) == (1, 1)


def test_notifications_get_what_the_deadline_leaves_after_the_save_and_the_requeue() -> None:
    """announce.py's deliveries (GitHub, chat) have NOTIFY_BUDGET_S, less when the tick's deadline leaves
    less once the announcement's save and the next tick's queueing have their attempt each."""
    from controller.shell import deadline
    from controller.shell.people import announce

    assert announce.notify_budget_s() == announce.NOTIFY_BUDGET_S  # outside a handler: no deadline
    now = [0.0]
    with deadline.within(Budget("reconcile_tick", 56.0, 2 * clients.ATTEMPT_S), clock=lambda: now[0]):
        assert announce.notify_budget_s() == announce.NOTIFY_BUDGET_S
        now[0] = 56.0 - 2 * clients.ATTEMPT_S - 5.0
        assert announce.notify_budget_s() == pytest.approx(5.0)
        now[0] = 55.0
        assert announce.notify_budget_s() == 0.0
