"""Every AWS call the controller's Lambda functions make, recorded at botocore's boundary.

`BaseClient._make_api_call` is where every client call (any client, any session, any retry setting, a
paginator's pages) passes once, before signing and retries, so the recording survives the controller's
refactorings: it needs no hook in `controller/`. A call counts as the controller's when it is made inside
one of its Lambda handlers: the outermost frame from `controller/api/routes.py` on the stack names the
function - an `@app.on_sqs_message` (or other event source) handler by its own name, anything else (the
routes and their helpers) the API function, `api_handler`. Calls made outside the handlers (tests arranging
AWS, the sandbox provisioning) are not the controller's and are not recorded.

In-process: `install()`. In a subprocess (the sandbox runs the controller in its own process): put
`recording/` on PYTHONPATH and name a directory in DELIVERYPIPELINE_AWS_CALL_LOG; its sitecustomize installs
the recorder when botocore is first imported and each process appends JSON lines to its own file there.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import FrameType
from typing import Any

LOG_DIR_VARIABLE = "DELIVERYPIPELINE_AWS_CALL_LOG"
API_FUNCTION = "api_handler"  # Chalice's name for the function behind API Gateway
HANDLERS_MODULE = "controller/api/routes.py"
# The controller's configuration that names AWS resources: what a call's resources are derived from.
CONFIG_VARIABLES = (
    "EB_APPLICATION",
    "PROD_CNAME_PREFIX",
    "ARTIFACT_BUCKET",
    "DEPLOYMENTS_TABLE",
    "RECONCILE_QUEUE",
    "SIGNING_SECRET_PARAM",
    "GITHUB_TOKEN_SECRET",
    "CHAT_WEBHOOK_URL_SECRET",
)


@dataclass(frozen=True)
class Call:
    function: str  # the Lambda function (Chalice name) that made it
    service: str  # botocore's service name, e.g. "elasticbeanstalk"
    operation: str  # the API operation, e.g. "UpdateEnvironment"
    params: dict[str, Any]
    region: str
    config: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @staticmethod
    def from_json(line: str) -> Call:
        return Call(**json.loads(line))

    def __str__(self) -> str:
        return f"{self.function}: {self.service}.{self.operation}"


Sink = Callable[[Call], None]
_sinks: list[Sink] = []
_lock = threading.Lock()
_original: list[Callable[..., Any]] = []


def install() -> None:
    """Patch botocore once; calls go to every sink registered with `listen` (idempotent)."""
    from botocore.client import BaseClient

    with _lock:
        if _original:
            return
        original = BaseClient._make_api_call
        _original.append(original)

        def recording_make_api_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            function = lambda_function_on_stack(sys._getframe(1))
            if function is not None and _sinks:
                call = Call(
                    function=function,
                    service=client.meta.service_model.service_name,
                    operation=operation_name,
                    params=_plain(api_params),
                    region=client.meta.region_name,
                    config={name: os.environ[name] for name in CONFIG_VARIABLES if name in os.environ},
                )
                for sink in list(_sinks):
                    sink(call)
            return original(client, operation_name, api_params)

        BaseClient._make_api_call = recording_make_api_call  # type: ignore[method-assign]


def listen(sink: Sink) -> Callable[[], None]:
    """Send every recorded call to `sink` until the returned function is called."""
    with _lock:
        _sinks.append(sink)

    def stop() -> None:
        with _lock:
            if sink in _sinks:
                _sinks.remove(sink)

    return stop


def lambda_function_on_stack(frame: FrameType | None) -> str | None:
    """The Lambda function whose handler is running on this stack, or None outside the handlers."""
    outermost: str | None = None
    while frame is not None:
        if frame.f_code.co_filename.replace(os.sep, "/").endswith(HANDLERS_MODULE):
            outermost = frame.f_code.co_name
        frame = frame.f_back
    if outermost is None:
        return None
    api = sys.modules.get("controller.api.routes")
    event_handlers = {source.name for source in getattr(getattr(api, "app", None), "event_sources", [])}
    return outermost if outermost in event_handlers else API_FUNCTION


def append_to_directory(directory: Path) -> Sink:
    """A sink writing one JSON line per call to this process's file in `directory`."""
    path = directory / f"calls-{os.getpid()}.jsonl"

    def write(call: Call) -> None:
        with _lock, path.open("a", encoding="utf-8") as out:
            out.write(call.as_json() + "\n")

    return write


def read_directory(directory: Path) -> Iterator[Call]:
    for path in sorted(directory.glob("calls-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield Call.from_json(line)


def _plain(value: Any) -> Any:
    """Parameters as JSON: dates as ISO text, bytes and streams replaced by a marker."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return "<bytes:" + base64.b64encode(value[:16]).decode() + ">"
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return f"<{type(value).__name__}>"
