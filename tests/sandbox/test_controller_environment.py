"""`python -m sandbox up` hands GITHUB_API_URL, GITHUB_TOKEN and CHAT_WEBHOOK_URL from its own environment
to the controller (the demo points them at its inbox; tests/sandbox/test_demo.py sees them arrive)."""

from __future__ import annotations

import pytest

from sandbox.provision import Names
from sandbox.stack import controller_environment

FUNCTION = {"EB_APPLICATION": "deliverypipeline", "GITHUB_API_URL": "https://api.github.com"}


def test_the_sandboxs_notification_settings_reach_the_controller(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_API_URL", "http://127.0.0.1:9999")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_local")
    monkeypatch.setenv("CHAT_WEBHOOK_URL", "http://127.0.0.1:9999/chat")

    env = controller_environment("http://127.0.0.1:1", Names(), FUNCTION, "http://127.0.0.1:2", 1)

    assert env["GITHUB_API_URL"] == "http://127.0.0.1:9999"
    assert env["GITHUB_TOKEN"] == "ghp_local" and env["CHAT_WEBHOOK_URL"] == "http://127.0.0.1:9999/chat"


def test_without_them_the_stacks_values_stay(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_API_URL", "GITHUB_TOKEN", "CHAT_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)

    env = controller_environment("http://127.0.0.1:1", Names(), FUNCTION, "http://127.0.0.1:2", 1)

    assert env["GITHUB_API_URL"] == "https://api.github.com"
    assert "GITHUB_TOKEN" not in env and "CHAT_WEBHOOK_URL" not in env
