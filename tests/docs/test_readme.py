"""The README is a front door: short, its links lead somewhere, its commands exist, and the commands it and
the docs give run with the project's virtualenv (the system's python3 lacks the pinned packages)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").rglob("*.md"))
MAX_LINES = 250
LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCED_SHELL = re.compile(r"```sh\n(.*?)```", re.S)
# `python -m X` not preceded by the virtualenv's path; the CI client needs only the standard library.
BARE_PYTHON = re.compile(r"(?<![/\w])python3? -m (?!controller\.client\b)([\w.]+)")


def test_the_readme_is_at_most_250_lines() -> None:
    assert len(README.read_text().splitlines()) <= MAX_LINES


def test_every_relative_link_of_the_readme_leads_to_a_file() -> None:
    links = [link for link in LINK.findall(README.read_text()) if "://" not in link]
    assert any(link.startswith("docs/") for link in links), "the README links into the docs"
    missing = [link for link in links if not (ROOT / link.split("#")[0]).is_file()]
    assert not missing, f"README links to files that do not exist: {missing}"


def test_the_two_commands_are_there_unchanged() -> None:
    text = README.read_text()
    assert re.search(r"^make demo +# the main job", text, re.M)
    assert re.search(r"^make test +# every test", text, re.M)


def test_every_make_target_the_readme_names_exists() -> None:
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.M))
    named = set(re.findall(r"`make ([a-z][\w-]*)", README.read_text()))
    assert named, "the README names no make target"
    assert named <= targets, f"not in the Makefile: {sorted(named - targets)}"


@pytest.mark.parametrize("page", [README, *PAGES], ids=lambda p: str(p.relative_to(ROOT)))
def test_shell_snippets_use_the_virtualenvs_python(page: Path) -> None:
    """`python -m sandbox …` with the system's python3 fails with an ImportError: a snippet says
    `.venv/bin/python -m …`, except for the CI client, which needs only the standard library."""
    bare = [
        match.group(0)
        for block in FENCED_SHELL.findall(page.read_text())
        for match in BARE_PYTHON.finditer(block)
    ]
    assert not bare, f"{page.name}: use .venv/bin/python for {bare}"


def test_every_module_the_snippets_run_exists() -> None:
    modules = {
        module
        for page in [README, *PAGES]
        for block in FENCED_SHELL.findall(page.read_text())
        for module in re.findall(r"python3? -m ([\w.]+)", block)
    }
    assert "controller.client" in modules and "sandbox" in modules
    missing = sorted(m for m in modules if m != "pytest" and importlib.util.find_spec(m) is None)
    assert not missing, f"python -m of modules that do not exist: {missing}"
