"""`--docker`: each instance is the bundle's image from the local registry, run by the Docker engine
(as Beanstalk's Docker platform runs `Dockerrun.aws.json` v1 on an instance), on the host network.

The container gets the same environment properties as a process (`sandbox.live.app_settings`), with the shared
SQLite store in a directory bind-mounted into every container.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.live.app_settings import app_settings
from sandbox.live.dockerrun import ImageRef

STORE_MOUNT = "/sandbox-store"
STORE_FILE = "store.sqlite3"
LABEL = "deliverypipeline.sandbox"
STOP_GRACE_S = 5


@dataclass
class DockerLauncher:
    """Pulls and runs images; `store_dir` is shared by all containers (mode 0777: the app is not root)."""

    store_dir: Path
    log_dir: Path

    def start(self, name: str, image: ImageRef, port: int) -> ContainerInstance:
        import docker

        engine = docker.from_env()
        engine.images.pull(image.repository, tag=image.tag)  # EB's "docker pull"; fails for unknown images
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.store_dir.chmod(0o777)
        settings = app_settings(image, port, Path(STORE_MOUNT) / STORE_FILE)
        container = engine.containers.run(
            str(image),
            detach=True,
            network_mode="host",
            environment=settings,
            volumes={str(self.store_dir): {"bind": STORE_MOUNT, "mode": "rw"}},
            name=f"{name}-{image.tag}-{port}",
            labels={LABEL: name},
        )
        return ContainerInstance(image=image, port=port, container=container)


@dataclass
class ContainerInstance:
    image: ImageRef
    port: int
    container: Any

    def exit_status(self) -> str | None:
        import docker.errors

        try:
            self.container.reload()
        except docker.errors.NotFound:
            return "was removed"
        if self.container.status not in ("exited", "dead"):
            return None
        code = self.container.attrs.get("State", {}).get("ExitCode")
        logs = self.container.logs(tail=3).decode(errors="replace")
        tail = " | ".join(line.strip() for line in logs.splitlines() if line.strip())
        return f"exited with code {code}" + (f": {tail}" if tail else "")

    def stop(self) -> None:
        import docker.errors

        with contextlib.suppress(docker.errors.NotFound):
            self.container.stop(timeout=STOP_GRACE_S)
        with contextlib.suppress(docker.errors.NotFound):
            self.container.remove(force=True)
