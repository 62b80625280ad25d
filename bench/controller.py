"""Controller benchmark: `python -m bench.controller [--json]` (figures are printed, never asserted).

1. Deployments whose Beanstalk update takes about 10 simulated minutes (POLL_INTERVAL_S=15), side by side
   in one run: with Beanstalk's events delivered (EventBridge -> the reconcile queue, through the rule of
   the controller's template), and with every event lost (polling alone). The emulation's clock and the
   controller's move together; each requeued tick is delivered when its DelaySeconds have passed and each
   event when Beanstalk sends it (tests/controller/controller_harness.py). Each column runs UPDATES
   lengths spread evenly over one safety-poll interval around 10 minutes, because how late polling notices
   the end depends on where the end falls between two polls; the figures are the mean (lead time, billed
   time) and the worst (AWS calls) of the lengths. Each length runs in a world of its own, three
   deployments an hour apart (green, blue, green): the third is measured, its environment's past update
   (the first) being what the safety poll is scheduled from; the first, with no past at all, is shown too
   (`lead_overhead_polling_first_s`).
   - lead overhead: from Beanstalk finishing the update (its "Environment update completed successfully."
     event) to the SwapEnvironmentCNAMEs request, in simulated seconds plus the wall time of the handlers
     that ran in between (the simulated clock stands still while a handler runs).
   - AWS calls per deployment, by operation, counted with botocore's `before-call` event hook, the drain's
     and the metric analysis' included (GetMetricData, DescribeEnvironmentResources). Production has users
     (USERS_PER_MINUTE, each minute published by its load balancer to CloudWatch, as ELB does), so the
     analysis judges from the first whole minute after the swap; a third column has none, the analysis'
     worst case (it finds too little traffic to judge).
   - billed: wall time inside the handlers (what Lambda bills), beside what one handler waiting inside
     Lambda for the whole deployment would bill.
2. Cold import of the Lambda entry module (app.py) vs a bare Chalice hello-world, in fresh interpreters.
3. The deployment zip's size from `chalice package`.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The simulated world (moto + emulation + simulated clock and queue) is the one the tests use.
sys.path.insert(0, str(ROOT / "tests" / "controller"))

POLL_INTERVAL_S = 15
USERS_PER_MINUTE = 600  # production's users: 10 requests a second
EVIDENCE = ("cloudwatch.", "elasticbeanstalk.DescribeEnvironmentResources")
UPDATES = 4  # update lengths per column, evenly over one safety-poll interval centred on 10 minutes
DEPLOYMENTS = 3  # in a row per world (green, blue, green): the last is measured, the first has no past
APART_S = 3600  # between two deployments (the drain finds the previous production left by its users)
TAG = "1.0.42"
IMPORT_RUNS = 21
HELLO_APP = """\
from chalice import Chalice

app = Chalice(app_name="hello")


@app.route("/")
def index():
    return {"hello": "world"}
