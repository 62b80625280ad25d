"""The body of `POST /deployments`, validated into a Notification or the reason it is rejected."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

MAX_BODY_BYTES = 16 * 1024
MAX_TAG_LENGTH = 100  # Docker allows 128; a Beanstalk version label (the tag) allows 100

# Docker reference grammar (distribution/reference): [domain[:port]/]path-component(/path-component)*
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_DOMAIN = rf"{_LABEL}(?:\.{_LABEL})*(?::[0-9]+)?"
# Matched whole (fullmatch): `$` would also accept a trailing newline, which would end up in Dockerrun.
_IMAGE = re.compile(rf"(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_COMMIT = re.compile(r"[0-9a-fA-F]{4,64}")
_URL = re.compile(r"https?://[!-~]+")  # printable ASCII, no spaces or control characters
# A GitHub repository `owner/name` (owner: letters, digits, '-'; name: also '.' and '_').
_REPOSITORY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")


PROMOTIONS = ("auto", "manual")


@dataclass(frozen=True)
class Notification:
    image: str
    tag: str
    commit: str | None = None
    build_url: str | None = None
    promotion: str = "auto"  # "manual": held in awaiting_promotion after the smoke test
    redeploy: bool = False  # a new deployment when the image and tag's latest one has finished
    repository: str | None = None  # GitHub `owner/name` of `commit` (GitHub deployments are made for it)


@dataclass(frozen=True)
class Rejection:
    status: int
    message: str


def parse(body: bytes, content_type: str | None) -> Notification | Rejection:
    if len(body) > MAX_BODY_BYTES:
        return Rejection(413, f"body is {len(body)} bytes; the limit is {MAX_BODY_BYTES}")
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type != "application/json":
        return Rejection(415, "Content-Type must be application/json")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        return Rejection(400, f"body is not valid JSON: {error}")
    except RecursionError:
        return Rejection(400, "body is not valid JSON: nested too deeply")
    if not isinstance(data, dict):
        return Rejection(400, "body must be a JSON object")
    image, tag = data.get("image"), data.get("tag")
    if not isinstance(image, str) or not image:
        return Rejection(400, "missing field: image")
    if len(image) > 255 or not _IMAGE.fullmatch(image):
        return Rejection(400, f"invalid image reference {image!r} (expected e.g. docker.io/acme/app, no tag)")
    if not isinstance(tag, str) or not tag:
        return Rejection(400, "missing field: tag")
    if not _TAG.fullmatch(tag):
        return Rejection(
            400, f"invalid Docker tag {tag!r} (letters, digits, '_', '.', '-'; not starting with . or -)"
        )
    if len(tag) > MAX_TAG_LENGTH:
        return Rejection(
            400, f"tag is {len(tag)} characters; a Beanstalk version label allows {MAX_TAG_LENGTH}"
        )
    commit, build_url = data.get("commit"), data.get("build_url")
    if commit is not None and (not isinstance(commit, str) or not _COMMIT.fullmatch(commit)):
        return Rejection(400, "commit must be a hex commit SHA")
    if build_url is not None and (
        not isinstance(build_url, str) or len(build_url) > 2048 or not _URL.fullmatch(build_url)
    ):
        return Rejection(400, "build_url must be an http(s) URL")
    repository = data.get("repository")
    if repository is not None and (
        not isinstance(repository, str) or not _REPOSITORY.fullmatch(repository) or ".." in repository
    ):
        return Rejection(400, "repository must be a GitHub repository: owner/name")
    promotion, redeploy = data.get("promotion", "auto"), data.get("redeploy", False)
    if promotion not in PROMOTIONS:
        return Rejection(400, f"promotion must be {' or '.join(repr(p) for p in PROMOTIONS)}")
    if not isinstance(redeploy, bool):
        return Rejection(400, "redeploy must be true or false")
    return Notification(image, tag, commit, build_url, promotion, redeploy, repository)
