"""A signal at any moment of the start of `python -m sandbox up` (and of `demo` and `soak`, which start the
same way) leaves no process and no file behind, and the exit code says which signal it was (issue 23,
item 11): SIGINT 130, SIGTERM 143 (the work was interrupted).

It used to leave a web app running: the signal landed while an environment's first instance was starting,
an `except Exception` around the launcher turned it into "could not be started: ." (exit 1), and an
instance still waiting for its /health was in no list the stop went through; it then re-created the
deleted run directory. Each case sends the signal right after one of the start's progress lines."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from followed_process import Followed, Progress, sandbox_progress

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 180

pytestmark = pytest.mark.slow

MOMENTS = [
    "sandbox: starting the AWS emulation",
    "sandbox: starting deliverypipeline-blue on",
    "sandbox: starting deliverypipeline-green on",
    "sandbox: deploying stacks",
    "sandbox: starting the controller",
]
UP = ("up",)
CASES = [(UP, moment, signal.SIGINT, 130) for moment in MOMENTS] + [
    (UP, MOMENTS[1], signal.SIGTERM, 143),
    (UP, MOMENTS[4], signal.SIGTERM, 143),
    (("demo",), MOMENTS[2], signal.SIGINT, 130),
    (("soak", "--deployments", "1", "--seed", "1"), MOMENTS[1], signal.SIGTERM, 143),
]


def _processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line or environment names `text` (the run directory): what the sandbox
    started, even one that outlived it and was handed to init."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            seen = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
        except OSError:
            continue
        if text.encode() in seen:
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize(
    ("command", "moment", "signum", "code"),
    CASES,
    ids=[f"{c[0]}: {s.name} after {m.split(': ')[1]}" for c, m, s, _ in CASES],
)
def test_a_signal_during_the_start_leaves_nothing_behind(
    command: tuple[str, ...],
    moment: str,
    signum: signal.Signals,
    code: int,
    processes: SimpleNamespace,
    progress: Progress,
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", *command], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    followed = Followed(process, progress, sandbox_progress)
    seen: set[int] = set()

    def watch() -> None:
        seen.update(processes.descendants(process.pid))

    try:
        assert followed.follow(START_TIMEOUT_S, until=lambda line: line.startswith(moment), every=watch), (
            followed.stderr
        )
        run_dir = re.search(r"files in (\S+)$", followed.stderr, re.M)
        assert run_dir, followed.stderr
        process.send_signal(signum)
        followed.follow(60, every=watch)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=60)

    assert process.returncode == code, followed.stderr
    assert f"{signum.name} received, stopping everything" in followed.stderr
    assert followed.stderr.rstrip().endswith("sandbox: stopped"), followed.stderr
    assert "could not be started" not in followed.stderr
    if command == UP:
        assert followed.stdout == ""  # never half a JSON line
    assert not [pid for pid in seen if processes.alive(pid)]
    time.sleep(2)  # anything still running would re-create the run directory by now
    assert not Path(run_dir[1]).exists(), run_dir[1]
    assert _processes_mentioning(run_dir[1]) == []
