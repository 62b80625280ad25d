"""`python -m controller.client` against the app served by `chalice local` (standard library only)."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from chalice.config import Config
from chalice.local import create_local_server
from controller_harness import BLUE, GREEN, ROOT, SECRET, World
from webdriver import chromium

import moto_ext
from controller.api.routes import app
from controller.client import cli as client


@pytest.fixture(scope="module")
def local_url() -> Iterator[str]:
    """`chalice local`'s server for the whole module (it rebinds the app's class, so only once)."""
    config = Config.create(chalice_stage="dev", app_name=app.app_name)
    server = create_local_server(app, config, "127.0.0.1", 0)
    serving = threading.Thread(target=server.server.serve_forever, daemon=True)
    serving.start()
    yield f"http://127.0.0.1:{server.server.server_address[1]}/"
    server.server.shutdown()


@pytest.fixture
def served(world: World, local_url: str) -> Iterator[tuple[World, str]]:
    stop = threading.Event()
    # Ticks come at once in simulated time, but not the hold's expiry nor the safety polls: people and
    # Beanstalk's events move these deployments.
    delivering = threading.Thread(target=world.deliver_forever, args=(stop, 300), daemon=True)
    delivering.start()
    yield world, local_url
    stop.set()
    delivering.join(timeout=10)


def _cli(url: str, *args: str, secret: str = SECRET) -> subprocess.CompletedProcess[str]:
    """The client as CI runs it: a fresh interpreter without site-packages (-S), so stdlib only."""
    env = {"PATH": os.environ.get("PATH", ""), "PIPELINE_URL": url, "PIPELINE_SECRET": secret}
    return subprocess.run(
        [sys.executable, "-S", "-m", "controller.client", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_wait_prints_each_step_and_exits_0_on_success(served: tuple[World, str]) -> None:
    world, url = served
    done = _cli(
        url, "deploy", "--image", "docker.io/acme/app", "--tag", "2.0.1", "--wait", "--interval", "0.05"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for step in ("create_version", "deploy_preprod", "wait_ready", "smoke_test", "swap", "verify"):
        assert f"{step}: succeeded" in done.stdout
    assert done.stdout.strip().splitlines()[-1].endswith("succeeded")
    assert world.prod_owner() == GREEN
    deployment_id = done.stdout.split()[1].rstrip(":")
    # the status the POST answered is shown once, not again as the first change
    assert done.stdout.splitlines()[0] == f"deployment {deployment_id}: queued (version 2.0.1)"
    assert f"deployment {deployment_id} queued" not in done.stdout

    status = _cli(url, "status", deployment_id)
    assert status.returncode == 0 and json.loads(status.stdout)["status"] == "succeeded"
    listed = _cli(url, "list")
    assert listed.returncode == 0 and deployment_id in listed.stdout
    rolled = _cli(url, "rollback", deployment_id, "--wait", "--interval", "0.05")
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert rolled.stdout.splitlines()[0].startswith(
        f"deployment {deployment_id} running: swapping production"
    )
    assert "  swap: rolled_back (production is back on " in rolled.stdout, "followed like deploy --wait"
    ended = f"deployment {deployment_id} rolled_back: rolled back by request: production swapped back to"
    assert any(line.startswith(ended) for line in rolled.stdout.splitlines()), rolled.stdout
    refused = _cli(url, "rollback", deployment_id)
    assert refused.returncode == 1
    reason = f"deployment {deployment_id} was rolled back; only a succeeded deployment can be rolled back"
    assert f"HTTP 409: {reason}" in refused.stderr


def test_environments_shows_production_the_standby_and_whether_a_rollback_could_run(
    served: tuple[World, str],
) -> None:
    _, url = served
    before = _cli(url, "environments")
    assert before.returncode == 1, "no deployment has succeeded yet: nothing to roll back to"
    assert "rollback NOT ready: no succeeded deployment to roll back" in before.stdout
    deployed = _cli(
        url, "deploy", "--image", "docker.io/acme/app", "--tag", "2.0.3", "--wait", "--interval", "0.05"
    )
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    deployment_id = deployed.stdout.split()[1].rstrip(":")

    shown = _cli(url, "environments")

    assert shown.returncode == 0, shown.stdout + shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].split() == ["ENVIRONMENT", "VERSION", "STATUS", "HEALTH", "URL"]
    assert lines[1].split()[:5] == ["production", GREEN, "2.0.3", "Ready", "Green"]
    assert lines[2].split()[:2] == ["standby", BLUE]
    assert lines[1].index(GREEN) == lines[2].index(BLUE), "columns line up"
    command = f"python -m controller.client rollback {deployment_id}"
    assert lines[-1] == f"rollback ready: `{command}` swaps production back to {BLUE}"


def test_rollback_of_a_standby_that_is_not_ready_is_refused_with_why_unless_forced(
    served: tuple[World, str],
) -> None:
    world, url = served
    deployed = _cli(
        url, "deploy", "--image", "docker.io/acme/app", "--tag", "2.0.4", "--wait", "--interval", "0.05"
    )
    deployment_id = deployed.stdout.split()[1].rstrip(":")
    world.be.set_outcome(BLUE, moto_ext.Outcome.RED)
    broken = _cli(
        url,
        "deploy",
        "--image",
        "docker.io/acme/app",
        "--tag",
        "2.0.5-broken",
        "--wait",
        "--interval",
        "0.05",
    )
    assert broken.returncode == 1 and world.environments()[BLUE].health == "Red"

    not_ready = _cli(url, "environments")
    refused = _cli(url, "rollback", deployment_id)
    forced = _cli(url, "rollback", deployment_id, "--force", "--wait", "--interval", "0.05")

    assert not_ready.returncode == 1
    assert f"rollback NOT ready: {BLUE} health is Red (ACCEPTED_HEALTH=Green)" in not_ready.stdout
    assert refused.returncode == 1
    assert f"the standby is not rollback_ready: {BLUE} health is Red" in refused.stderr
    assert '"force": true' in refused.stderr
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "(forced)" in forced.stdout
    assert world.prod_owner() == BLUE


def test_deploy_wait_exits_1_when_the_deployment_fails(served: tuple[World, str]) -> None:
    world, url = served
    world.be.set_outcome(GREEN, moto_ext.Outcome.RED)
    done = _cli(
        url, "deploy", "--image", "docker.io/acme/app", "--tag", "2.0.2", "--wait", "--interval", "0.05"
    )
    assert done.returncode == 1
    # The update's first failure event, its cause (Beanstalk writes "Failed to deploy application." after).
    assert "failed" in done.stdout
    assert "Instance deployment failed. For details, see 'eb-engine.log'." in done.stdout
    assert "--redeploy" not in done.stdout  # a first attempt: nothing to hint


def test_a_failed_tag_posted_again_shows_the_old_failure_and_how_to_redeploy(
    served: tuple[World, str],
) -> None:
    """CI's "Rerun from failed" posts the same tag again: the answer is the failed deployment (a retried
    notification starts nothing twice), and the client says how to make a new attempt."""
    world, url = served
    world.be.set_outcome(GREEN, moto_ext.Outcome.RED)
    args = ("deploy", "--image", "docker.io/acme/app", "--tag", "2.0.5", "--wait", "--interval", "0.05")
    first = _cli(url, *args)
    assert first.returncode == 1

    again = _cli(url, *args)
    assert again.returncode == 1, again.stdout + again.stderr
    lines = again.stdout.splitlines()
    deployment_id = lines[0].split()[2].rstrip(":")
    assert lines[0].startswith(f"existing deployment {deployment_id}: failed")
    assert f"deployment {deployment_id} failed: " in again.stdout
    assert f"deployment {deployment_id} failed; posting them again answers that deployment" in again.stdout
    assert lines[-1] == (
        "  to deploy them again: python -m controller.client deploy --image docker.io/acme/app --tag 2.0.5 "
        "--redeploy --wait"
    )


def _hold(url: str, tag: str) -> subprocess.CompletedProcess[str]:
    """deploy --hold --wait: returns once the deployment awaits promotion."""
    return _cli(
        url, "deploy", "--image", "docker.io/acme/app", "--tag", tag, "--hold", "--wait", "--interval", "0.05"
    )


def test_deploy_hold_waits_until_held_then_promote_wait_follows_it_to_success(
    served: tuple[World, str],
) -> None:
    world, url = served
    held = _hold(url, "2.1.0")
    assert held.returncode == 0, held.stdout + held.stderr
    deployment_id = held.stdout.split()[1].rstrip(":")
    assert f"deployment {deployment_id} awaiting_promotion" in held.stdout
    assert f"promote: python -m controller.client promote {deployment_id} --wait" in held.stdout
    assert "swap:" not in held.stdout and world.prod_owner() != GREEN

    promoted = _cli(url, "promote", deployment_id, "--wait", "--interval", "0.05")
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    assert "promote: succeeded (promoted by request" in promoted.stdout
    assert "swap: succeeded" in promoted.stdout
    assert promoted.stdout.strip().splitlines()[-1] == f"deployment {deployment_id} succeeded"
    assert world.prod_owner() == GREEN
    again = _cli(url, "promote", deployment_id)
    assert again.returncode == 1
    reason = f"deployment {deployment_id} has succeeded; only a deployment awaiting promotion can be promoted"
    assert f"HTTP 409: {reason}" in again.stderr


def test_abort_ends_a_held_deployment_and_redeploy_starts_it_again(served: tuple[World, str]) -> None:
    world, url = served
    held = _hold(url, "2.2.0")
    deployment_id = held.stdout.split()[1].rstrip(":")
    aborted = _cli(url, "abort", deployment_id)
    assert aborted.returncode == 0 and "abort requested" in aborted.stdout

    again = _cli(
        url,
        "deploy",
        "--image",
        "docker.io/acme/app",
        "--tag",
        "2.2.0",
        "--redeploy",
        "--wait",
        "--interval",
        "0.05",
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "attempt 2" in again.stdout.splitlines()[0]
    assert world.record(deployment_id).status.value == "failed"
    assert world.prod_owner() == GREEN


def test_deploy_wait_exits_1_on_timeout(world: World, local_url: str) -> None:
    """No ticks are delivered here: the deployment stays queued and the client gives up."""
    done = _cli(
        local_url,
        "deploy",
        "--image",
        "docker.io/acme/app",
        "--tag",
        "2.0.3",
        "--wait",
        "--timeout",
        "0.3",
        "--interval",
        "0.05",
    )
    assert done.returncode == 1
    assert "timed out after 0.3 s" in done.stdout and "still queued" in done.stdout


def test_a_wrong_secret_prints_the_servers_message(served: tuple[World, str]) -> None:
    _, url = served
    done = _cli(url, "deploy", "--image", "docker.io/acme/app", "--tag", "2.0.4", secret="wrong")
    assert done.returncode == 1
    assert "HTTP 401: signature does not match" in done.stderr


def test_bad_input_prints_the_servers_message(served: tuple[World, str]) -> None:
    _, url = served
    done = _cli(url, "deploy", "--image", "docker.io/acme/app", "--tag", "bad tag!")
    assert done.returncode == 1
    assert "HTTP 400: invalid Docker tag" in done.stderr


@pytest.mark.parametrize("missing", ["PIPELINE_URL", "PIPELINE_SECRET"])
def test_missing_configuration_names_the_variable(monkeypatch: pytest.MonkeyPatch, missing: str) -> None:
    monkeypatch.setenv("PIPELINE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("PIPELINE_SECRET", "x")
    monkeypatch.delenv(missing)
    err = io.StringIO()
    assert client.main(["list"], out=io.StringIO(), err=err) == 2
    assert missing in err.getvalue()


def test_an_unreachable_controller_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPELINE_URL", "http://127.0.0.1:9/api")
    monkeypatch.setenv("PIPELINE_SECRET", "x")
    err = io.StringIO()
    assert client.main(["status", "d-1"], out=io.StringIO(), err=err) == 1
    assert "cannot reach http://127.0.0.1:9/api" in err.getvalue()


def test_deploy_wait_prints_the_digest_of_a_failure(served: tuple[World, str]) -> None:
    world, url = served
    world.be.set_outcome(GREEN, moto_ext.Outcome.RED)
    done = _cli(
        url, "deploy", "--image", "docker.io/acme/app", "--tag", "2.0.5", "--wait", "--interval", "0.05"
    )
    assert done.returncode == 1
    why = [line for line in done.stdout.splitlines() if line.startswith("why: ")]
    assert len(why) == 1 and why[0].startswith("why: 2.0.5 failed at wait_ready:")
    # Beanstalk's ERROR events in the order AWS writes them (tests/parity), the last one the summary; the
    # first is the error itself, quoted once
    assert why[0].count("Instance deployment failed.") == 1
    assert "Beanstalk reported: Unsuccessful command execution" in why[0]
    assert "Failed to deploy application." in why[0]


def test_dashboard_prints_a_signed_link_to_the_deployments(served: tuple[World, str]) -> None:
    _, url = served
    held = _hold(url, "2.3.0")
    deployment_id = held.stdout.split()[1].rstrip(":")

    printed = _cli(url, "dashboard", "--ttl", "60")
    assert printed.returncode == 0, printed.stderr
    link = printed.stdout.strip()
    assert link.startswith(url.rstrip("/") + "/dashboard?token=")
    with urllib.request.urlopen(link, timeout=30) as page:
        html = page.read().decode()
    assert deployment_id in html and "awaiting_promotion" in html
    assert "deliverypipeline-dev-green" in html and "pre-production" in html
    assert "class=promote" in html and "class=abort" in html
    assert _cli(url, "dashboard", "--ttl", "0").returncode == 2


@pytest.mark.browser
def test_the_dashboard_in_a_browser_shows_progress_and_a_click_on_promote_promotes(
    served: tuple[World, str], tmp_path: Path
) -> None:
    world, url = served
    held = _hold(url, "2.4.0")
    deployment_id = held.stdout.split()[1].rstrip(":")
    link = _cli(url, "dashboard").stdout.strip()

    with chromium(tmp_path) as browser:
        browser.go(link)
        page = browser.wait_for(deployment_id)
        assert "smoke_test: succeeded" in page and "promote: running" in page
        assert "awaiting_promotion" in browser.text(f"[id='{deployment_id}'] .status")
        browser.click(f"[id='{deployment_id}'] button.promote")
        assert f"deployment {deployment_id} promoted" in browser.wait_for('id="outcome"')

        browser.go(link)
        browser.wait_for("swap: succeeded", timeout_s=60)  # the page refreshes by itself as it goes
        browser.wait_for('<span class="status succeeded">succeeded</span>', timeout_s=60)
    assert world.record(deployment_id).status.value == "succeeded"
    assert world.prod_owner() == GREEN


def test_list_has_a_header_and_columns_that_line_up(served: tuple[World, str]) -> None:
    """Versions of different lengths and statuses of different lengths: every column starts where its
    header does."""
    _, url = served
    _hold(url, "3.0.0-a-much-longer-version-label")
    _cli(url, "deploy", "--image", "docker.io/acme/app", "--tag", "3.1")
    listed = _cli(url, "list")
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split() == ["ID", "STATUS", "CREATED", "VERSION"]
    assert len(rows) == 2
    starts = [header.index(title) for title in ("STATUS", "CREATED", "VERSION")]
    for row in rows:
        assert [row[start - 2 : start] for start in starts] == ["  "] * 3, row
        assert row[starts[0]] != " " and row[starts[1]] != " " and row[starts[2]] != " ", row
    assert rows[0].endswith("  3.1") and rows[1].endswith("  3.0.0-a-much-longer-version-label")
    assert "awaiting_promotion" in rows[1]


WAIT_ON_A_NEW_TAG = ("deploy", "--image", "docker.io/acme/app", "--tag", "2.0.6", "--wait", "--interval", "1")


def test_ctrl_c_while_waiting_says_the_deployment_goes_on_and_exits_130(world: World, local_url: str) -> None:
    """No ticks are delivered: the client waits on a queued deployment until it is interrupted."""
    env = {"PATH": os.environ.get("PATH", ""), "PIPELINE_URL": local_url, "PIPELINE_SECRET": SECRET}
    client_process = subprocess.Popen(
        [sys.executable, "-S", "-m", "controller.client", *WAIT_ON_A_NEW_TAG],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert client_process.stdout is not None
    first = client_process.stdout.readline()  # the deployment was created: the client now waits
    deployment_id = first.split()[1].rstrip(":")
    client_process.send_signal(signal.SIGINT)
    rest, err = client_process.communicate(timeout=30)

    assert client_process.returncode == 130, first + rest + err
    assert "Traceback" not in err
    assert f"interrupted: deployment {deployment_id} goes on without this client" in err
    assert f"python -m controller.client status {deployment_id} --wait" in err
    assert world.record(deployment_id).status.value == "queued"  # it was not cancelled


def test_status_wait_follows_a_deployment_to_its_end(served: tuple[World, str]) -> None:
    _, url = served
    started = _cli(url, "deploy", "--image", "docker.io/acme/app", "--tag", "2.0.7")
    deployment_id = started.stdout.split()[1].rstrip(":")
    followed = _cli(url, "status", deployment_id, "--wait", "--interval", "0.05")
    assert followed.returncode == 0, followed.stdout + followed.stderr
    assert "swap: succeeded" in followed.stdout
    assert followed.stdout.splitlines()[-1] == f"deployment {deployment_id} succeeded"


@pytest.mark.parametrize("wrong", ["prod/", "api/v1/"])
def test_a_wrong_stage_in_the_url_gets_a_hint_not_a_bare_403(
    world: World, local_url: str, wrong: str
) -> None:
    """API Gateway (and `chalice local`) answer a path no route has with 403 `{"message": ...}`, which
    is what a wrong stage in PIPELINE_URL gives."""
    done = _cli(local_url + wrong, "list")
    assert done.returncode == 1
    assert "HTTP 403: Missing Authentication Token" in done.stderr
    assert "the stage in PIPELINE_URL=" in done.stderr and "is probably wrong" in done.stderr
    assert "https://<api-id>.execute-api.<region>.amazonaws.com/api" in done.stderr


def test_help_gives_full_descriptions() -> None:
    """`--help` of the client and of each command: whole sentences, the environment and exit codes."""
    top = subprocess.run(
        [sys.executable, "-S", "-m", "controller.client", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert top.returncode == 0
    text = " ".join(top.stdout.split())
    assert "Standard library only, so a CI job runs it with no install." in text
    assert "PIPELINE_URL" in text and "PIPELINE_SECRET" in text and "130 interrupted" in text
    for command in ("deploy", "status", "list", "rollback", "promote", "abort"):
        shown = subprocess.run(
            [sys.executable, "-S", "-m", "controller.client", command, "--help"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert shown.returncode == 0
        description = " ".join(shown.stdout.split("\n\n")[1].split())
        assert re.fullmatch(r"[A-Z].*\.", description), (command, description)


def test_wait_prints_the_warnings_of_a_deployment_that_succeeded() -> None:
    class Answers:
        def call(self, method: str, path: str, body: object = None) -> tuple[int, dict[str, object]]:
            view = {"status": "succeeded", "steps": [], "error": None, "warnings": ["DNS still lags"]}
            return 200, view

    out = io.StringIO()
    assert client.wait(Answers(), "d-1", 5, 0.01, out) == 0  # type: ignore[arg-type]
    assert out.getvalue().splitlines()[-2:] == ["deployment d-1 succeeded", "warning: DNS still lags"]
