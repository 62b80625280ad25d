"""Following a process's output as it comes (the sandbox's commands run for minutes): every line kept, the
chosen ones shown as progress (`progress`, tests/sandbox/conftest.py)."""

from __future__ import annotations

import os
import re
import select
import subprocess
import time
from collections.abc import Callable
from typing import Any

Progress = Callable[[str], None]


class Followed:
    """A process whose piped output (stdout, stderr) is read as it comes: every line kept, the lines
    `shown` picks shown as progress."""

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        show: Progress,
        shown: Callable[[str], bool] = lambda line: True,
    ) -> None:
        self.process = process
        self._show = show
        self._shown = shown
        pipes = [pipe for pipe in (process.stdout, process.stderr) if pipe is not None]
        self._open = {pipe.fileno() for pipe in pipes}
        self._partial = {pipe.fileno(): b"" for pipe in pipes}
        self._lines: dict[int, list[str]] = {pipe.fileno(): [] for pipe in pipes}

    @property
    def stdout(self) -> str:
        return self._text(self.process.stdout)

    @property
    def stderr(self) -> str:
        return self._text(self.process.stderr)

    def follow(
        self,
        timeout_s: float,
        until: Callable[[str], bool] = lambda line: False,
        every: Callable[[], None] = lambda: None,
    ) -> bool:
        """Read until the process has closed its pipes and exited (True), a line satisfies `until` (True),
        or `timeout_s` passes (False); `every()` runs twice a second meanwhile."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            every()
            if not self._open:
                if self.process.poll() is not None:
                    return True
                time.sleep(0.5)
                continue
            ready, _, _ = select.select(sorted(self._open), [], [], 0.5)
            for fd in ready:
                chunk = os.read(fd, 65536)
                if not chunk:  # closed: what is left is the last line
                    self._open.discard(fd)
                    complete = [self._partial[fd]] if self._partial[fd] else []
                    self._partial[fd] = b""
                else:
                    *complete, self._partial[fd] = (self._partial[fd] + chunk).split(b"\n")
                for raw in complete:
                    line = raw.decode(errors="replace")
                    self._lines[fd].append(line + "\n")
                    if self._shown(line):
                        self._show(line)
                    if until(line):
                        return True
        return False

    def _text(self, pipe: Any) -> str:
        return "" if pipe is None else "".join(self._lines[pipe.fileno()])


def sandbox_progress(line: str) -> bool:
    """The sandbox's own progress lines (stderr), the soak's, and the demo's numbered steps."""
    return line.startswith(("sandbox:", "soak:")) or bool(re.match(r"\d+\. ", line))


def run_followed(
    command: list[str],
    show: Progress,
    *,
    timeout_s: float,
    shown: Callable[[str], bool] = lambda line: True,
    **popen: Any,
) -> subprocess.CompletedProcess[str]:
    """`subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)`, showing the lines `shown`
    picks as they come. On timeout the process gets SIGTERM (the sandbox then stops what it started)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)
    followed = Followed(process, show, shown)
    if not followed.follow(timeout_s):
        process.terminate()
        process.wait(timeout=60)
        raise subprocess.TimeoutExpired(command, timeout_s, followed.stdout, followed.stderr)
    return subprocess.CompletedProcess(command, process.wait(), followed.stdout, followed.stderr)
