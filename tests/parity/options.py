"""The parity suite's command line (tests/conftest.py registers it, so `pytest tests/parity --aws` and a
plain `pytest` both know it).

    pytest tests/parity                           against the emulation (started by the suite)
    pytest tests/parity --aws                     against real AWS (PARITY_ACCOUNT_ID must be the account)
    pytest tests/parity --endpoint-url URL        against any AWS-compatible endpoint
    ... --record [--snapshot-dir DIR]             write what the target answered instead of comparing
"""

from __future__ import annotations

from pathlib import Path

import pytest

DEFAULT_SNAPSHOT_DIR = Path(__file__).resolve().parent / "snapshots"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("parity", "parity with AWS (tests/parity)")
    group.addoption(
        "--aws",
        action="store_true",
        default=False,
        help="run tests/parity against real AWS (credentials from the standard chain; refused unless "
        "PARITY_ACCOUNT_ID is the credentials' account)",
    )
    group.addoption(
        "--endpoint-url",
        default=None,
        metavar="URL",
        help="run tests/parity against this AWS-compatible endpoint instead of starting the emulation",
    )
    group.addoption(
        "--record",
        action="store_true",
        default=False,
        help="write what the target answered into --snapshot-dir instead of comparing with it",
    )
    group.addoption(
        "--snapshot-dir",
        type=Path,
        default=DEFAULT_SNAPSHOT_DIR,
        metavar="DIR",
        help="where the snapshots are (default tests/parity/snapshots)",
    )
