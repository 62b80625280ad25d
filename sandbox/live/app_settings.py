"""The environment properties an environment gives the web app it runs (contract §1).

The sandbox's one convention for "a release that cannot start": an image whose tag ends in `-broken`
(for example `3.0.0-broken`) is started with `PORT=broken`, a setting the web app rejects at start, so
the real app really fails to come up and the environment turns Red exactly as for a crashing container.
The web app itself has no demo switch.
"""

from __future__ import annotations

from pathlib import Path

from sandbox.live.dockerrun import ImageRef
from sandbox.network.ports import LOOPBACK

BROKEN_TAG_SUFFIX = "-broken"
INVALID_PORT = "broken"


def cannot_start(image: ImageRef) -> bool:
    """True for the images the sandbox starts with a configuration the web app rejects."""
    return image.tag.endswith(BROKEN_TAG_SUFFIX)


def app_settings(image: ImageRef, port: int, store: Path, threads: int = 4) -> dict[str, str]:
    """HOST / PORT / WEB_THREADS / APP_VERSION / SQLITE_PATH for one instance of `image` listening on `port`
    of the loopback interface only (an environment is reached through the CNAME front, never from outside)."""
    return {
        "HOST": LOOPBACK,
        "PORT": INVALID_PORT if cannot_start(image) else str(port),
        "WEB_THREADS": str(threads),
        "APP_VERSION": image.tag,
        "SQLITE_PATH": str(store),
    }
