"""A pytest plugin for running moto's own tests with the extension loaded (see test_moto_suite.py)."""

from __future__ import annotations

from typing import Any

from moto.elasticbeanstalk.models import eb_backends

import moto_ext


def pytest_terminal_summary(terminalreporter: Any) -> None:
    loaded = eb_backends.backend is moto_ext.BeanstalkBackend
    terminalreporter.write_line(f"moto_ext.elasticbeanstalk extension loaded: {loaded}")
