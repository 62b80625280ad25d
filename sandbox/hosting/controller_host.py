"""The controller as AWS runs it, in one local process: API Gateway + Lambda for its routes, and the SQS
event source mapping for `reconcile_tick`.

    python -m sandbox.hosting.controller_host --port N

The environment is the Lambda function's (`EB_APPLICATION`, `RECONCILE_QUEUE`, …, `AWS_ENDPOINT_URL`
pointing at the emulation, `HTTP_PROXY` at the CNAME front). The routes are served by Chalice's local
server; the queue is long-polled and each batch invoked through Chalice's test Lambda client, as the event
source mapping would. Runs until SIGINT/SIGTERM. `sandbox.stack` starts it and waits for `GET /health`.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any

from sandbox.hosting.poller import BATCH_SIZE, Poller
from sandbox.network.ports import LOOPBACK

HANDLER = "reconcile_tick"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.hosting.controller_host", description=__doc__)
    parser.add_argument("--port", type=int, required=True, help="TCP port of the controller's HTTP API")
    args = parser.parse_args(argv)
    queue_name = os.environ.get("RECONCILE_QUEUE")
    if not queue_name:
        print("sandbox.hosting.controller_host: RECONCILE_QUEUE is not set", file=sys.stderr)
        return 2

    stopping = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    import boto3
    from chalice.config import Config
    from chalice.local import create_local_server
    from chalice.test import TestLambdaClient

    from app import app  # the repository root is the working directory (python -m puts it on sys.path)

    # No project config: the sandbox's environment variables are the function's, unpatched.
    config = Config.create(chalice_stage="dev", app_name=app.app_name)
    lambda_client = TestLambdaClient(app, config)

    def invoke(event: dict[str, Any]) -> object:
        return lambda_client.invoke(HANDLER, event).payload

    sqs = boto3.client("sqs")
    queue_url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    poller = Poller(sqs, queue_url, invoke, batch_size=_batch_size(app, HANDLER))
    server = create_local_server(app, config, LOOPBACK, args.port)
    serving = threading.Thread(target=server.serve_forever, name="api", daemon=True)
    serving.start()
    poller.start()
    print(f"ready http://{LOOPBACK}:{args.port}", flush=True)
    try:
        stopping.wait()
    finally:
        poller.stop()
        server.shutdown()
    return 0


def _batch_size(app: Any, handler: str) -> int:
    """The batch size the handler's `@app.on_sqs_message` declares, as its event source mapping uses."""
    from chalice.app import SQSEventConfig

    for source in app.event_sources:
        if isinstance(source, SQSEventConfig) and source.name == handler:
            return int(source.batch_size)
    return BATCH_SIZE


if __name__ == "__main__":
    sys.exit(main())
