"""`python failing_sync.py FLAG`: `python -m webapp`, whose syncs of the SQLite log fail with EIO while the
file FLAG exists - a disk that loses a write, reported only when the log is synced."""

from __future__ import annotations

import errno
import os
import runpy
import sys
from pathlib import Path

flag = Path(sys.argv.pop(1))
real_fdatasync = os.fdatasync


def fdatasync(fd: int) -> None:
    if flag.exists():
        raise OSError(errno.EIO, os.strerror(errno.EIO))
    real_fdatasync(fd)


os.fdatasync = fdatasync
runpy.run_module("webapp", run_name="__main__", alter_sys=True)
