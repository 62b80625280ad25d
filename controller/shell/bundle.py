"""The Beanstalk source bundle for an image: Dockerrun.aws.json (v1) alone.

No `.ebextensions`: configuration files make every deployment a configuration update of the environment's
CloudFormation stack, which needs far more permissions downstream. The environments set their health check
path themselves (infra/pipeline.yaml)."""

from __future__ import annotations

import io
import json
import zipfile

# Fixed timestamp: the same image always gives byte-identical bundles.
_EPOCH = (2020, 1, 1, 0, 0, 0)
MAX_DESCRIPTION = 200  # Beanstalk refuses longer descriptions


def source_bundle(image: str, tag: str, registry_auth: tuple[str, str] | None = None) -> bytes:
    """The bundle's bytes; `registry_auth` (bucket, key) names the .dockercfg with which the instances pull
    a private image (Dockerrun v1 "Authentication")."""
    dockerrun: dict[str, object] = {
        "AWSEBDockerrunVersion": "1",
        "Image": {"Name": f"{image}:{tag}", "Update": "true"},
        "Ports": [{"ContainerPort": "8080"}],
    }
    if registry_auth is not None:
        bucket, key = registry_auth
        dockerrun["Authentication"] = {"Bucket": bucket, "Key": key}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo("Dockerrun.aws.json", _EPOCH), json.dumps(dockerrun, indent=2) + "\n"
        )
    return buffer.getvalue()


def image_of(bundle: bytes) -> str | None:
    """The image a source bundle runs (Dockerrun.aws.json v1 `Image.Name`), or None if it is not one."""
    try:
        with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
            dockerrun = json.loads(archive.read("Dockerrun.aws.json"))
        name = dockerrun["Image"]["Name"]
    except (zipfile.BadZipFile, KeyError, TypeError, ValueError):
        return None
    return name if isinstance(name, str) else None


def version_description(image: str, tag: str) -> str:
    """The application version's description: the image reference, cut to Beanstalk's 200 characters
    (the bundle, not the description, says which image a version runs)."""
    text = f"{image}:{tag}"
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "…"


def bundle_key(application: str, label: str) -> str:
    return f"{application}/{label}.zip"
