"""The pure parts of telling people: what is announced, the digest, the chat message's limits, capability
tokens, Retry-After, and the configuration's errors."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from controller_builders import CONFIG, T0, running_at

from controller.client import capability
from controller.core import announcements, chat_message, config, digest
from controller.core.announcements import Event
from controller.core.decision import fail
from controller.core.links import Links
from controller.core.model import Status, StepName
from controller.shell.people import webhook


def test_each_state_change_is_due_once() -> None:
    running = running_at(StepName.WAIT_READY)
    assert announcements.due(running) is Event.STARTED
    told = announcements.claim(running, Event.STARTED)
    assert announcements.due(told) is None
    held = dataclasses.replace(told, status=Status.AWAITING_PROMOTION)
    assert announcements.due(held) is Event.AWAITING_PROMOTION
    promoted = dataclasses.replace(announcements.claim(held, Event.AWAITING_PROMOTION), status=Status.RUNNING)
    assert announcements.due(promoted) is None  # running again after its promotion: said already
    assert announcements.due(dataclasses.replace(running, status=Status.QUEUED)) is None


def test_a_rollback_after_success_is_told_but_counted_once() -> None:
    done = dataclasses.replace(running_at(StepName.BAKE), status=Status.SUCCEEDED)
    succeeded = announcements.claim(done, Event.SUCCEEDED)
    assert announcements.finishes_first(dataclasses.replace(running_at(StepName.BAKE)), Event.SUCCEEDED)
    rolled = dataclasses.replace(succeeded, status=Status.ROLLED_BACK)
    assert announcements.due(rolled) is Event.ROLLED_BACK
    assert not announcements.finishes_first(rolled, Event.ROLLED_BACK)


def test_the_digest_says_where_why_and_what_beanstalk_and_the_smoke_test_saw() -> None:
    d = dataclasses.replace(running_at(StepName.SMOKE_TEST), failure_events=("e1", "e2", "e3", "e4"))
    failed = fail(d, T0, "smoke test failed: GET http://x/health: HTTP 503").deployment
    body = "x" * 300
    causes = ("i-1: Instance ELB health state has been OutOfService",)
    text = digest.compose(failed, causes, "GET http://x/health: " + digest.response_excerpt(503, body))

    assert text is not None
    assert text.startswith("1.0.42-3f2a1bc failed at smoke_test: smoke test failed: GET http://x/health")
    assert "Beanstalk reported: e1; e2; e3 (and 1 more)." in text
    assert "Instance health on shop-green: i-1: Instance ELB health state has been OutOfService." in text
    assert f"The smoke test's last response: GET http://x/health: HTTP 503: {'x' * 200}." in text
    assert "x" * 201 not in text
    assert digest.headline(failed) == text.split(" Beanstalk")[0]
    assert digest.compose(running_at(StepName.SWAP)) is None  # nothing went wrong


def test_the_chat_message_keeps_within_block_kit_limits() -> None:
    long_tag = "9" * 100
    d = dataclasses.replace(running_at(StepName.SMOKE_TEST), tag=long_tag, version_label=long_tag)
    failed = fail(d, T0, "x" * 5000).deployment
    failed = dataclasses.replace(failed, digest=digest.compose(failed))
    message = chat_message.message(failed, Event.FAILED, Links(dashboard="http://c/dashboard?token=t"), None)

    header = message["blocks"][0]
    assert header["type"] == "header" and len(header["text"]["text"]) <= 150
    for block in message["blocks"]:
        assert len(block.get("text", {}).get("text", "")) <= 3000
        assert len(block.get("fields", [])) <= 10
        assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
    (actions,) = [b for b in message["blocks"] if b["type"] == "actions"]
    assert [e["text"]["text"] for e in actions["elements"]] == ["Dashboard"]
    assert len(message["text"]) <= 3000
    json.dumps(message)


def test_a_capability_token_is_bound_to_its_secret_purpose_and_time() -> None:
    token = capability.mint("s3cret", "promote", "d-0123456789abcdef", 2_000)
    granted = capability.verify("s3cret", token, 1_999, "link")
    assert isinstance(granted, capability.Capability)
    assert (granted.action, granted.deployment_id) == ("promote", "d-0123456789abcdef")
    assert capability.verify("s3cret", token, 2_000, "link") == "expired"
    assert capability.verify("other", token, 1_000, "link") == "tampered"
    assert capability.verify("s3cret", token, 1_000, "dashboard") == "tampered"
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert capability.verify("s3cret", forged, 1_000, "link") == "tampered"
    assert capability.mint("s3cret", "promote", "d-0123456789abcdef", 2_000) != token  # each its own nonce


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    assert webhook._retry_after("7") == 7.0
    later = datetime.now(UTC) + timedelta(seconds=30)
    assert 25 <= webhook._retry_after(format_datetime(later, usegmt=True)) <= 31
    assert webhook._retry_after("soon") == 0.0


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("GITHUB_API_URL", "api.github.com"),
        ("CHAT_WEBHOOK_URL", "hooks.slack.com/services/x"),
        ("GITHUB_TOKEN_SECRET", "arn:aws:s3:::not-a-secret bucket"),
        ("CONTROLLER_URL", "ftp://example.com"),
    ],
)
def test_bad_notification_settings_name_their_variable(variable: str, value: str) -> None:
    env = {
        "EB_APPLICATION": "shop",
        "PROD_CNAME_PREFIX": "shop",
        "ARTIFACT_BUCKET": "b",
        "DEPLOYMENTS_TABLE": "t",
        "RECONCILE_QUEUE": "q",
        "SIGNING_SECRET": "s",
        variable: value,
    }
    with pytest.raises(config.ConfigError, match=variable):
        config.load(env)
    assert CONFIG.github_api_url == "https://api.github.com"


def test_the_digest_does_not_repeat_the_beanstalk_event_its_error_already_quotes() -> None:
    event = "Instance deployment failed. The container for shop:2.0.0-broken did not start: exit code 2."
    d = dataclasses.replace(
        running_at(StepName.WAIT_READY), failure_events=(event, "Failed to deploy application.")
    )
    failed = fail(d, T0, f"shop-green reported a failure: {event}").deployment
    text = digest.compose(failed)

    assert text is not None
    assert text.count("did not start") == 1
    assert text.endswith("Beanstalk reported: Failed to deploy application.")
