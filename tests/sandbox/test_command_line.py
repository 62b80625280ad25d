"""`python -m sandbox`'s help says what a newcomer needs before running a command."""

from __future__ import annotations

import pytest

from sandbox.__main__ import main


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--help"])
    assert exited.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines anywhere


@pytest.mark.parametrize("command", ["up", "demo"])
def test_docker_says_it_needs_make_docker_engine(capsys: pytest.CaptureFixture[str], command: str) -> None:
    text = _help(capsys, command, "--docker")

    assert "--docker run each version's image from the local registry 127.0.0.1:5000" in text
    assert "needs a local Docker engine and that registry: `make docker-engine` sets both up" in text


@pytest.mark.parametrize("command", ["up", "demo", "soak"])
def test_every_command_offers_to_keep_its_logs(capsys: pytest.CaptureFixture[str], command: str) -> None:
    text = _help(capsys, command)

    assert "--keep-logs keep the controller's and the environments' logs when it stops" in text
