"""Controller benchmark: `python -m bench.controller` (figures are printed, never asserted).

1. One deployment whose Beanstalk update takes 10 simulated minutes (POLL_INTERVAL_S=15): the emulation's
   clock and the controller's clock move together, and each requeued tick is delivered when its
   DelaySeconds have passed in simulated time. Wall time spent inside handlers (what Lambda bills) is
   printed beside what one handler waiting inside Lambda for the whole deployment would bill.
2. AWS API calls for that deployment, by operation, counted with botocore's `before-call` event hook.
3. Cold import of the Lambda entry module (app.py) vs a bare Chalice hello-world, in fresh interpreters.
4. The deployment zip's size from `chalice package`.
"""

from __future__ import annotations

import io
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The simulated world (moto + emulation + simulated clock and queue) is the one the tests use.
sys.path.insert(0, str(ROOT / "tests" / "controller"))

UPDATE_S = 600
POLL_INTERVAL_S = 15
TAG = "1.0.42-3f2a1bc"
IMPORT_RUNS = 21
HELLO_APP = """\
from chalice import Chalice

app = Chalice(app_name="hello")


@app.route("/")
def index():
    return {"hello": "world"}
"""
IMPORT_PROBE = "import time; t = time.perf_counter(); import app; print(time.perf_counter() - t)"


def one_deployment() -> dict[str, Any]:
    from controller_harness import GREEN, World, process_environment
    from moto import mock_aws

    from controller import logline

    for handler in logging.getLogger(logline.LOGGER).handlers:  # keep the logging cost, not the output
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(io.StringIO())
    os.environ.update(process_environment())
    os.environ["POLL_INTERVAL_S"] = str(POLL_INTERVAL_S)
    with mock_aws():
        world = World(real_sqs=True)  # the real SendMessage too, so it is counted like any other call
        world.be.settle_after_s = UPDATE_S

        def swap_settles_quickly(w: Any, _message: Any) -> None:
            green = w.environments()[GREEN]
            if green.status == "Ready" and green.version_label == TAG:
                w.be.settle_after_s = 5.0  # the update took 10 minutes; a CNAME swap takes seconds

        started = world.clock.now
        response = world.post_deployment(TAG)
        deployment_id = json.loads(response.body)["id"]
        ticks = sum(1 for _ in world.run(on_message=swap_settles_quickly))
        record = world.record(deployment_id)
        return {
            "status": record.status.value,
            "simulated_s": (record.updated_at - started).total_seconds(),
            "ticks": ticks,
            "handler_s": world.handler_seconds,
            "calls": dict(world.calls),
        }


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


def main() -> None:
    print("deliverypipeline controller benchmark")
    run = one_deployment()
    calls = run["calls"]
    total_calls = sum(calls.values())
    per_container = calls.get("ssm.GetParameter", 0) + calls.get("sqs.GetQueueUrl", 0)
    print(
        f"\n1) one deployment, Beanstalk update of {UPDATE_S // 60} simulated minutes, "
        f"POLL_INTERVAL_S={POLL_INTERVAL_S}"
    )
    print(f"   outcome: {run['status']} after {run['simulated_s'] / 60:.1f} simulated minutes")
    print(f"   invocations: 1 POST + {run['ticks']} reconcile ticks")
    print(f"   wall time inside handlers:            {run['handler_s']:6.2f} s   (target <= 3 s)")
    print(
        f"   a handler waiting inside Lambda bills: {run['simulated_s']:6.0f} s   "
        "(and API Gateway cuts at 29 s)"
    )
    print(
        "   note: moto answers in-process (~1-5 ms a call); at ~30 ms per real AWS call the handlers would "
        f"spend about {run['handler_s'] + total_calls * 0.03:.1f} s"
    )
    print(
        f"\n2) AWS API calls for that deployment: {total_calls} "
        f"(target <= 60; {per_container} of them once per container)"
    )
    for name, count in sorted(calls.items(), key=lambda item: (-item[1], item[0])):
        print(f"   {count:4d}  {name}")
    ours, bare = cold_import()
    ratio = statistics.median(ours) / statistics.median(bare)
    print(f"\n3) cold import, median (min) of {IMPORT_RUNS} fresh interpreters each, interleaved")
    print(f"   app.py (controller):     {statistics.median(ours) * 1000:6.1f} ms ({min(ours) * 1000:.1f})")
    print(f"   bare Chalice hello-world:{statistics.median(bare) * 1000:6.1f} ms ({min(bare) * 1000:.1f})")
    print(f"   ratio: {ratio:.2f}x (min/min {min(ours) / min(bare):.2f}x; target <= 1.5x)")
    size = zip_size()
    print(f"\n4) deployment zip from `chalice package`: {size / 1024:.1f} KiB (target <= 100 KiB)")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"\n(benchmark took {time.perf_counter() - started:.0f} s)")
