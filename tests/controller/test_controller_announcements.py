"""Where people are: GitHub deployments and chat messages, sent by the tick after it saved a state change,
at most once per change, and never changing a deployment's outcome (a dead receiver is a warning)."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from typing import Any

import pytest
from controller_harness import BLUE, GREEN, OLD_LABEL, SECRET, World, aws_client, shared_session
from moto import mock_aws
from moto.core.botocore_stubber import BotocoreStubber
from receiver import GITHUB_TOKEN, Receiver

from controller.client import capability
from controller.core.actions import CreateVersion
from controller.core.model import Status
from controller.shell import beanstalk_events, perform, runtime, tick, tick_queue
from controller.shell.people import announce, webhook

TAG = "1.0.42-3f2a1bc"
COMMIT = "3f2a1bc0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6"
REPOSITORY = "acme/deliverypipeline"
BUILD = "https://app.circleci.com/pipelines/github/acme/deliverypipeline/42"


def _post(world: World, tag: str = TAG, **extra: Any) -> str:
    response = world.post_deployment(tag, commit=COMMIT, build_url=BUILD, repository=REPOSITORY, **extra)
    assert response.status_code == 202, response.body
    return str(json.loads(response.body)["id"])


def _held(world: World) -> str:
    deployment_id = _post(world, promotion="manual")
    for _ in world.run():
        if world.record(deployment_id).status is Status.AWAITING_PROMOTION:
            break
    return deployment_id


def _statuses(receiver: Receiver) -> list[tuple[str, str]]:
    """(environment of the GitHub deployment, state) of each status posted, in order."""
    environments = {}
    made = iter(range(1001, 2000))
    found = []
    for r in receiver.github():
        if r.path.endswith("/deployments"):
            environments[next(made)] = r.body["environment"]
        else:
            number = int(r.path.split("/")[-2])
            found.append((environments[number], r.body["state"]))
    return found


def test_a_held_then_promoted_deployment_is_followed_on_github_and_in_chat(
    told_world: World, receiver: Receiver
) -> None:
    deployment_id = _held(told_world)

    created = receiver.github()[0]
    assert created.path == f"/repos/{REPOSITORY}/deployments"
    assert created.body["ref"] == COMMIT and created.body["environment"] == "production"
    assert created.body["auto_merge"] is False and created.body["required_contexts"] == []
    assert TAG in created.body["description"]
    assert created.headers["authorization"] == f"Bearer {GITHUB_TOKEN}"
    assert created.headers["accept"] == "application/vnd.github+json"
    assert created.headers["x-github-api-version"] == "2022-11-28"
    assert _statuses(receiver) == [
        ("production", "in_progress"),  # started
        ("production", "in_progress"),  # awaiting promotion
        ("staging", "success"),  # pre-production, for people to look at
    ]
    staging = [r for r in receiver.github() if r.body.get("environment_url")][-1]
    assert staging.body["environment_url"] == f"http://{told_world.record(deployment_id).preprod_cname}/"
    held = receiver.chat()[-1]
    assert "awaits promotion" in held["text"]
    actions = [e for b in held["blocks"] if b["type"] == "actions" for e in b["elements"]]
    buttons = {e["text"]["text"]: e["url"] for e in actions}
    assert set(buttons) == {"Promote", "Abort", "Dashboard"}
    facts = " ".join(f["text"] for b in held["blocks"] for f in b.get("fields", []))
    for shown in (TAG, COMMIT[:12], BUILD, "promote (running)", OLD_LABEL, BLUE, GREEN):
        assert shown in facts

    assert told_world.request("POST", f"/deployments/{deployment_id}/promote", b"{}").status_code == 202
    told_world.drain()

    assert told_world.record(deployment_id).status is Status.SUCCEEDED
    assert _statuses(receiver)[-1] == ("production", "success")
    success = receiver.github()[-1].body
    assert success["environment_url"] == f"http://{told_world.rt.config.prod_cname}/"
    assert "/dashboard?token=" in success["log_url"] and success["log_url"].endswith(f"#{deployment_id}")
    texts = [m["text"] for m in receiver.chat()]
    assert [t.split(":")[0] for t in texts] == [
        f"Deploying {TAG}",
        f"{TAG} awaits promotion",
        f"{TAG} is in production",
    ]
    done = receiver.chat()[-1]
    buttons = {e["text"]["text"] for b in done["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert buttons == {"Roll back", "Dashboard"}
    assert told_world.record(deployment_id).announced == ("started", "awaiting_promotion", "succeeded")
    assert told_world.record(deployment_id).warnings == ()


def test_a_tick_another_tick_overtakes_still_tells_what_it_had_claimed(
    told_world: World, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tick claims `started` in the save that takes the lease; another tick (its twin) then saves the
    deployment first, so this tick's next save is stale and it stops. The twin loaded the record with
    `started` announced: only this tick can tell it, and it does before it stops."""
    deployment_id = _post(told_world)
    act = perform.perform

    def overtaken(action: Any, d: Any, rt: runtime.Runtime) -> Any:
        if isinstance(action, CreateVersion):  # the twin's save lands while this tick acts
            overtaking = told_world.rt.store.get(d.id)
            assert overtaking is not None
            rt.store.save(overtaking, rt.clock())
        return act(action, d, rt)

    monkeypatch.setattr(perform, "perform", overtaken)
    message = told_world.next_message()
    assert message is not None
    parsed = tick_queue.parse(message.body())
    assert parsed is not None

    tick.run(parsed, told_world.rt)

    assert told_world.record(deployment_id).announced == ("started",)
    assert [m["text"].split(":")[0] for m in receiver.chat()] == [f"Deploying {TAG}"]


