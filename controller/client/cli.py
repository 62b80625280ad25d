"""The CI client: `python -m controller.client COMMAND`, COMMAND one of deploy, status, list, rollback,
promote, abort, environments, dashboard (standard library only, so a CI job runs it with no install).

Reads PIPELINE_URL (the controller's base URL, stage included, e.g. https://abc.execute-api.../api) and
PIPELINE_SECRET (the shared signing secret) from the environment. Exit codes: 0 success, 1 the deployment
failed / timed out / the request was refused, 2 usage or configuration error, 130 interrupted (Ctrl-C: the
deployment goes on without the client).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from controller.client import capability, signing

FINISHED = {"succeeded", "failed", "superseded", "rolled_back"}
HELD = "awaiting_promotion"
REQUEST_TIMEOUT_S = 30
COMMAND = "python -m controller.client"
EXAMPLE_URL = "https://<api-id>.execute-api.<region>.amazonaws.com/api"
INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C

DESCRIPTION = """\
Tell the deploy controller about a pushed image, follow its blue/green deployment, and act on
deployments (promote, abort, roll back). Standard library only, so a CI job runs it with no install.

environment:
  PIPELINE_URL     the controller's base URL, stage included: the controller stack's EndpointURL,
                   e.g. https://<api-id>.execute-api.<region>.amazonaws.com/api
  PIPELINE_SECRET  the shared signing secret

