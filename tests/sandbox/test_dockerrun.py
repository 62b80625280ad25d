"""Reading the image a source bundle names, as Beanstalk's Docker platform does."""

from __future__ import annotations

import io
import zipfile

import pytest

from sandbox.live.app_settings import app_settings, cannot_start
from sandbox.live.dockerrun import BundleError, ImageRef, build_bundle, parse_image, read_image


@pytest.mark.parametrize(
    ("reference", "repository", "tag"),
    [
        (
            "docker.io/acme/deliverypipeline:1.0.42-3f2a1bc",
            "docker.io/acme/deliverypipeline",
            "1.0.42-3f2a1bc",
        ),
        ("127.0.0.1:5000/deliverypipeline:2.0.0", "127.0.0.1:5000/deliverypipeline", "2.0.0"),
        ("127.0.0.1:5000/deliverypipeline", "127.0.0.1:5000/deliverypipeline", "latest"),
        ("acme/app:v1@sha256:abcd", "acme/app", "v1"),
    ],
)
def test_the_tag_is_what_follows_the_last_colon_of_the_name(
    reference: str, repository: str, tag: str
) -> None:
    assert parse_image(reference) == ImageRef(repository, tag)


def test_a_built_bundle_reads_back_as_its_image() -> None:
    image = ImageRef("docker.io/acme/deliverypipeline", "1.0.0")

    assert read_image(build_bundle(image)) == image


def _zip(**files: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("bundle", "message"),
    [
        (b"not a zip", "The source bundle is not a valid zip file"),
        (_zip(readme="hi"), "The source bundle has no Dockerrun.aws.json at its root."),
        (_zip(**{"Dockerrun.aws.json": "{"}), "Dockerrun.aws.json is not valid JSON"),
        (_zip(**{"Dockerrun.aws.json": '{"Image": {}}'}), "Dockerrun.aws.json has no Image.Name."),
    ],
)
def test_an_undeployable_bundle_says_why(bundle: bytes, message: str) -> None:
    with pytest.raises(BundleError, match=message):
        read_image(bundle)


def test_a_broken_tag_is_started_with_a_port_the_app_rejects(tmp_path) -> None:
    broken = ImageRef("acme/app", "3.0.0-broken")
    fine = ImageRef("acme/app", "3.0.0")

    assert cannot_start(broken) and not cannot_start(fine)
    assert app_settings(broken, 8081, tmp_path / "db")["PORT"] == "broken"
    assert app_settings(fine, 8081, tmp_path / "db") == {
        "HOST": "127.0.0.1",
        "PORT": "8081",
        "WEB_THREADS": "4",
        "APP_VERSION": "3.0.0",
        "SQLITE_PATH": str(tmp_path / "db"),
    }