def test_every_message_is_delivered_once_when_every_tick_runs_twice(
    told_world: World, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two Lambdas, one message: each queued message is handed to two invocations at once (the handler's
    tick itself: chalice's test client patches the process environment and cannot run twice at once).
    Each AWS request is atomic, as on AWS (moto's in-process backends are not, across threads): the ticks
    interleave between requests, never inside one."""
    atomic = threading.Lock()
    answer = BotocoreStubber.__call__

    def one_at_a_time(self: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
        with atomic:
            return answer(self, event_name, request, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", one_at_a_time)
    deployment_id = _post(told_world)
    while (message := told_world.next_message()) is not None:
        parsed = tick_queue.parse(message.body())
        if parsed is None:  # one of Beanstalk's events: it wakes the deployment
            news = beanstalk_events.parse(message.body())
            assert news is not None
            twins = [threading.Thread(target=tick.wake, args=(news, told_world.rt)) for _ in range(2)]
        else:
            twins = [threading.Thread(target=tick.run, args=(parsed, told_world.rt)) for _ in range(2)]
        for twin in twins:
            twin.start()
        for twin in twins:
            twin.join()

    assert told_world.record(deployment_id).status is Status.SUCCEEDED
    told = [m["text"].split(":")[0] for m in receiver.chat()]
    assert told == [f"Deploying {TAG}", f"{TAG} is in production"]
    assert _statuses(receiver) == [("production", "in_progress"), ("production", "success")]
    assert len([r for r in receiver.github() if r.path.endswith("/deployments")]) == 1


def test_a_tick_that_loses_the_claim_sends_nothing(told_world: World, receiver: Receiver) -> None:
    deployment_id = _post(told_world)
    told_world.deliver(told_world.next_message())  # type: ignore[arg-type]
    claimed = told_world.record(deployment_id)
    assert claimed.announced == ("started",)
    sent = len(receiver.requests)
    # a tick that loaded the record before the claim, and would claim the same announcement
    rewound = dataclasses.replace(claimed, announced=(), record_version=claimed.record_version - 1)

    assert announce.run(rewound, told_world.rt) == rewound
    assert len(receiver.requests) == sent


def test_a_receiver_answering_500_is_a_warning_and_the_deployment_still_succeeds(
    told_world: World, receiver: Receiver
) -> None:
    receiver.fail_next(receiver.chat_url.removeprefix(receiver.url), 500, times=100)
    receiver.fail_next("/repos/", 502, times=100)
    deployment_id = _post(told_world)
    told_world.drain()

    d = told_world.record(deployment_id)
    assert d.status is Status.SUCCEEDED
    chat_tries = [r for r in receiver.requests if r.path == receiver.chat_url.removeprefix(receiver.url)]
    assert len(chat_tries) == 2 * webhook.ATTEMPTS  # started and succeeded, each tried ATTEMPTS times
    assert any(w.startswith("started: chat webhook: HTTP 500") for w in d.warnings), d.warnings
    assert any(w.startswith("succeeded: GitHub production deployment") for w in d.warnings), d.warnings
    assert receiver.chat_url not in " ".join(d.warnings)  # the webhook URL is a credential
    view = told_world.get_deployment(deployment_id)
    assert view["status"] == "succeeded" and view["warnings"] == list(d.warnings)


def test_a_429_is_retried_after_the_time_retry_after_names(told_world: World, receiver: Receiver) -> None:
    receiver.fail_next(receiver.chat_url.removeprefix(receiver.url), 429, times=1, Retry_After="1")
    deployment_id = _post(told_world)
    told_world.deliver(told_world.next_message())  # type: ignore[arg-type]

    chat = [r for r in receiver.requests if r.path == receiver.chat_url.removeprefix(receiver.url)]
    assert len(chat) == 2
    assert chat[1].at - chat[0].at >= 0.95
    assert told_world.record(deployment_id).warnings == ()
    assert "Deploying" in chat[1].body["text"]


def test_a_receiver_that_never_answers_times_out_within_the_budget(
    told_world: World, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhook, "ATTEMPT_TIMEOUT_S", 0.3)
    receiver.delay_next(receiver.chat_url.removeprefix(receiver.url), 2.0, times=webhook.ATTEMPTS)
    deployment_id = _post(told_world)
    told_world.deliver(told_world.next_message())  # type: ignore[arg-type]

    d = told_world.record(deployment_id)
    assert d.status is Status.RUNNING
    assert any("chat webhook: no answer" in w and "timed out" in w for w in d.warnings), d.warnings
    told_world.drain()
    assert told_world.record(deployment_id).status is Status.SUCCEEDED


def test_a_retry_that_would_pass_the_budget_is_not_made(receiver: Receiver) -> None:
    receiver.fail_next("/hook", 429, times=1, Retry_After="30")
    sent = webhook.post_json(receiver.url + "/hook", {"text": "x"}, {}, webhook.Budget(5.0))

    assert not sent.delivered and sent.attempts == 1
    assert "would pass the tick's budget" in (sent.problem or "")


def test_a_failed_deployment_tells_why_everywhere(told_world: World, receiver: Receiver) -> None:
    told_world.broken_health[GREEN] = told_world.http_get("http://x/")  # pre-production unreachable
    deployment_id = _post(told_world, tag="1.0.43-badbeef")
    told_world.drain()

    d = told_world.record(deployment_id)
    assert d.status is Status.FAILED and d.digest is not None
    assert d.digest.startswith("1.0.43-badbeef failed at smoke_test: smoke test failed")
    assert told_world.get_deployment(deployment_id)["digest"] == d.digest
    failure = receiver.github()[-1].body
    assert failure["state"] == "failure" and failure["description"].startswith("1.0.43-badbeef failed at")
    assert len(failure["description"]) <= 140
    last = receiver.chat()[-1]
    assert d.digest in json.dumps(last["blocks"])


def test_a_rollback_by_request_is_announced_by_a_tick(told_world: World, receiver: Receiver) -> None:
    deployment_id = _post(told_world)
    told_world.drain()
    told_world.clock.advance(120)

    assert told_world.request("POST", f"/deployments/{deployment_id}/rollback", b"{}").status_code == 202
    told_world.drain()

    assert _statuses(receiver)[-1] == ("production", "error")
    assert receiver.chat()[-1]["text"].startswith(f"{TAG} was rolled back")
    assert told_world.record(deployment_id).digest.startswith(f"{TAG} was rolled back")  # type: ignore[union-attr]


def test_without_repository_and_commit_no_github_deployment_is_made(
    told_world: World, receiver: Receiver
) -> None:
    response = told_world.post_deployment(TAG)
    assert response.status_code == 202
    told_world.drain()

    assert receiver.github() == [] and len(receiver.chat()) == 2


def test_the_token_and_webhook_come_from_secrets_manager(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with mock_aws():
        secrets = aws_client("secretsmanager")
        token = secrets.create_secret(Name="shop/gh-token", SecretString="ghs_from-secrets-manager")["ARN"]
        chat = secrets.create_secret(Name="shop/chat-webhook", SecretString=receiver.chat_url)["ARN"]
        monkeypatch.setenv("GITHUB_API_URL", receiver.url)
        monkeypatch.setenv("GITHUB_TOKEN_SECRET", token)
        monkeypatch.setenv("CHAT_WEBHOOK_URL_SECRET", chat)
        world = World()
        deployment_id = _post(world)
        world.drain()

        assert world.record(deployment_id).status is Status.SUCCEEDED
        assert receiver.github()[0].headers["authorization"] == "Bearer ghs_from-secrets-manager"
        assert len(receiver.chat()) == 2
        assert world.calls["secretsmanager.GetSecretValue"] == 2  # each read once per container
        emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
        assert len(emf) == 1  # one metrics line per finished deployment
        assert emf[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "deliverypipeline"
        assert emf[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["application"]]
        assert emf[0]["succeeded"] == [1.0] and emf[0]["application"] == world.rt.config.eb_application
        assert emf[0]["lead_time_s"][0] <= emf[0]["duration_s"][0]


def test_the_reconcile_function_signs_its_links_with_the_secret_it_reads_itself(
    told_world: World, receiver: Receiver
) -> None:
    """On AWS the reconcile function runs in containers of its own: it reads the signing secret (SSM) to
    mint the one-click links its messages carry, and the API accepts them."""
    deployment_id = _post(told_world, promotion="manual")
    own = runtime.Runtime(
        told_world.rt.config,
        session=shared_session(),
        clock=told_world.clock,
        http_get=told_world.http_get,
        queue=told_world.queue,
    )
    runtime.install(own)
    for _ in told_world.run():
        if told_world.record(deployment_id).status is Status.AWAITING_PROMOTION:
            break

    held = receiver.chat()[-1]
    actions = [e for b in held["blocks"] if b["type"] == "actions" for e in b["elements"]]
    token = {e["text"]["text"]: e["url"] for e in actions}["Promote"].rsplit("/actions/", 1)[1]
    granted = capability.verify(SECRET, token, time.time(), "link")
    assert isinstance(granted, capability.Capability)
    assert (granted.action, granted.deployment_id) == ("promote", deployment_id)
