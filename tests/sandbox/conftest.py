"""Shared fixtures of the sandbox tests: process-tree inspection for clean-shutdown checks (Linux /proc)."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest


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
