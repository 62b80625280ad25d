"""Headless Chromium driven through chromedriver's W3C WebDriver protocol (plain HTTP + JSON, stdlib only):
Debian's `chromium` and `chromium-driver`, which .ci/run installs."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.prerequisites import unavailable

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C key of an element reference
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


class Browser:
    def __init__(self, driver_url: str, session: str) -> None:
        self._base = f"{driver_url}/session/{session}"

    def go(self, url: str) -> None:
        self._call("POST", "/url", {"url": url})

    def source(self) -> str:
        return str(self._call("GET", "/source"))

    def find(self, css: str) -> str:
        found = self._call("POST", "/element", {"using": "css selector", "value": css})
        return str(found[ELEMENT])

    def text(self, css: str) -> str:
        return str(self._call("GET", f"/element/{self.find(css)}/text"))

    def click(self, css: str) -> None:
        self._call("POST", f"/element/{self.find(css)}/click", {})

    def wait_for(self, text: str, timeout_s: float = 20.0) -> str:
        """The page source once it shows `text` (the page may reload by itself meanwhile)."""
        deadline = time.monotonic() + timeout_s
        while True:
            page = self.source()
            if text in page:
                return page
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not on the page after {timeout_s} s:\n{page[:3000]}")
            time.sleep(0.2)

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return _request(method, self._base + path, body)


@contextmanager
def chromium(tmp_path: Path) -> Iterator[Browser]:
    if CHROMIUM is None or DRIVER is None:
        unavailable("headless Chromium or chromedriver is missing (apt-get install chromium chromium-driver)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    driver = subprocess.Popen(
        [DRIVER, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url)
        options = {
            "binary": CHROMIUM,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                f"--user-data-dir={tmp_path / 'profile'}",
            ],
        }
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": options}}}
        session = _request("POST", f"{url}/session", caps)["sessionId"]
        try:
            yield Browser(url, session)
        finally:
            _request("DELETE", f"{url}/session/{session}")
    finally:
        driver.terminate()
        driver.wait(timeout=10)


def _wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if _request("GET", f"{url}/status").get("ready"):
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("chromedriver did not start")


def _request(method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"{}").get("value")