exit codes: 0 success; 1 the deployment failed, timed out or the request was refused; 2 usage or
configuration error; 130 interrupted (Ctrl-C: the deployment goes on without the client)."""


class ClientError(Exception):
    """A request that did not produce the expected answer; the message is for the user."""


class Interrupted(Exception):
    """Ctrl-C while following a deployment: it goes on without the client."""

    def __init__(self, deployment_id: str) -> None:
        super().__init__(deployment_id)
        self.deployment_id = deployment_id


class Pipeline:
    def __init__(self, base_url: str, secret: str, clock: Callable[[], float] = time.time) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ClientError(f"PIPELINE_URL={base_url!r} is not an http(s) URL (e.g. {EXAMPLE_URL})")
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self._clock = clock

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        """Send a signed request; (status, JSON body). Raises ClientError for errors and non-2xx answers.

        A signed mutating request is single-use (the controller refuses its signature a second time), so each
        carries a random `request_id`: two requests sent within the same second still differ."""
        if body is not None and method != "GET":
            body = {**body, "request_id": secrets.token_hex(8)}
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
                **signing.signed_headers(self.secret, timestamp, method, signed_path, raw),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:  # noqa: S310
                return response.status, _json(response.read())
        except urllib.error.HTTPError as error:
            answer = _json(error.read())
            detail = answer.get("error") or answer.get("message") or error.reason
            hint = self._not_the_controller(error.code, answer)
            raise ClientError(f"{method} {path}: HTTP {error.code}: {detail}{hint}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ClientError(f"cannot reach {self.base_url}: {reason}") from None

    def _not_the_controller(self, status: int, answer: dict[str, Any]) -> str:
        """API Gateway answers a path no route has (a wrong or missing stage in PIPELINE_URL) with its own
        403 `{"message": "Forbidden" | "Missing Authentication Token"}`; the controller's answers carry
        `error`, and it never answers 403 to a signed request."""
        if status != 403 or "error" in answer:
            return ""
        return (
            f"\n  API Gateway answered, not the controller: the stage in PIPELINE_URL={self.base_url} is "
            f"probably wrong.\n  PIPELINE_URL is the controller stack's EndpointURL, stage included, e.g. "
            f"{EXAMPLE_URL} (make deploy-controller prints it)"
        )


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# --- commands -----------------------------------------------------------------------------------------

# A finished deployment's status as the end of a sentence ("deployment d-1 failed").
_FINISHED_PHRASES = {
    "succeeded": "succeeded",
    "failed": "failed",
    "superseded": "was superseded by a newer notification",
    "rolled_back": "was rolled back",
}


def deploy(pipeline: Pipeline, args: argparse.Namespace, out: TextIO) -> int:
    body: dict[str, Any] = {"image": args.image, "tag": args.tag}
    if args.commit:
        body["commit"] = args.commit
    if args.build_url:
        body["build_url"] = args.build_url
    if args.repository:
        body["repository"] = args.repository
    if args.hold:
        body["promotion"] = "manual"
    if args.redeploy:
        body["redeploy"] = True
    status, answer = pipeline.call("POST", "/deployments", body)
    try:  # from here on the deployment exists: an interrupt stops the client, never the deployment
        return _posted(pipeline, args, status, answer, out)
    except KeyboardInterrupt:
        raise Interrupted(answer["id"]) from None


def _posted(
    pipeline: Pipeline, args: argparse.Namespace, status: int, answer: dict[str, Any], out: TextIO
) -> int:
    deployment_id = answer["id"]
    seen = "existing deployment" if status == 200 else "deployment"
    attempt = f", attempt {answer['attempt']}" if answer.get("attempt", 1) > 1 else ""
    print(
        f"{seen} {deployment_id}: {answer['status']} (version {answer.get('version_label')}{attempt})",
        file=out,
        flush=True,
    )
    code = 0
    if args.wait:
        shown = {"status": answer["status"]}  # printed above: the first change shown is the next one
        code = wait(pipeline, deployment_id, args.timeout, args.interval, out, args.hold, shown)
    if status == 200 and answer["status"] in FINISHED:
        _how_to_redeploy(deployment_id, answer["status"], args, out)
    return code


def _how_to_redeploy(deployment_id: str, status: str, args: argparse.Namespace, out: TextIO) -> None:
    """Posting an image and tag again answers their latest deployment, even a failed one (so a retried
    notification starts nothing twice); --redeploy makes a new attempt."""
    again = ["deploy", "--image", args.image, "--tag", args.tag, "--redeploy"]
    again += ["--hold"] if args.hold else []
    again += ["--wait"] if args.wait else []
    print(
        f"  this image and tag were posted before, and deployment {deployment_id} "
        f"{_FINISHED_PHRASES.get(status, status)}; posting them again answers that deployment.\n"
        f"  to deploy them again: {COMMAND} {shlex.join(again)}",
        file=out,
        flush=True,
    )


def wait(
    pipeline: Pipeline,
    deployment_id: str,
    timeout_s: float,
    interval_s: float,
    out: TextIO,
    until_held: bool = False,
    seen: dict[str, Any] | None = None,
    success: str = "succeeded",
) -> int:
    """Print every step change (its status: running, succeeded, skipped, failed, rolled_back; or what a
    running step is waiting for) and every status change until the deployment finishes (or, with
    `until_held`, awaits promotion); 0 when it ended `success` (or is held). `seen`: the deployment as
    already shown, whose steps and status are not printed again. Ctrl-C raises Interrupted."""
    try:
        return _follow(pipeline, deployment_id, timeout_s, interval_s, out, until_held, seen or {}, success)
    except KeyboardInterrupt:
        raise Interrupted(deployment_id) from None


def _follow(
    pipeline: Pipeline,
    deployment_id: str,
    timeout_s: float,
    interval_s: float,
    out: TextIO,
    until_held: bool,
    seen: dict[str, Any],
    success: str = "succeeded",
) -> int:
    deadline = time.monotonic() + timeout_s
    printed = {s["name"]: (s["status"], s.get("detail") or "") for s in seen.get("steps", [])}
    status = str(seen.get("status", ""))
    while True:
        _, view = pipeline.call("GET", f"/deployments/{deployment_id}")
        for step in view.get("steps", []):
            shown = (step["status"], step.get("detail") or "")
            if step["status"] != "pending" and printed.get(step["name"]) != shown:
                printed[step["name"]] = shown
                detail = f" ({shown[1]})" if shown[1] else ""
                print(f"  {step['name']}: {step['status']}{detail}", file=out, flush=True)
        changed, status = view["status"] != status, view["status"]
        if status in FINISHED:  # the last line, whether or not this status was shown before
            error = f": {view['error']}" if view.get("error") else ""
            print(f"deployment {deployment_id} {status}{error}", file=out, flush=True)
            if view.get("digest"):
                print(f"why: {view['digest']}", file=out, flush=True)
            for warning in view.get("warnings") or []:
                print(f"warning: {warning}", file=out, flush=True)
            return 0 if status == success else 1
        if changed:
            print(f"deployment {deployment_id} {status}", file=out, flush=True)
        if status == HELD and (changed or until_held):
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
    print(f"  promote: {COMMAND} promote {deployment_id} --wait", file=out)
    print(f"  abort:   {COMMAND} abort {deployment_id}", file=out, flush=True)


def show(pipeline: Pipeline, args: argparse.Namespace, out: TextIO) -> int:
    if args.wait:
        return wait(pipeline, args.id, args.timeout, args.interval, out)
    _, view = pipeline.call("GET", f"/deployments/{args.id}")
    print(json.dumps(view, indent=2), file=out)
    return 0


LIST_COLUMNS = (("ID", "id", 18), ("STATUS", "status", len(HELD)), ("CREATED", "created_at", 20))


def list_recent(pipeline: Pipeline, args: argparse.Namespace, out: TextIO) -> int:
    """One line per deployment under a header, in fixed-width columns; the version (up to 100 characters)
    comes last, so it never pushes the others."""
    _, answer = pipeline.call("GET", f"/deployments?limit={args.limit}")
    deployments = answer.get("deployments", [])
    if not deployments:
        print("no deployments yet", file=out)
        return 0
    widths = [
        max(width, *(len(str(d.get(key) or "-")) for d in deployments)) for _, key, width in LIST_COLUMNS
    ]
    header = [title for title, _, _ in LIST_COLUMNS]
    print(_row(header, widths, "VERSION"), file=out)
    for d in deployments:
        cells = [str(d.get(key) or "-") for _, key, _ in LIST_COLUMNS]
        attempt = f" (attempt {d['attempt']})" if d.get("attempt", 1) > 1 else ""
        print(_row(cells, widths, f"{d.get('version_label')}{attempt}"), file=out)
    return 0


def _row(cells: list[str], widths: list[int], last: str) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) + "  " + last


def rollback(pipeline: Pipeline, args: argparse.Namespace, out: TextIO) -> int:
    body = {"force": True} if args.force else {}
    _, view = pipeline.call("POST", f"/deployments/{args.id}/rollback", body)  # a refusal: 409 and why
    print(
        f"deployment {view['id']} {view['status']}: swapping production back to {view.get('prod_env')} "
        f"({view.get('previous_version_label')}); it reads rolled_back once production answers that version",
        file=out,
        flush=True,
    )
    if not args.wait:
        return 0
    try:
        return wait(pipeline, args.id, args.timeout, args.interval, out, seen=view, success="rolled_back")
    except KeyboardInterrupt:
        raise Interrupted(args.id) from None


def environments(pipeline: Pipeline, args: argparse.Namespace, out: TextIO) -> int:
    """Production and the standby; exit 0 when the standby is rollback_ready, else 1 (with why)."""
    _, view = pipeline.call("GET", "/environments")
    rows = [["", "ENVIRONMENT", "VERSION", "STATUS", "HEALTH"]]
    for role in ("production", "standby"):
        env = view.get(role) or {}
        rows.append([role, *(str(env.get(key) or "-") for key in ("name", "version", "status", "health"))])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row, env in zip(rows, (None, view.get("production"), view.get("standby")), strict=True):
        url = "URL" if env is None else str((env or {}).get("url") or "-")
        print(_row(row[:-1], widths, row[-1].ljust(6) + "  " + url), file=out)
    standby = view.get("standby") or {}
    if standby.get("rollback_ready"):
        latest = view.get("latest_succeeded")
        print(
            f"rollback ready: `{COMMAND} rollback {latest}` swaps production back to {standby.get('name')}",
            file=out,
        )
        return 0
    print(f"rollback NOT ready: {standby.get('why')}", file=out)
    return 1


def promote(pipeline: Pipeline, args: argparse.Namespace, out: TextIO) -> int:
    _, view = pipeline.call("POST", f"/deployments/{args.id}/promote", {})
    try:
        print(f"deployment {view['id']} promoted: {view['status']}, on to the swap", file=out, flush=True)
        if not args.wait:
            return 0
        return wait(pipeline, args.id, args.timeout, args.interval, out, seen=view)
    except KeyboardInterrupt:
        raise Interrupted(args.id) from None


def abort(pipeline: Pipeline, args: argparse.Namespace, out: TextIO) -> int:
    _, view = pipeline.call("POST", f"/deployments/{args.id}/abort", {})
    print(
        f"deployment {view['id']} ({view['status']}): abort requested; it ends failed with production "
        "untouched",
        file=out,
    )
    return 0


def dashboard(pipeline: Pipeline, args: argparse.Namespace, out: TextIO) -> int:
    """A signed link to the read-only dashboard, valid for --ttl seconds (anyone with it can look)."""
    expires = int(time.time()) + args.ttl
    token = capability.mint(pipeline.secret, capability.DASHBOARD, "", expires)
    print(f"{pipeline.base_url}/dashboard?token={token}", file=out)
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog=COMMAND, description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    d = _command(
        commands,
        "deploy",
        "notify the controller of a pushed image",
        "Notify the controller that an image was pushed: it deploys it to pre-production, tests it and swaps "
        "it into production (blue/green). Posting the same image and tag again answers the deployment they "
        "already have, even a failed one; --redeploy makes a new attempt once that one has finished.",
    )
    d.add_argument("--image", required=True, help="image reference without tag, e.g. docker.io/acme/app")
    d.add_argument("--tag", required=True, help="the image tag; it becomes the Beanstalk version label")
    d.add_argument("--commit", help="the commit SHA that was built")
    d.add_argument("--build-url", help="the CI build's URL")
    d.add_argument("--repository", help="the commit's GitHub repository, owner/name (GitHub deployments)")
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
    s = _command(
        commands,
        "status",
        "show one deployment",
        "Print one deployment as JSON (its steps, status and error), or with --wait follow it as "
        "`deploy --wait` does.",
    )
    s.add_argument("id", help="the deployment id (d-...)")
    _following(s, "follow the deployment until it finishes; exit 0 only when it succeeds")
    s.set_defaults(run=show)
    ls = _command(
        commands,
        "list",
        "recent deployments, newest first",
        "List recent deployments of the application, newest first: id, status, creation time and version.",
    )
    ls.add_argument("--limit", type=int, default=20, help="how many (1 to 100, default 20)")
    ls.set_defaults(run=list_recent)
    r = _command(
        commands,
        "rollback",
        "swap production back to the previous environment",
        "Swap the CNAMEs back, so production is the previous environment on the previous version again. "
        "Only the latest succeeded deployment can be rolled back, onto a standby that is rollback_ready "
        "(Ready, healthy, on the previous version, no deployment under way: see `environments`); a refusal "
        "says why. The deployment reads rolled_back once production answers the previous version.",
    )
    r.add_argument("id", help="the deployment id (d-...)")
    r.add_argument(
        "--force", action="store_true", help="roll back even onto a standby that is not rollback_ready"
    )
    _following(r, "follow the rollback; exit 0 once production answers the previous version (rolled_back)")
    r.set_defaults(run=rollback)
    e = _command(
        commands,
        "environments",
        "production and the standby, and whether a rollback could run now",
        "Show production and the standby (environment, version, status, health, URL) and whether the "
        "standby is rollback_ready, or why not. Exit 0 when it is, 1 when it is not.",
    )
    e.set_defaults(run=environments)
    p = _command(
        commands,
        "promote",
        "a deployment awaiting promotion goes on to the swap",
        "A deployment held after its smoke test (deploy --hold, status awaiting_promotion) goes on to the "
        "CNAME swap.",
    )
    p.add_argument("id", help="the deployment id (d-...)")
    _following(p, "follow the deployment; exit 0 only when it succeeds")
    p.set_defaults(run=promote)
    a = _command(
        commands,
        "abort",
        "end a queued, held or not yet swapped deployment (failed, production untouched)",
        "End a deployment that is queued, held, or running before its CNAME swap was requested: it ends "
        "failed and production is untouched. Once the swap was requested, roll back instead.",
    )
    a.add_argument("id", help="the deployment id (d-...)")
    a.set_defaults(run=abort)
    dash = _command(
        commands,
        "dashboard",
        "print a signed, expiring link to the read-only dashboard",
        "Print a link to the controller's dashboard: production and pre-production, the latest deployments "
        "with their steps (refreshing by itself), digests, and promote/abort/rollback buttons where allowed. "
        "Anyone with the link can look until it expires, like a presigned URL.",
    )
    dash.add_argument(
        "--ttl", type=_ttl, default=3600, help="seconds the link stays valid (default 3600, at most 30 days)"
    )
    dash.set_defaults(run=dashboard)
    return root


def _ttl(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 30 * 24 * 3600:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number of seconds from 1 to 2592000")
    return int(raw)


def _command(commands: Any, name: str, summary: str, description: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(name, help=summary, description=description)
    return parser


def _following(command: argparse.ArgumentParser, what: str) -> None:
    command.add_argument("--wait", action="store_true", help=what)
    command.add_argument("--timeout", type=float, default=1800.0, help="seconds --wait waits (default 1800)")
    command.add_argument("--interval", type=float, default=5.0, help=argparse.SUPPRESS)


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    args = parser().parse_args(argv)
    url, secret = os.environ.get("PIPELINE_URL"), os.environ.get("PIPELINE_SECRET")
    if not url:
        print(f"error: PIPELINE_URL is not set (the controller's base URL, e.g. {EXAMPLE_URL})", file=err)
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
    except Interrupted as interrupted:
        print(
            f"\ninterrupted: deployment {interrupted.deployment_id} goes on without this client; follow it "
            f"with: {COMMAND} status {interrupted.deployment_id} --wait",
            file=err,
        )
        return INTERRUPTED
    except KeyboardInterrupt:
        print(
            f"\ninterrupted: a request may have reached the controller before; {COMMAND} list shows its "
            "deployments",
            file=err,
        )
        return INTERRUPTED
    return code
