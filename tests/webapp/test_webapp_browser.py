"""The page as a person sees it: headless Chromium renders it, the screenshot shows text and the chart."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from png_pixels import colour_counts
from webapp_process import WebappProcess, start_webapp

from tests.prerequisites import unavailable
from webapp.chart import CURRENT, OTHER

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16)


def screenshot(url: str, tmp_path: Path) -> Path:
    if CHROMIUM is None:
        unavailable("headless Chromium is not installed (apt-get install chromium)")
    png = tmp_path / "page.png"
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={png}",
            "--window-size=1200,900",
            url,
        ],
        check=True,
        capture_output=True,
        timeout=90,
    )
    return png


def test_the_page_renders_with_text_and_the_bar_chart(tmp_path: Path) -> None:
    db = tmp_path / "webapp.sqlite3"
    old: WebappProcess = start_webapp(tmp_path, version="1.0.41-9be07d2", sqlite_path=db)
    try:
        for _ in range(3):
            assert old.get("/").status == 200
    finally:
        assert old.stop() == 0
    current = start_webapp(tmp_path, version="1.0.42-<script>x</script>", sqlite_path=db)
    try:
        for _ in range(2):
            assert current.get("/").status == 200
        png = screenshot(current.url + "/", tmp_path)  # the third call of this version
        page_log = current.log()
    finally:
        current.kill()

    assert '"GET / HTTP/1.1" 200' in page_log, "Chromium got the page"
    colours = colour_counts(png)
    pixels = sum(colours.values())
    _, background_pixels = colours.most_common(1)[0]
    assert background_pixels < 0.98 * pixels, "the screenshot is blank"
    assert sum(n for c, n in colours.items() if sum(c) < 200) > 2000, "no dark text on the page"
    assert colours[rgb(CURRENT)] > 1000, "the current version's bar is not drawn"
    assert colours[rgb(OTHER)] > 1000, "the previous version's bar is not drawn"
