"""`--docker`: publish this checkout's web app image to the local registry under the tags a run deploys,
as CircleCI's image job publishes to Docker Hub (`docker build` with APP_VERSION, then `docker push`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sandbox.live.dockerrun import ImageRef
from sandbox.live.instances import REPO_ROOT

LOCAL_BASE_IMAGE = "deliverypipeline/python-base:bookworm"  # built by scripts/docker-engine.sh


class PublishError(RuntimeError):
    """An image could not be built or pushed; the message carries the engine's words."""


def publish(images: Iterable[ImageRef], report: Callable[[str], None]) -> None:
    """Build this checkout's image once, tag it as each of `images` and push them.

    One build serves every tag: the environment sets APP_VERSION at run time, and a build per tag costs
    minutes on the local engine's vfs storage.
    """
    import docker
    import docker.errors

    wanted = list(images)
    if not wanted:
        return
    engine = docker.from_env()
    base = _base_image(engine)
    first = wanted[0]
    report(f"sandbox: building {first} from this checkout (base {base or 'the Dockerfile default'})")
    build_args = {"APP_VERSION": first.tag, **({"PYTHON_IMAGE": base} if base else {})}
    try:
        built, _ = engine.images.build(
            path=str(REPO_ROOT), tag=str(first), buildargs=build_args, network_mode="host", rm=True
        )
    except (docker.errors.BuildError, docker.errors.APIError) as error:
        raise PublishError(f"docker build of {first} failed: {error}") from error
    for image in wanted:
        built.tag(image.repository, tag=image.tag)
        report(f"sandbox: pushing {image}")
        for line in engine.images.push(image.repository, tag=image.tag, stream=True, decode=True):
            if "error" in line:
                raise PublishError(f"docker push of {image} failed: {line['error']}")


def _base_image(engine: Any) -> str | None:
    import docker.errors

    try:
        engine.images.get(LOCAL_BASE_IMAGE)
    except docker.errors.ImageNotFound:
        return None
    return LOCAL_BASE_IMAGE
