"""The sandbox's command line (contract §3).

    python -m sandbox demo [--keep] [--docker]   # the guided blue/green demonstration
    python -m sandbox up [--docker]              # everything up, one JSON line on stdout, until a signal
        [--realistic]                            # AWS's timings and transient behaviours, compressed
        [--fault NAME ...]                       # force a rough edge of real Beanstalk on every deployment
    python -m sandbox soak [--deployments N]     # many deployments against `up --realistic`, random faults,
        [--seed S]                               # invariants checked after each; one JSON line last
    python -m sandbox host                       # an empty account that runs what is deployed into it (make
                                                 # provision, make deploy-controller); one JSON line, until a
                                                 # signal: {"aws_endpoint", "region", "front"}

Each command also takes --keep-logs: the controller's and the environments' logs stay in the run directory
(its path is printed at start and again on stop) instead of going with it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from collections.abc import Sequence

from moto_ext import Fault
from sandbox import interruptions
from sandbox.demo import DEMO_TAGS, Demo
from sandbox.lifetime import run_until_signalled
from sandbox.network.inbox import Inbox
from sandbox.stack import DOCKER_IMAGE, PROCESS_IMAGE, Options, Stack

DEMO_TOKEN = "sandbox-demo-token"  # noqa: S105 - what the demo's inbox is sent; it checks no token

DEFAULT_SOAK_DEPLOYMENTS = 20
DESCRIPTION = "The whole delivery pipeline on one machine: emulated AWS, live blue/green, the controller."


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="the guided demonstration: deploy, fail safely, roll back")
    demo.add_argument("--keep", action="store_true", help="leave it all running at the end (Ctrl-C stops)")
    up = commands.add_parser("up", help="everything up; prints one JSON line; runs until SIGINT/SIGTERM")
    commands.add_parser(
        "host",
        help="an empty emulated account that runs whatever is deployed into it (environments, the "
        "controller's stack); prints one JSON line (aws_endpoint, region, front); runs until SIGINT/SIGTERM",
    )
    soak = commands.add_parser(
        "soak",
        help="many deployments against `up --realistic` under random faults, with concurrent notifications, "
        "rollbacks and production traffic; invariants checked after each; one JSON line last",
    )
    soak.add_argument(
        "--deployments",
        type=_positive,
        default=DEFAULT_SOAK_DEPLOYMENTS,
        metavar="N",
        help=f"how many notifications to send (default {DEFAULT_SOAK_DEPLOYMENTS})",
    )
    soak.add_argument(
        "--seed",
        type=int,
        default=None,
        metavar="S",
        help="chooses the rounds, their faults, bursts and rollbacks (default: a random one, printed)",
    )
    for command in (demo, up):
        command.add_argument(
            "--docker",
            action="store_true",
            help="run each version's image from the local registry 127.0.0.1:5000 instead of a process; "
            "needs a local Docker engine and that registry: `make docker-engine` sets both up (Debian)",
        )
    for command in (demo, up, soak):
        command.add_argument(
            "--keep-logs",
            action="store_true",
            help="keep the controller's and the environments' logs when it stops (the run directory is "
            "printed at start and on stop; without this it is deleted)",
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
    if args.command == "host":
        from sandbox.hosted import HostedAccount, print_info

        return run_until_signalled(HostedAccount(), print_info, wait=True)
    if args.command == "soak":
        seed = random.randrange(1 << 31) if args.seed is None else args.seed  # noqa: S311 - not a secret
        return _soak(args.deployments, seed, args.keep_logs)
    options = Options(
        docker=args.docker,
        image_repository=DOCKER_IMAGE if args.docker else PROCESS_IMAGE,
        publish_tags=DEMO_TAGS if args.docker and args.command == "demo" else (),
        realistic=getattr(args, "realistic", False),
        faults=tuple(Fault.named(name) for name in getattr(args, "fault", [])),
        keep_logs=args.keep_logs,
    )

    if args.command == "up":
        return run_until_signalled(Stack(options), _print_info, wait=True)

    # The demo tells its own inbox (sandbox/network/inbox.py) what GitHub and a chat would be told,
    # whatever the environment says: it never reaches out.
    with Inbox() as inbox:
        os.environ.update(GITHUB_API_URL=inbox.url, GITHUB_TOKEN=DEMO_TOKEN, CHAT_WEBHOOK_URL=inbox.chat_url)

        def guided(stack: Stack) -> int:
            return Demo(stack, keep=args.keep, inbox=inbox).run()

        return run_until_signalled(Stack(options), guided, wait=args.keep)


def _soak(deployments: int, seed: int, keep_logs: bool) -> int:
    from sandbox.soak import runner

    def body(stack: Stack) -> int:
        summary = runner.run(stack, deployments, seed, runner.to_stderr)
        print(json.dumps(summary.as_json()), flush=True)
        return 0 if not summary.violations else 1

    return run_until_signalled(Stack(Options(realistic=True, keep_logs=keep_logs)), body, wait=False)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _print_info(stack: Stack) -> int:
    info = stack.info
    assert info is not None
    interruptions.announce_wait(lambda: print(json.dumps(info.as_json()), flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