"""
IMPORT_PROBE = "import time; t = time.perf_counter(); import app; print(time.perf_counter() - t)"
UPDATE_DONE = "Environment update completed successfully."


@dataclass(frozen=True)
class Run:
    update_s: float
    status: str
    lead_overhead_s: float
    simulated_s: float
    handler_s: float
    deliveries: int
    calls: Counter[str]

    @property
    def aws_calls(self) -> int:
        return sum(self.calls.values())


def update_lengths(safety_poll_s: int) -> list[float]:
    """UPDATES lengths spread evenly over one safety-poll interval, centred on 10 minutes."""
    step = safety_poll_s / UPDATES
    return [600 - safety_poll_s / 2 + step * (i + 0.5) for i in range(UPDATES)]


def deployments(update_s: float, events_lost: bool, users_per_minute: int = USERS_PER_MINUTE) -> list[Run]:
    """DEPLOYMENTS deployments in a row in one world, each Run on its own."""
    from controller_harness import World, process_environment
    from moto import mock_aws

    from controller.shell import logline

    for handler in logging.getLogger(logline.LOGGER).handlers:  # keep the logging cost, not the output
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(io.StringIO())
    os.environ.update(process_environment())
    os.environ["POLL_INTERVAL_S"] = str(POLL_INTERVAL_S)
    with mock_aws():
        world = World(real_sqs=True)  # the real SendMessage too, so it is counted like any other call
        world.be.set_timings(update_s=update_s)  # a swap still takes seconds
        world.be.set_event_delivery(drop=1.0 if events_lost else 0.0)
        world.users.per_minute = users_per_minute
        runs = []
        for n in range(1, DEPLOYMENTS + 1):
            runs.append(_one_deployment(world, update_s, f"{TAG}.{n}"))
            world.clock.advance(APART_S)
        return runs


def _one_deployment(world: Any, update_s: float, tag: str) -> Run:
    started, calls, billed = world.clock.now, Counter(world.calls), world.handler_seconds
    deployment_id = json.loads(world.post_deployment(tag).body)["id"]
    timeline: list[tuple[Any, float]] = []  # (simulated moment, wall seconds of that handler)
    while (message := world.next_message()) is not None:
        before = time.perf_counter()
        world.deliver(message)
        timeline.append((world.clock.now, time.perf_counter() - before))
    record = world.record(deployment_id)
    requested = record.deploy_requested_at
    ended = next(
        e.event_date
        for e in world.be.events
        if e.environment_name == record.preprod_env and e.message == UPDATE_DONE and e.event_date >= requested
    )
    swap = record.swap_requested_at
    assert swap is not None, record
    in_between = sum(seconds for moment, seconds in timeline if ended <= moment <= swap)
    return Run(
        update_s=update_s,
        status=record.status.value,
        lead_overhead_s=(swap - ended).total_seconds() + in_between,
        simulated_s=(record.updated_at - started).total_seconds(),
        handler_s=world.handler_seconds - billed,
        deliveries=len(timeline),
        calls=Counter(world.calls) - calls,
    )


def cold_import() -> tuple[list[float], list[float]]:
    with tempfile.TemporaryDirectory() as hello:
        (Path(hello) / "app.py").write_text(HELLO_APP)
        ours, bare = [], []
        for _ in range(IMPORT_RUNS):  # interleaved, so machine noise hits both alike
            ours.append(_import_seconds(ROOT))
            bare.append(_import_seconds(Path(hello)))
    return ours, bare


def _import_seconds(directory: Path) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout)


def zip_size() -> int:
    with tempfile.TemporaryDirectory() as out:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["AWS_DEFAULT_REGION"] = "us-east-1"
        subprocess.run(
            [str(Path(sys.executable).parent / "chalice"), "package", "--stage", "dev", out],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        return (Path(out) / "deployment.zip").stat().st_size


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.controller", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON line with the figures last")
    args = parser.parse_args(argv)
    from controller.core import config

    safety_poll_s = config.Config(
        "a", "a", "a", "a", "a", None, "s", "us-east-1", poll_interval_s=POLL_INTERVAL_S
    ).safety_poll_s
    lengths = update_lengths(safety_poll_s)
    worlds = {lost: [deployments(u, events_lost=lost) for u in lengths] for lost in (False, True)}
    events, polling = [runs[-1] for runs in worlds[False]], [runs[-1] for runs in worlds[True]]
    first_polling = [runs[0] for runs in worlds[True]]
    quiet = [deployments(u, events_lost=False, users_per_minute=0)[-1] for u in lengths]
    shown = ", ".join(f"{u:.0f}" for u in lengths)
    print("deliverypipeline controller benchmark")
    print(
        f"\n1) one deployment per Beanstalk update length ({shown} s: about 10 minutes, evenly over one "
        f"safety-poll interval of {safety_poll_s} s), POLL_INTERVAL_S={POLL_INTERVAL_S}; each the third in a "
        f"row of its world (its environment updated once before); production's users {USERS_PER_MINUTE}/min "
        "(the last column: none)"
    )
    rows = [
        ("outcome", lambda runs: ", ".join(sorted({r.status for r in runs}))),
        ("lead overhead, mean (s)", lambda runs: f"{_mean(runs, 'lead_overhead_s'):.2f}"),
        ("lead overhead, worst (s)", lambda runs: f"{max(r.lead_overhead_s for r in runs):.2f}"),
        ("AWS calls, worst", lambda runs: str(max(r.aws_calls for r in runs))),
        ("AWS calls, mean", lambda runs: f"{statistics.mean(r.aws_calls for r in runs):.1f}"),
        ("handler invocations, mean", lambda runs: f"{statistics.mean(r.deliveries for r in runs):.1f}"),
        ("billed handler time, mean (s)", lambda runs: f"{_mean(runs, 'handler_s'):.2f}"),
        ("deployment took, mean (simulated s)", lambda runs: f"{_mean(runs, 'simulated_s'):.0f}"),
    ]
    header = ["", "events delivered", "every event lost", "no users"]
    _table(header, [[n, f(events), f(polling), f(quiet)] for n, f in rows])
    print(
        "   targets: lead overhead <= 5 s with events, <= 30 s with every event lost; <= 40 AWS calls in the "
        "worst case (the drain and the analysis included)"
    )
    print(
        "   every event lost, the first deployment of each world (no past update to schedule from): lead "
        f"overhead, mean {_mean(first_polling, 'lead_overhead_s'):.2f} s"
    )
    for title, runs in (("with users", events), ("with no users", quiet)):
        worst_run = max(runs, key=lambda r: r.aws_calls)
        added = {name: n for name, n in worst_run.calls.items() if name.startswith(EVIDENCE)}
        shown_added = ", ".join(f"{n} {name.split('.', 1)[1]}" for name, n in sorted(added.items()))
        print(
            f"   the drain and the analysis {title}: {sum(added.values())} of the worst run's "
            f"{worst_run.aws_calls} calls ({shown_added}); verify's wait for the first whole minute after "
            "the swap adds one re-check (GetItem, TransactWriteItems, SendMessage)"
        )
    print(
        "   the simulated lead overhead leaves out EventBridge's own delivery (typically under a second) "
        "and SQS's hand-over to Lambda"
    )
    worst = max(events, key=lambda r: r.aws_calls)
    print(f"\n   AWS calls of the worst run with events ({worst.update_s:.0f} s update), by operation:")
    for name, count in sorted(worst.calls.items(), key=lambda item: (-item[1], item[0])):
        print(f"   {count:4d}  {name}")
    print(
        f"   a handler waiting inside Lambda for a whole deployment would bill {worst.simulated_s:.0f} s "
        "(and API Gateway cuts at 29 s)"
    )
    ours, bare = cold_import()
    ratio = statistics.median(ours) / statistics.median(bare)
    print(f"\n2) cold import, median (min) of {IMPORT_RUNS} fresh interpreters each, interleaved")
    print(f"   app.py (controller):     {statistics.median(ours) * 1000:6.1f} ms ({min(ours) * 1000:.1f})")
    print(f"   bare Chalice hello-world:{statistics.median(bare) * 1000:6.1f} ms ({min(bare) * 1000:.1f})")
    print(f"   ratio: {ratio:.2f}x (min/min {min(ours) / min(bare):.2f}x; target <= 1.5x)")
    size = zip_size()
    print(f"\n3) deployment zip from `chalice package`: {size / 1024:.1f} KiB (target <= 160 KiB)")
    if args.json:
        figures = {
            "lead_overhead_s": round(_mean(events, "lead_overhead_s"), 3),
            "aws_calls": max(r.aws_calls for r in events),
            "billed_s": round(_mean(events, "handler_s"), 3),
            "lead_overhead_polling_s": round(_mean(polling, "lead_overhead_s"), 3),
            "lead_overhead_polling_first_s": round(_mean(first_polling, "lead_overhead_s"), 3),
            "aws_calls_polling": max(r.aws_calls for r in polling),
            "aws_calls_no_users": max(r.aws_calls for r in quiet),
            "aws_calls_evidence": max(
                sum(n for k, n in r.calls.items() if k.startswith(EVIDENCE)) for r in events
            ),
            "billed_polling_s": round(_mean(polling, "handler_s"), 3),
            "cold_import_ratio": round(ratio, 3),
            "zip_kib": round(size / 1024, 1),
            "update_s": lengths,
            "safety_poll_s": safety_poll_s,
            "outcomes": sorted({r.status for r in events + polling}),
        }
        print(json.dumps(figures))


def _mean(runs: list[Run], name: str) -> float:
    return statistics.mean(float(getattr(r, name)) for r in runs)


def _table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("   " + "  ".join(cells))


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"\n(benchmark took {time.perf_counter() - started:.0f} s)")
