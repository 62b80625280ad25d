"""`python -m sandbox.aws [--port N]`: the AWS emulation alone (`moto_ext.server`: moto's server with the
Elastic Beanstalk and CloudFormation extensions) on 127.0.0.1, until SIGINT/SIGTERM (contract §3).

    python -m sandbox.aws [--port N] [--pace aws|compressed]

Prints `ready http://127.0.0.1:N` on stdout once it accepts requests; moto's request log goes to stderr,
in colour only on a terminal. A port it cannot listen on is said once, on stderr, with exit code 1.
`--pace` picks how long Beanstalk's operations take (see --help).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from moto_ext.elasticbeanstalk import PACES, set_default_timings
from moto_ext.server import HOST, start_server


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.aws",
        description="Emulated AWS (moto + Elastic Beanstalk deployment API) on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port (default 0: pick a free one)")
    parser.add_argument(
        "--pace",
        choices=sorted(PACES),
        default="aws",
        help="how long Beanstalk's operations take. aws (default): AWS's orders of magnitude - an "
        "environment launches in 300 s, an update settles in 120 s, a swap in 20 s, a termination in 240 s. "
        "compressed: the same shape in seconds - launch 3 s, update 2 s, swap 1.5 s, termination 1 s "
        "(what `python -m sandbox up --realistic` runs). POST /moto-api/beanstalk/timings changes them later",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be within 0..65535, got {args.port}")
    set_default_timings(PACES[args.pace])

    stopping = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        url, stop = start_server(args.port)
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
