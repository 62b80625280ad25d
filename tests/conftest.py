"""Fixtures shared by the test folders."""

from __future__ import annotations

from typing import Any

import pytest

from tests.prerequisites import unavailable


@pytest.fixture(scope="session")
def docker_engine() -> Any:
    """A client of the local Docker engine (`make docker-engine` brings one up on Debian)."""
    import docker

    try:
        client = docker.from_env(timeout=900)
        client.ping()
    except Exception as error:  # docker raises several unrelated types when there is no engine
        unavailable(f"no Docker engine ({error}); run scripts/docker-engine.sh first")
    return client


# Every AWS call the controller makes in any test is checked against its function's IAM policy.
from tests.infra.iam_plugin import (  # noqa: E402
    controller_calls_are_allowed,  # noqa: F401
    pytest_collection_modifyitems,  # noqa: F401
    pytest_configure,  # noqa: F401
)

# The parity suite's options (--aws, --endpoint-url, --record, --snapshot-dir), known to every run.
from tests.parity.options import pytest_addoption  # noqa: E402, F401
