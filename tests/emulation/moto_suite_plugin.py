"""A pytest plugin for running moto's own tests with the extension loaded (see test_moto_suite.py)."""

from __future__ import annotations

from typing import Any

from moto.elasticbeanstalk.models import eb_backends

from sandbox import beanstalk


def pytest_terminal_summary(terminalreporter: Any) -> None:
    loaded = eb_backends.backend is beanstalk.BeanstalkBackend
    terminalreporter.write_line(f"sandbox.beanstalk extension loaded: {loaded}")
