"""What a rehearsal runs against and with which image, from its command line and environment, checked
before anything starts: each problem is a `SettingsError` naming the option or variable.

On AWS the deployments need an image of this web app that the account's instances can pull (CircleCI's
image job pushes them; the rehearsal pushes nothing), in two tags whose /health answers their own tag. The
broken deployment is the good tag with `-broken` appended, which no registry has (AWS cannot pull it; the
sandbox runs tags ending in `-broken` with a setting the web app refuses).
"""

from __future__ import annotations

import argparse
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

IMAGE_VARIABLE = "REHEARSAL_IMAGE"
GOOD_TAG_VARIABLE = "REHEARSAL_GOOD_TAG"
HELD_TAG_VARIABLE = "REHEARSAL_HELD_TAG"
ACCOUNT_VARIABLE = "REHEARSAL_ACCOUNT_ID"
SANDBOX_IMAGE = "docker.io/acme/deliverypipeline"  # the sandbox runs any reference as this checkout
SANDBOX_TAGS = ("2.0.0", "2.1.0")
BROKEN_SUFFIX = "-broken"
_PREFIX = re.compile(r"^reh-[0-9a-f]{6}$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")  # Docker's tag grammar
_IMAGE = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$")


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    prefix: str  # every name the rehearsal gives starts with it
    image: str
    good_tag: str
    held_tag: str
    endpoint_url: str | None  # None: AWS
    front_url: str | None  # with endpoint_url: the sandbox's CNAME front (an HTTP proxy)
    keep: bool
    out_dir: Path
    reference: Path  # what the emulation did (emulation-reference.json)
    write_reference: Path | None  # --write-reference: this run's shapes become the reference
    remove: bool = False  # --remove PREFIX: delete what a kept rehearsal left, nothing else

    @property
    def on_aws(self) -> bool:
        return self.endpoint_url is None

    @property
    def broken_tag(self) -> str:
        return self.good_tag + BROKEN_SUFFIX

    @property
    def infra_stack(self) -> str:
        return self.prefix

    @property
    def controller_stack(self) -> str:
        return f"{self.prefix}-controller"


def parser() -> argparse.ArgumentParser:
    found = argparse.ArgumentParser(
        prog="python -m rehearsal",
        description="The pipeline once in a throwaway AWS account (or the sandbox): provision, deploy good, "
        "broken, held + promoted, roll back, report, tear down.",
        epilog=f"On AWS: credentials from the standard chain, and {ACCOUNT_VARIABLE} set to their account "
        "(anything else is refused). Exit codes: 0 as expected, 1 a deployment ended otherwise or something "
        "failed, 2 refused, 130 interrupted.",
    )
    found.add_argument(
        "--image",
        help=f"a public repository of this web app's images (default ${IMAGE_VARIABLE}; on the sandbox any "
        f"reference, default {SANDBOX_IMAGE})",
    )
    found.add_argument("--good-tag", help=f"a tag of --image that works (default ${GOOD_TAG_VARIABLE})")
    found.add_argument(
        "--held-tag", help=f"another working tag, deployed held then promoted (default ${HELD_TAG_VARIABLE})"
    )
    found.add_argument(
        "--endpoint-url", help="an AWS-compatible endpoint instead of AWS (the sandbox's aws_endpoint)"
    )
    found.add_argument(
        "--front", help="with --endpoint-url: the sandbox's CNAME front (its cname_proxy), an HTTP proxy"
    )
    found.add_argument(
        "--keep", action="store_true", help="leave everything running and say how to remove it"
    )
    found.add_argument(
        "--out",
        type=Path,
        default=Path("rehearsal-report"),
        help="where the report goes (default ./rehearsal-report)",
    )
    found.add_argument(
        "--reference",
        type=Path,
        default=Path(__file__).resolve().parent / "emulation-reference.json",
        help=argparse.SUPPRESS,
    )
    found.add_argument("--write-reference", type=Path, default=None, help=argparse.SUPPRESS)
    found.add_argument(
        "--remove", metavar="PREFIX", help="delete what the rehearsal PREFIX left running (after --keep)"
    )
    return found


def settings(argv: Sequence[str] | None, environ: Mapping[str, str]) -> Settings:
    args = parser().parse_args(argv)
    endpoint = args.endpoint_url
    if args.front and not endpoint:
        raise SettingsError("--front goes with --endpoint-url (the sandbox's front); on AWS there is none")
    if endpoint and not args.front:
        raise SettingsError(
            "--endpoint-url needs --front: the sandbox's CNAME front (cname_proxy in `make up`)"
        )
    on_aws = endpoint is None
    if args.remove:
        if not _PREFIX.match(args.remove):
            raise SettingsError(
                f"--remove {args.remove!r} is not a rehearsal's prefix (reh- and 6 hex digits)"
            )
        return Settings(
            prefix=args.remove,
            image="",
            good_tag="",
            held_tag="",
            endpoint_url=endpoint.rstrip("/") if endpoint else None,
            front_url=args.front.rstrip("/") if args.front else None,
            keep=False,
            out_dir=args.out,
            reference=args.reference,
            write_reference=None,
            remove=True,
        )
    image = args.image or environ.get(IMAGE_VARIABLE) or ("" if on_aws else SANDBOX_IMAGE)
    good = args.good_tag or environ.get(GOOD_TAG_VARIABLE) or ("" if on_aws else SANDBOX_TAGS[0])
    held = args.held_tag or environ.get(HELD_TAG_VARIABLE) or ("" if on_aws else SANDBOX_TAGS[1])
    if not image:
        raise SettingsError(
            f"on AWS the rehearsal needs --image (or {IMAGE_VARIABLE}): a public repository of this web "
            "app's images, as CircleCI's image job pushes them (the rehearsal pushes nothing)"
        )
    if not _IMAGE.match(image.split("@")[0]):
        raise SettingsError(f"--image {image!r} is not an image reference without a tag")
    for option, variable, tag in (
        ("--good-tag", GOOD_TAG_VARIABLE, good),
        ("--held-tag", HELD_TAG_VARIABLE, held),
    ):
        if not tag:
            raise SettingsError(
                f"on AWS the rehearsal needs {option} (or {variable}): a tag of {image} that works"
            )
        if not _TAG.match(tag) or len(tag + BROKEN_SUFFIX) > 100:
            raise SettingsError(f"{option} {tag!r} is not a Docker tag (letters, digits, _ . -; at most 93)")
    if good == held:
        raise SettingsError("--good-tag and --held-tag must differ: the held one is a new deployment")
    return Settings(
        prefix=f"reh-{secrets.token_hex(3)}",
        image=image,
        good_tag=good,
        held_tag=held,
        endpoint_url=endpoint.rstrip("/") if endpoint else None,
        front_url=args.front.rstrip("/") if args.front else None,
        keep=bool(args.keep),
        out_dir=args.out,
        reference=args.reference,
        write_reference=args.write_reference,
    )
