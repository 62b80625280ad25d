"""The AWS emulation as a server: moto's server with the Elastic Beanstalk and CloudFormation extensions,
on loopback only.

    python -m sandbox.aws [--port N] [--pace aws|compressed]
                                          # prints "ready http://127.0.0.1:N", runs until SIGINT/SIGTERM

In-process (hooks stay plain Python callables, the backend is shared with the caller):

    url, stop = sandbox.aws.start(port=0)  # port 0 picks a free one
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType

from moto.moto_api._internal.models import moto_api_backend
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from sandbox import awslambda, beanstalk, cloudformation

HOST = "127.0.0.1"


def start(port: int = 0) -> tuple[str, Callable[[], None]]:
    """Start moto's server with the extension in this process; returns (endpoint URL, stop).

    What moto's ThreadedMotoServer does, except that the port is bound before this returns, so a busy
    port raises OSError here instead of leaving a thread that never serves. moto keeps its state per
    process, not per server: `stop` resets it, so the emulated account dies with its server, as it does
    when `python -m sandbox.aws` exits, and the next server in this process starts from an empty account.
    """
    awslambda.install()
    beanstalk.install()
    cloudformation.install()
    app = DomainDispatcherApplication(create_backend_app)
    try:
        server = make_server(HOST, port, app, threaded=True, request_handler=MotoRequestHandler)
    except SystemExit:  # werkzeug reports a failed bind by exiting
        raise OSError(errno.EADDRINUSE, os.strerror(errno.EADDRINUSE)) from None
    thread = threading.Thread(target=server.serve_forever, name="sandbox-aws", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        moto_api_backend.reset()

    return f"http://{HOST}:{server.server_port}", stop


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.aws",
        description="Emulated AWS (moto + Elastic Beanstalk deployment API) on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port (default 0: pick a free one)")
    parser.add_argument(
        "--pace",
        choices=sorted(beanstalk.PACES),
        default="aws",
        help="how long Beanstalk's operations take. aws (default): AWS's orders of magnitude - an "
        "environment launches in 300 s, an update settles in 120 s, a swap in 20 s, a termination in 240 s. "
        "compressed: the same shape in seconds - launch 3 s, update 2 s, swap 1.5 s, termination 1 s "
        "(what `python -m sandbox up --realistic` runs). POST /moto-api/beanstalk/timings changes them later",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be within 0..65535, got {args.port}")
    beanstalk.set_default_timings(beanstalk.PACES[args.pace])

    stopping = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        url, stop = start(args.port)
    except OSError as error:
        print(f"sandbox.aws: cannot listen on {HOST}:{args.port}: {error.strerror}", file=sys.stderr)
        return 1
    print(f"ready {url}", flush=True)
    while not stopping.wait(timeout=1.0):
        pass
    stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
