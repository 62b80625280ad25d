"""The source bundle Elastic Beanstalk deploys: a zip holding `Dockerrun.aws.json` (version 1).

Reading names the image to run; building makes the bundle the sandbox registers for the first version
(the same shape the controller uploads, contract §2 step 1).
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass

DOCKERRUN = "Dockerrun.aws.json"


class BundleError(ValueError):
    """The source bundle cannot be deployed; the message says why, as a deployment event would."""


@dataclass(frozen=True)
class ImageRef:
    repository: str
    tag: str

    def __str__(self) -> str:
        return f"{self.repository}:{self.tag}"


def parse_image(reference: str) -> ImageRef:
    """Split `repo[:port]/name[:tag][@digest]` into repository and tag (`latest` when untagged)."""
    name = reference.split("@", 1)[0]
    last_slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > last_slash:
        return ImageRef(repository=name[:colon], tag=name[colon + 1 :])
    return ImageRef(repository=name, tag="latest")


def read_image(bundle: bytes) -> ImageRef:
    """The image a source bundle asks for, from its `Dockerrun.aws.json` `Image.Name`."""
    try:
        with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
            raw = archive.read(DOCKERRUN)
    except zipfile.BadZipFile as error:
        raise BundleError(f"The source bundle is not a valid zip file: {error}.") from error
    except KeyError as error:
        raise BundleError(f"The source bundle has no {DOCKERRUN} at its root.") from error
    try:
        document = json.loads(raw)
    except ValueError as error:
        raise BundleError(f"{DOCKERRUN} is not valid JSON: {error}.") from error
    image = document.get("Image") if isinstance(document, dict) else None
    name = image.get("Name") if isinstance(image, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise BundleError(f"{DOCKERRUN} has no Image.Name.")
    return parse_image(name.strip())


def build_bundle(image: ImageRef, container_port: int = 8080) -> bytes:
    """A version-1 Docker source bundle for `image` (Dockerrun.aws.json alone, as the controller makes it)."""
    dockerrun = {
        "AWSEBDockerrunVersion": "1",
        "Image": {"Name": str(image), "Update": "true"},
        "Ports": [{"ContainerPort": str(container_port)}],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(DOCKERRUN, json.dumps(dockerrun, indent=2))
    return buffer.getvalue()
