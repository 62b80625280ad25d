"""The AWS emulation as a server: moto's server with the Elastic Beanstalk extension, on loopback only.

    python -m sandbox.aws [--port N]      # prints "ready http://127.0.0.1:N", runs until SIGINT/SIGTERM

In-process (hooks stay plain Python callables, the backend is shared with the caller):

    url, stop = sandbox.aws.start(port=0)  # port 0 picks a free one
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType

from moto.server import ThreadedMotoServer

from sandbox import beanstalk

HOST = "127.0.0.1"


def start(port: int = 0) -> tuple[str, Callable[[], None]]:
    """Start moto's server with the extension in this process; returns (endpoint URL, stop)."""
    beanstalk.install()
    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    server.start()
    _, bound = server.get_host_and_port()
    return f"http://{HOST}:{bound}", server.stop


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.aws",
        description="Emulated AWS (moto + Elastic Beanstalk deployment API) on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port (default 0: pick a free one)")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be within 0..65535, got {args.port}")

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
