"""The Makefile as a newcomer meets it: a bare `make` lists what it can do, `make up`'s stdout is its one JSON
line (even on a fresh machine, while it sets up .venv), and `make test` builds the docs strictly."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _make(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """make as a person runs it: not nested in another make (which would add "Entering directory")."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    return subprocess.run(
        ["make", "--no-print-directory", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def _phony_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    declaration = re.search(r"^\.PHONY:((?:.*\\\n)*.*)$", text, re.M)
    assert declaration is not None
    return set(declaration.group(1).replace("\\\n", " ").split())


def test_a_bare_make_lists_every_target_with_its_help_and_builds_nothing() -> None:
    bare = _make()
    assert bare.returncode == 0, bare.stderr
    assert bare.stdout == _make("help").stdout
    entries = [line for line in bare.stdout.splitlines() if re.match(r"  [a-z][a-z-]* {2,}\S", line)]
    listed = {line.split()[0] for line in entries}
    assert _phony_targets() <= listed, f"targets without a `## ` help line: {_phony_targets() - listed}"
    assert re.search(r"^  demo +The main job: ", bare.stdout, re.M)
    assert re.search(r"^  test +Every test: ", bare.stdout, re.M)
    assert "installing" not in bare.stdout + bare.stderr


def test_make_up_prints_only_its_json_line_on_stdout_while_it_sets_up_the_venv(tmp_path: Path) -> None:
    """A fresh machine: no .venv yet. A stand-in virtualenv whose pip talks on stdout and whose python
    answers `-m sandbox up` with one JSON line: make's own command lines and the set-up's progress must not
    reach stdout."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    for name in ("pip", "python"):
        (venv / "bin" / name).write_text(
            "#!/bin/sh\n"
            'if [ "$1 $2" = "-m pip" ]; then echo "Collecting everything"; exit 0; fi\n'
            'printf \'{"argv": "%s"}\\n\' "$*"\n'
        )
        (venv / "bin" / name).chmod(0o755)

    up = _make("up", f"VENV={venv}")

    assert up.returncode == 0, up.stdout + up.stderr
    assert len(up.stdout.splitlines()) == 1, up.stdout
    assert json.loads(up.stdout) == {"argv": "-m sandbox up"}
    assert "installing the pinned requirements" in up.stderr and "Collecting everything" in up.stderr
    assert (venv / ".installed").exists()


def test_make_test_builds_the_docs_strictly_and_lints_the_imports() -> None:
    planned = _make("-n", "test")
    assert planned.returncode == 0, planned.stderr
    (docs_build,) = [line for line in planned.stdout.splitlines() if "mkdocs build" in line]
    assert "--strict" in docs_build
    assert "--quiet" not in docs_build  # it hides the warnings --strict counts: the build would pass
    assert "lint-imports" in planned.stdout
    assert re.search(r"-m pytest\s*$", planned.stdout, re.M)


def test_make_demo_still_runs_the_demo() -> None:
    planned = _make("-n", "demo")
    assert planned.returncode == 0, planned.stderr
    assert planned.stdout.splitlines()[-1].endswith("-m sandbox demo")
