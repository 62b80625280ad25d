"""`python -m bench.webapp --help` explains every option, and refuses values it cannot run with."""

from __future__ import annotations

import subprocess
import sys

import pytest
from webapp_process import REPO

from bench.webapp import options


def test_every_option_of_the_benchmark_has_a_help_text() -> None:
    undocumented = [action.dest for action in options()._actions if not action.help]
    assert undocumented == []


def test_help_prints_the_options_and_exits_0() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.webapp", "--help"], cwd=REPO, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0
    for option in ("--processes", "--threads", "--duration", "--rounds", "--connections", "--starts"):
        assert option in done.stdout
    assert "--json" in done.stdout


@pytest.mark.parametrize(("option", "value"), [("--rounds", "0"), ("--duration", "soon"), ("--starts", "-1")])
def test_a_value_it_cannot_run_with_is_refused_naming_the_option(option: str, value: str) -> None:
    with pytest.raises(SystemExit) as exited:
        options().parse_args([option, value])
    assert exited.value.code == 2
