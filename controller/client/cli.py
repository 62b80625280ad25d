"""The CI client: `python -m controller.client deploy|status|list|rollback|promote|abort` (standard library
only).

Reads PIPELINE_URL (the controller's base URL, stage included, e.g. https://abc.execute-api.../api) and
PIPELINE_SECRET (the shared signing secret) from the environment. Exit codes: 0 success, 1 the deployment
failed / timed out / the request was refused, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from controller.client import signing

FINISHED = {"succeeded", "failed", "superseded", "rolled_back"}
HELD = "awaiting_promotion"
REQUEST_TIMEOUT_S = 30


class ClientError(Exception):
    """A request that did not produce the expected answer; the message is for the user."""


class Pipeline:
    def __init__(self, base_url: str, secret: str, clock: Callable[[], float] = time.time) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ClientError(f"PIPELINE_URL={base_url!r} is not an http(s) URL")
        self.base_url = base_url.rstrip("/")
        self._secret = secret
        self._clock = clock

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        """Send a signed request; (status, JSON body). Raises ClientError for errors and non-2xx answers."""
        raw = b"" if body is None else json.dumps(body).encode()
        timestamp = int(self._clock())
        signed_path = urllib.parse.urlsplit(path).path  # the route path, without query string
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
            self.base_url + path,
            data=raw if method != "GET" else None,
            method=method,
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                **signing.signed_headers(self._secret, timestamp, method, signed_path, raw),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:  # noqa: S310
                return response.status, _json(response.read())
        except urllib.error.HTTPError as error:
            detail = _json(error.read()).get("error") or error.reason
            raise ClientError(f"{method} {path}: HTTP {error.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ClientError(f"cannot reach {self.base_url}: {reason}") from None


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# --- commands -----------------------------------------------------------------------------------------


def deploy(pipeline: Pipeline, args: argparse.Namespace, out: TextIO) -> int:
    body: dict[str, Any] = {"image": args.image, "tag": args.tag}
    if args.commit:
        body["commit"] = args.commit
    if args.build_url:
        body["build_url"] = args.build_url
    if args.hold:
        body["promotion"] = "manual"
    if args.redeploy:
        body["redeploy"] = True
    status, answer = pipeline.call("POST", "/deployments", body)
    deployment_id = answer["id"]
    seen = "existing deployment" if status == 200 else "deployment"
    attempt = f", attempt {answer['attempt']}" if answer.get("attempt", 1) > 1 else ""
    print(
        f"{seen} {deployment_id}: {answer['status']} (version {answer.get('version_label')}{attempt})",
        file=out,
    )
    if not args.wait:
        return 0
    return wait(pipeline, deployment_id, args.timeout, args.interval, out, until_held=args.hold)


def wait(
    pipeline: Pipeline,
    deployment_id: str,
    timeout_s: float,
    interval_s: float,
    out: TextIO,
    until_held: bool = False,
    seen: dict[str, Any] | None = None,
) -> int:
    """Print every step change (its status: running, succeeded, skipped, failed, rolled_back; or what a
    running step is waiting for) and every status change until the deployment finishes (or, with
    `until_held`, awaits promotion); 0 when it succeeded (or is held). `seen`: the deployment as already
    shown, whose steps and status are not printed again."""
    deadline = time.monotonic() + timeout_s
    printed = {s["name"]: (s["status"], s.get("detail") or "") for s in (seen or {}).get("steps", [])}
    status = str((seen or {}).get("status", ""))
    while True:
        _, view = pipeline.call("GET", f"/deployments/{deployment_id}")
        for step in view.get("steps", []):
            shown = (step["status"], step.get("detail") or "")
            if step["status"] != "pending" and printed.get(step["name"]) != shown:
                printed[step["name"]] = shown
                detail = f" ({shown[1]})" if shown[1] else ""
                print(f"  {step['name']}: {step['status']}{detail}", file=out, flush=True)
        if view["status"] != status:
            status = view["status"]
            if status in FINISHED:
                error = f": {view['error']}" if view.get("error") else ""
                print(f"deployment {deployment_id} {status}{error}", file=out, flush=True)
                for warning in view.get("warnings") or []:
                    print(f"  warning: {warning}", file=out, flush=True)
                return 0 if status == "succeeded" else 1
            print(f"deployment {deployment_id} {status}", file=out, flush=True)
            if status == HELD:
                _how_to_promote(deployment_id, view, out)
                if until_held:
                    return 0
        if time.monotonic() >= deadline:
            print(f"timed out after {timeout_s:g} s; deployment {deployment_id} is still {status}", file=out)
            return 1
        time.sleep(interval_s)


def _how_to_promote(deployment_id: str, view: dict[str, Any], out: TextIO) -> None:
    print(
        f"  pre-production {view.get('preprod_env')} serves {view.get('version_label')}; production "
        f"{view.get('prod_env')} still runs {view.get('previous_version_label')}.",
        file=out,
    )
    print(f"  promote: python -m controller.client promote {deployment_id} --wait", file=out)
    print(f"  abort:   python -m controller.client abort {deployment_id}", file=out, flush=True)


def show(pipeline: Pipeline, args: argparse.Namespace, out: TextIO) -> int:
    _, view = pipeline.call("GET", f"/deployments/{args.id}")
    print(json.dumps(view, indent=2), file=out)
    return 0


def list_recent(pipeline: Pipeline, args: argparse.Namespace, out: TextIO) -> int:
    _, answer = pipeline.call("GET", f"/deployments?limit={args.limit}")
    for d in answer.get("deployments", []):
        print(f"{d['id']}  {d['status']:<11}  {d['version_label']:<30}  {d['created_at']}", file=out)
    return 0


def rollback(pipeline: Pipeline, args: argparse.Namespace, out: TextIO) -> int:
    _, view = pipeline.call("POST", f"/deployments/{args.id}/rollback", {})
    print(
        f"deployment {view['id']} {view['status']}: production swapped back to {view.get('prod_env')}",
        file=out,
    )
    return 0


def promote(pipeline: Pipeline, args: argparse.Namespace, out: TextIO) -> int:
    _, view = pipeline.call("POST", f"/deployments/{args.id}/promote", {})
    print(f"deployment {view['id']} promoted: {view['status']}, on to the swap", file=out, flush=True)
    if not args.wait:
        return 0
    return wait(pipeline, args.id, args.timeout, args.interval, out, seen=view)


def abort(pipeline: Pipeline, args: argparse.Namespace, out: TextIO) -> int:
    _, view = pipeline.call("POST", f"/deployments/{args.id}/abort", {})
    print(
        f"deployment {view['id']} ({view['status']}): abort requested; it ends failed with production "
        "untouched",
        file=out,
    )
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m controller.client", description=__doc__.split("\n")[0])
    commands = root.add_subparsers(dest="command", required=True)
    d = commands.add_parser("deploy", help="notify the controller of a pushed image")
    d.add_argument("--image", required=True, help="image reference without tag, e.g. docker.io/acme/app")
    d.add_argument("--tag", required=True, help="the image tag; it becomes the Beanstalk version label")
    d.add_argument("--commit", help="the commit SHA that was built")
    d.add_argument("--build-url", help="the CI build's URL")
    d.add_argument(
        "--hold",
        action="store_true",
        help="manual promotion: stop after the smoke test (awaiting_promotion) until `promote ID`",
    )
    d.add_argument(
        "--redeploy",
        action="store_true",
        help="deploy this image and tag again when its latest deployment has finished (whatever the outcome)",
    )
    _following(d, "follow the deployment; exit 0 only when it succeeds (with --hold: once it is held)")
    d.set_defaults(run=deploy)
    s = commands.add_parser("status", help="show one deployment")
    s.add_argument("id")
    s.set_defaults(run=show)
    ls = commands.add_parser("list", help="recent deployments, newest first")
    ls.add_argument("--limit", type=int, default=20)
    ls.set_defaults(run=list_recent)
    r = commands.add_parser("rollback", help="swap production back to the previous environment")
    r.add_argument("id")
    r.set_defaults(run=rollback)
    p = commands.add_parser("promote", help="a deployment awaiting promotion goes on to the swap")
    p.add_argument("id")
    _following(p, "follow the deployment; exit 0 only when it succeeds")
    p.set_defaults(run=promote)
    a = commands.add_parser(
        "abort", help="end a queued, held or not yet swapped deployment (failed, production untouched)"
    )
    a.add_argument("id")
    a.set_defaults(run=abort)
    return root


def _following(command: argparse.ArgumentParser, what: str) -> None:
    command.add_argument("--wait", action="store_true", help=what)
    command.add_argument("--timeout", type=float, default=1800.0, help="seconds --wait waits (default 1800)")
    command.add_argument("--interval", type=float, default=5.0, help=argparse.SUPPRESS)


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    args = parser().parse_args(argv)
    url, secret = os.environ.get("PIPELINE_URL"), os.environ.get("PIPELINE_SECRET")
    if not url:
        print("error: PIPELINE_URL is not set (the controller's base URL)", file=err)
        return 2
    if not secret:
        print("error: PIPELINE_SECRET is not set (the shared signing secret)", file=err)
        return 2
    try:
        pipeline = Pipeline(url, secret)
        code: int = args.run(pipeline, args, out)
    except ClientError as error:
        print(f"error: {error}", file=err)
        return 1
    return code
