"""Shared fixtures of the sandbox tests: process-tree inspection for clean-shutdown checks (Linux /proc), and
progress shown live while a long end-to-end test waits for the sandbox."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from followed_process import Progress


def descendants(pid: int) -> set[int]:
    """Every live process whose parent chain leads to `pid`."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'
        fields = stat.rsplit(")", 1)[1].split()
        parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = [pid]
    while frontier:
        current = frontier.pop()
        children = {child for child, parent in parents.items() if parent == current}
        frontier.extend(children - found)
        found |= children
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def processes() -> SimpleNamespace:
    """`processes.descendants(pid)` and `processes.alive(pid)`."""
    return SimpleNamespace(descendants=descendants, alive=alive)


# ----- progress: the long end-to-end tests say what they wait for, live, with output captured --------------


@pytest.fixture(scope="module")
def progress(request: pytest.FixtureRequest) -> Iterator[Progress]:
    """`progress(line)` shows the line in pytest's output at once, even while output is captured (no `-s`
    needed), prefixed by the test module: a sandbox test that runs for minutes is not silent.

    Only the main thread may lift pytest's capture for a moment; lines from other threads (the sandbox's
    deploy hooks) wait for the next line of the main thread, or the end of the module."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    label = request.module.__name__.rsplit(".", 1)[-1]
    waiting: list[str] = []
    lock = threading.Lock()

    def show(line: str) -> None:
        with lock:
            waiting.append(line.rstrip())
            if threading.current_thread() is not threading.main_thread() or reporter is None:
                return
            lines, waiting[:] = list(waiting), []
            with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
                if request.config.get_terminal_writer().width_of_current_line:
                    reporter.write("\n")  # after the test progress dots
                for shown in lines:
                    reporter.write_line(f"  [{label}] {shown}")

    yield show
    if waiting:  # lines of other threads the main thread has not shown yet
        show("(end of the module's tests)")
