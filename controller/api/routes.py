"""The Chalice app: signed HTTP routes and the SQS reconcile handler (`reconcile_tick`).

Handlers are thin: authenticate, validate, read or write the store, enqueue a tick. Nothing here waits for
Beanstalk; `tick.run` does one reconcile step per SQS message and requeues itself with DelaySeconds.

The module imports only Chalice at load time; each handler imports what it uses (boto3 included) on
first use, so a cold start costs about what an empty Chalice app costs (see bench/controller.py).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

from chalice.app import Chalice, Request, Response, SQSEvent

from controller.shell import logline

APP_NAME = "deliverypipeline"
# The queue's name at import time only shapes `chalice deploy`'s event source; the packaged template
# points the event source at the merge template's queue (see .chalice/resources.json).
RECONCILE_QUEUE = os.environ.get("RECONCILE_QUEUE", "deliverypipeline-dev-reconcile")
DEFAULT_LIST_LIMIT = 20
MAX_LIST_LIMIT = 100

app = Chalice(app_name=APP_NAME)


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(body),
        status_code=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return _json(status, {"error": message, "status": status}, headers)


@app.middleware("http")
def _errors_in_one_shape(request: Request, get_response: Callable[[Request], Response]) -> Response:
    """Every error this API answers is `{"error": "...", "status": N}`, including those Chalice answers
    itself before any view runs, in its own `{"Code", "Message"}` shape: `415` for a Content-Type a route
    does not accept (Chalice checks a route's `content_types` first), `405` for a method it lacks."""
    response = get_response(request)
    body = response.body
    if not (isinstance(body, dict) and set(body) == {"Code", "Message"}):
        return response
    message = str(body["Message"])
    if response.status_code == 415:
        message = f"Content-Type must be application/json, not {request.headers.get('content-type')!r}"
    headers = {k: str(v) for k, v in (response.headers or {}).items() if k.lower() != "content-type"}
    return _error(response.status_code, message, headers)


def _request() -> Request:
    request = app.current_request
    assert request is not None, "called outside a request"
    return request


def _body() -> bytes:
    raw = _request().raw_body or b""
    return raw.encode() if isinstance(raw, str) else bytes(raw)


def _signed_path() -> str:
    """The route path without stage prefix or query string: the resource template, parameters filled in
    (the same in API Gateway, `chalice local` and chalice.test.Client)."""
    request = _request()
    path = str(request.context.get("resourcePath") or request.path)
    for name, value in (request.uri_params or {}).items():
        path = path.replace("{" + name + "}", str(value))
    return path


def _signed_body() -> bytes | Response:
    """The raw body of a request within the size limit and signed with the shared secret, else the
    413 / 401 (or 500 on bad configuration) that refuses it. Every route but /health goes through here."""
    from controller.core import notification

    body = _body()
    if len(body) > notification.MAX_BODY_BYTES:
        return _error(413, f"body is {len(body)} bytes; the limit is {notification.MAX_BODY_BYTES}")
    denied = _authenticate(body)
    return body if denied is None else denied


def _authenticate(body: bytes) -> Response | None:
    """None when the request is signed with the shared secret, else the 401 (or 500 on bad config)."""
    from controller.client import signing
    from controller.core.config import ConfigError
    from controller.shell import runtime

    request = _request()
    headers = request.headers
    timestamp = headers.get(signing.TIMESTAMP_HEADER)
    signature = headers.get(signing.SIGNATURE_HEADER)
    if not timestamp or not signature:
        return _error(401, f"missing {signing.TIMESTAMP_HEADER} or {signing.SIGNATURE_HEADER} header")
    try:
        key = runtime.current().signing_secret()
    except ConfigError as error:
        return _error(500, f"controller misconfigured: {error}")
    except Exception as error:  # the SSM parameter could not be read
        return _aws_failure(error)
    problem = signing.verify(key, timestamp, signature, request.method, _signed_path(), body, time.time())
    if problem is not None:
        logline.emit("rejected", status=401, reason=problem, path=_signed_path())
        return _error(401, problem)
    return None


def _spend_signature() -> Response | None:
    """None on a signed mutating request's first use, else the 409 (see controller/api/people.py)."""
    from controller.api import people

    return people.spend_signature()


def _aws_failure(error: Exception) -> Response:
    """An AWS call of a route failed: 503 when trying again may help, else 500; re-raised when it is not an
    AWS error at all."""
    from controller.shell import aws_errors

    classified = aws_errors.classify(error)
    if classified is None:
        raise error
    logline.emit("aws_error", path=_request().path, kind=classified.kind.value, error=str(classified))
    if classified.transient:
        return _error(503, f"AWS is not answering right now, try again: {classified}")
    return _error(500, f"controller cannot use AWS: {classified}")


def _unknown(deployment_id: str) -> Response:
    shown = deployment_id if len(deployment_id) <= 40 else deployment_id[:40] + "…"
    return _error(404, f"no deployment {shown}")


# --- routes -------------------------------------------------------------------------------------------


@app.middleware("http")
def within_api_gateway_limit(event: Request, get_response: Any) -> Response:
    """Every request's AWS calls and checks fit in API Gateway's 29 s (controller.shell.budgets)."""
    from controller.shell import budgets, deadline

    with deadline.within(budgets.API):
        return get_response(event)  # type: ignore[no-any-return]


@app.route("/health", methods=["GET"])
def health() -> dict[str, str]:
    """The controller answers: 200 {"status": "ok"}, without a signature."""
    return {"status": "ok"}


@app.route("/deployments", methods=["POST"], content_types=["application/json"])
def create_deployment() -> Response:
    """A pushed image to deploy: 202 and Location for a new deployment, 200 with the one it already has.

    Body: {"image", "tag", "commit"?, "build_url"?, "promotion"?: "auto" | "manual", "redeploy"?: true}.
    The same image and tag posted again answer their latest deployment (200), even a failed one; with
    "redeploy" a new attempt once that one has finished (202). 400, 401, 413 and 415 start nothing and call
    no AWS API.
    """
    body = _signed_body()
    if isinstance(body, Response):
        return body
    from controller.core import notification

    parsed = notification.parse(body, _request().headers.get("content-type"))
    if isinstance(parsed, notification.Rejection):
        return _error(parsed.status, parsed.message)
    replayed = _spend_signature()
    if replayed is not None:
        return replayed

    from controller.core import records
    from controller.core.model import Status
    from controller.shell import intake, runtime

    rt = runtime.current()
    try:
        from controller.api import people

        taken = intake.take(parsed, rt, people.base_url())
        if isinstance(taken, str):
            return _error(409, taken)
        if not taken.created:
            existing = taken.deployment
            if existing.status is Status.QUEUED:  # heal a notification whose first tick was never queued
                rt.enqueue(existing.id, 0)
            return _json(200, records.to_view(existing))
    except Exception as error:
        return _aws_failure(error)
    created = taken.deployment
    try:
        rt.enqueue(created.id, 0)
    except Exception as error:
        return _unscheduled(created, error)
    logline.emit(
        "deployment",
        deployment_id=created.id,
        status=created.status.value,
        image=created.image,
        tag=created.tag,
        attempt=created.attempt,
        promotion=created.promotion.value,
    )
    view = {
        "id": created.id,
        "status": created.status.value,
        "version_label": created.version_label,
        "promotion": created.promotion.value,
        "attempt": created.attempt,
        "links": {"self": f"/deployments/{created.id}"},
    }
    return _json(202, view, {"Location": f"/deployments/{created.id}"})


def _unscheduled(d: Any, error: Exception) -> Response:
    """The deployment is recorded but its first tick could not be queued: it fails with the reason (a
    queued record nothing would ever move is worse), and the answer says so."""
    from controller.core.decision import fail
    from controller.shell import aws_errors, runtime

    classified = aws_errors.classify(error, "SendMessage")
    if classified is None:
        raise error
    rt = runtime.current()
    now = rt.clock()
    failed = fail(d, now, f"its first tick could not be queued: {classified}").deployment
    rt.store.save(failed, now)
    logline.transitions(d, failed)
    status = 503 if classified.transient else 500
    return _error(status, f"deployment {d.id} failed: its first tick could not be queued: {classified}")


@app.route("/deployments", methods=["GET"])
def list_deployments() -> Response:
    """Recent deployments of the application, newest first: {"deployments": [...]}.

    Query: limit, 1 to 100 (default 20).
    """
    denied = _signed_body()
    if isinstance(denied, Response):
        return denied
    params: dict[str, str] = dict(_request().query_params or {})
    raw = params.get("limit", str(DEFAULT_LIST_LIMIT))
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIST_LIMIT:
        return _error(400, f"limit must be a whole number from 1 to {MAX_LIST_LIMIT}")
    from controller.core import records
    from controller.shell import runtime

    rt = runtime.current()
    try:
        found = rt.store.recent(rt.config.eb_application, int(raw))
    except Exception as error:
        return _aws_failure(error)
    return _json(200, {"deployments": [records.to_view(d) for d in found]})


@app.route("/deployments/{deployment_id}", methods=["GET"])
def get_deployment(deployment_id: str) -> Response:
    """One deployment with its steps, status and error; 404 if unknown."""
    denied = _signed_body()
    if isinstance(denied, Response):
        return denied
    from controller.core import records
    from controller.core.model import is_deployment_id
    from controller.shell import runtime

    if not is_deployment_id(deployment_id):
        return _unknown(deployment_id)
    try:
        d = runtime.current().store.get(deployment_id)
    except Exception as error:
        return _aws_failure(error)
    if d is None:
        return _unknown(deployment_id)
    return _json(200, records.to_view(d))


@app.route("/deployments/{deployment_id}/rollback", methods=["POST"], content_types=["application/json"])
def rollback_deployment(deployment_id: str) -> Response:
    """The latest succeeded deployment's CNAMEs swap back (202; the record reads rolled_back once production
    answers the previous version), else 409 with the reason. Body `{}`, or `{"force": true}` to roll back
    onto a standby that is not rollback_ready."""
    from controller.shell import interventions

    return _intervene(deployment_id, interventions.rollback, _rollback_options)


def _rollback_options(body: bytes) -> dict[str, Any] | Response:
    """`force` from a rollback's body (empty, `{}` or `{"force": true|false}`, with the client's
    `request_id` that makes each signed request unique), else the 400."""
    if not body.strip():
        return {"force": False}
    try:
        parsed = json.loads(body)
    except ValueError:
        return _error(400, 'the body must be JSON: {} or {"force": true}')
    if (
        not isinstance(parsed, dict)
        or set(parsed) - {"force", "request_id"}
        or not isinstance(parsed.get("force", False), bool)
        or not isinstance(parsed.get("request_id", ""), str)
    ):
        return _error(400, 'the body must be {} or {"force": true} (force: a boolean)')
    return {"force": bool(parsed.get("force", False))}


@app.route("/deployments/{deployment_id}/promote", methods=["POST"], content_types=["application/json"])
def promote_deployment(deployment_id: str) -> Response:
    """A deployment awaiting promotion goes on to the swap (202), else 409."""
    from controller.shell import interventions

    return _intervene(deployment_id, interventions.promote)


@app.route("/deployments/{deployment_id}/abort", methods=["POST"], content_types=["application/json"])
def abort_deployment(deployment_id: str) -> Response:
    """A deployment queued, running before the swap or awaiting promotion ends failed (202), else 409."""
    from controller.shell import interventions

    return _intervene(deployment_id, interventions.abort)


@app.route("/environments", methods=["GET"])
def environments() -> Response:
    """Production and the standby (name, version, health, cname, url), with the standby's rollback_ready and
    why."""
    denied = _signed_body()
    if isinstance(denied, Response):
        return denied
    from controller.shell import runtime, standby

    try:
        return _json(200, standby.describe(runtime.current()))
    except Exception as error:
        return _aws_failure(error)


def _intervene(deployment_id: str, request: Any, options: Any = None) -> Response:
    """A signed request about one deployment (rollback, promote, abort): `request(id, runtime, **options)`
    answers the deployment it changed (202) or why it refused (interventions.Refused: its status and
    reason); `options(body)` reads the request's options from its body (or answers the 400)."""
    body = _signed_body()
    if isinstance(body, Response):
        return body
    chosen = {} if options is None else options(body)
    if isinstance(chosen, Response):
        return chosen
    from controller.core import records
    from controller.core.model import is_deployment_id
    from controller.shell import interventions, logline, runtime

    if not is_deployment_id(deployment_id):
        return _unknown(deployment_id)
    replayed = _spend_signature()
    if replayed is not None:
        return replayed
    try:
        with logline.about(deployment_id):  # the request's AWS calls are the deployment's
            outcome = request(deployment_id, runtime.current(), **chosen)
    except Exception as error:
        return _aws_failure(error)
    if isinstance(outcome, interventions.Refused):
        return _error(outcome.status, outcome.reason)
    return _json(202, records.to_view(outcome))


# --- where people are: one-click links and the dashboard (no signature headers: the token is the capability)
# The views are in controller/api/people.py (imported on first use: a cold start pays for none of it).

FORM_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data", "application/json", "text/plain"]


@app.route("/actions/{token}", methods=["GET"])
def look_at_action(token: str) -> Response:
    """A one-click link's confirmation page; changes nothing (chat unfurlers and scanners are harmless)."""
    from controller.api import people

    return people.look_at_action(token)


@app.route("/actions/{token}", methods=["POST"], content_types=FORM_TYPES)
def use_action(token: str) -> Response:
    """Perform a one-click link's action, once (202); 409 when the state no longer allows it, 410 used,
    403 expired or tampered."""
    from controller.api import people

    return people.use_action(token)


@app.route("/dashboard", methods=["GET"])
def dashboard() -> Response:
    """The read-only dashboard for a signed, expiring link (`python -m controller.client dashboard`)."""
    from controller.api import people

    return people.dashboard()


# --- the reconcile loop -------------------------------------------------------------------------------


@app.on_sqs_message(queue=RECONCILE_QUEUE, batch_size=1)
def reconcile_tick(event: SQSEvent) -> None:
    """A tick the controller queued for a deployment, or one of Beanstalk's events (EventBridge delivers
    them to the same queue), which wakes the deployment holding the lease."""
    from controller.shell import beanstalk_events, budgets, deadline, runtime, tick, tick_queue

    rt = runtime.current()
    for record in event:
        with deadline.within(budgets.TICK):
            message = tick_queue.parse(record.body)
            if message is not None:
                tick.run(message, rt)
                continue
            news = beanstalk_events.parse(record.body)
            if news is not None:
                tick.wake(news, rt)
                continue
            logline.emit("tick_ignored", reason="malformed message", body=record.body[:200])
