"""What some tests need from the machine: a Docker engine, a registry, headless Chromium.

When one is missing such a test skips with the reason; under CI=true, where `.ci/run` installs and starts
all of them, a missing one is a failure instead, so a broken CI machine can never pass by skipping.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)
