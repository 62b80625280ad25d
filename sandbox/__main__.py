"""The sandbox's command line (contract §3).

    python -m sandbox demo [--keep] [--docker]   # the guided blue/green demonstration
    python -m sandbox up [--docker]              # everything up, one JSON line on stdout, until a signal
        [--realistic]                            # AWS's timings and transient behaviours, compressed
        [--fault NAME ...]                       # force a rough edge of real Beanstalk on every deployment
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from sandbox.beanstalk import Fault
from sandbox.demo import DEMO_TAGS, Demo
from sandbox.lifetime import run_until_signalled
from sandbox.stack import DOCKER_IMAGE, PROCESS_IMAGE, Options, Stack

DESCRIPTION = "The whole delivery pipeline on one machine: emulated AWS, live blue/green, the controller."


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="the guided demonstration: deploy, fail safely, roll back")
    demo.add_argument("--keep", action="store_true", help="leave it all running at the end (Ctrl-C stops)")
    up = commands.add_parser("up", help="everything up; prints one JSON line; runs until SIGINT/SIGTERM")
    for command in (demo, up):
        command.add_argument(
            "--docker",
            action="store_true",
            help="run each version's image from the local registry 127.0.0.1:5000 instead of a process",
        )
    up.add_argument(
        "--realistic",
        action="store_true",
        help="AWS's timings and transient behaviours, compressed so a deploy takes seconds: environments "
        "launch, health is Yellow a while after each update, new instances answer 503 while they register, "
        "DNS keeps the old target a while after a swap",
    )
    up.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME",
        choices=[fault.value for fault in Fault],
        help="force one of real Beanstalk's rough edges on every deployment (repeatable): "
        + ", ".join(fault.value for fault in Fault),
    )
    args = parser.parse_args(argv)
    options = Options(
        docker=args.docker,
        image_repository=DOCKER_IMAGE if args.docker else PROCESS_IMAGE,
        publish_tags=DEMO_TAGS if args.docker and args.command == "demo" else (),
        realistic=getattr(args, "realistic", False),
        faults=tuple(Fault.named(name) for name in getattr(args, "fault", [])),
    )

    if args.command == "up":
        return run_until_signalled(Stack(options), _print_info, wait=True)
    def guided(stack: Stack) -> int:
        return Demo(stack, keep=args.keep).run()

    return run_until_signalled(Stack(options), guided, wait=args.keep)


def _print_info(stack: Stack) -> int:
    assert stack.info is not None
    print(json.dumps(stack.info.as_json()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
