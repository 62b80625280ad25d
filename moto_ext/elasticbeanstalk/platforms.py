"""The platforms the emulation knows: solution stack names, platform ARNs and platform branches.

Solution stack names and platform ARNs are two spellings of one platform version:

    64bit Amazon Linux 2023 v4.6.0 running Docker
    arn:aws:elasticbeanstalk:us-east-1::platform/Docker running on 64bit Amazon Linux 2023/4.6.0

The catalogue is moto's (`SOLUTION_STACK_DETAILS`, AWS's list of July 2025): one version per branch, the
branch's latest then. A stack is known when its branch is in the catalogue at any version, or names a newer
runtime version of a family the catalogue runs on that system (`64bit Amazon Linux 2023 v4.9.0 running
Python 3.14` is known because Python 3.x runs on Amazon Linux 2023; `... running Docker Deluxe` is not);
anything else, a name that is not a solution stack at all included, is refused as AWS refuses it:
"No Solution Stack named '...' found.".

Versions get superseded (https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/platforms-glossary.html):
"The latest platform version in each platform branch is available to you unconditionally for environment
creation. Previous platform versions in the branch are still supported - you can create an environment based
on a previous platform version if you've used it in an environment in the last 30 days." So a version below
its branch's latest is superseded: not listed (ListAvailableSolutionStacks, ListPlatformVersions), refused
for a new environment unless the account ran it in the last 30 days (the backend knows that), while an
environment already on it keeps running and deploying. The latest of a branch is the catalogue's, or a
newer one the emulation was told AWS released (`released`, the backend's control): e.g. `v4.0.0` of the
Amazon Linux 2023 Docker branch is superseded, `v4.6.0` its latest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from moto.elasticbeanstalk.responses import SOLUTION_STACK_DETAILS

DOCKER_STACK = "64bit Amazon Linux 2023 v4.6.0 running Docker"
_STACK = re.compile(r"^64bit (?P<os>.+?) v(?P<version>\d+\.\d+\.\d+) running (?P<runtime>.+)$")
_ARN = re.compile(
    r"^arn:aws:elasticbeanstalk:(?P<region>[^:]+)::platform/(?P<branch>[^/]+)/(?P<version>\d+\.\d+\.\d+)$"
)
_NEWER_RUNTIME = re.compile(r"^(?P<family>\S+) \d+(\.\d+)*$")  # "Python 3.14"
_CATEGORY = {"Docker": "Docker", "ECS": "Docker", "Python": "Python", "Node.js": "Node.js", "PHP": "PHP"}


@dataclass(frozen=True)
class Platform:
    """One platform version: `runtime` on `os` at `version`."""

    os: str
    runtime: str
    version: str

    @property
    def solution_stack(self) -> str:
        return f"64bit {self.os} v{self.version} running {self.runtime}"

    @property
    def branch(self) -> str:
        return f"{self.runtime} running on 64bit {self.os}"

    def arn(self, region: str) -> str:
        return f"arn:aws:elasticbeanstalk:{region}::platform/{self.branch}/{self.version}"

    @property
    def name(self) -> str:
        """The platform's name in summaries: the runtime's family, as the EB CLI shows it ("Docker")."""
        family = self.runtime.split(" ")[0]
        return _CATEGORY.get(family, family)

    def summary(self, region: str) -> dict[str, Any]:
        """A PlatformSummary (ListPlatformVersions)."""
        return {
            "PlatformArn": self.arn(region),
            "PlatformOwner": "AWSElasticBeanstalk",
            "PlatformStatus": "Ready",
            "PlatformCategory": self.name,
            "OperatingSystemName": self.os.rsplit(" ", 1)[0],
            "OperatingSystemVersion": self.os.rsplit(" ", 1)[-1],
            "SupportedTierList": ["WebServer/Standard", "Worker/SQS/HTTP"],
            "SupportedAddonList": ["Log/S3", "Monitoring/Healthd", "WorkerDaemon/SQSD"],
            "PlatformLifecycleState": "Recommended",
            "PlatformVersion": self.version,
            "PlatformBranchName": self.branch,
            "PlatformBranchLifecycleState": "Supported",
        }

    def description(self, region: str) -> dict[str, Any]:
        """A PlatformDescription (DescribePlatformVersion)."""
        summary = self.summary(region)
        return {
            **{key: summary[key] for key in ("PlatformArn", "PlatformOwner", "PlatformStatus")},
            "PlatformName": self.branch,
            "PlatformVersion": self.version,
            "SolutionStackName": self.solution_stack,
            "PlatformCategory": self.name,
            "Description": f"{self.runtime} on {self.os}",
            "OperatingSystemName": summary["OperatingSystemName"],
            "OperatingSystemVersion": summary["OperatingSystemVersion"],
            "ProgrammingLanguages": [],
            "Frameworks": [],
            "CustomAmiList": [],
            "SupportedTierList": summary["SupportedTierList"],
            "SupportedAddonList": summary["SupportedAddonList"],
            "PlatformLifecycleState": "Recommended",
            "PlatformBranchName": self.branch,
            "PlatformBranchLifecycleState": "Supported",
        }


def from_solution_stack(name: str) -> Platform | None:
    """The platform a solution stack name names, or None when AWS has no such stack."""
    match = _STACK.match(name)
    if match is None:
        return None
    platform = Platform(match["os"], match["runtime"], match["version"])
    return platform if _known(platform) else None


def from_arn(arn: str) -> Platform | None:
    """The platform an ARN names, or None when AWS has no such platform."""
    match = _ARN.match(arn)
    if match is None:
        return None
    runtime, _, os_name = match["branch"].partition(" running on 64bit ")
    platform = Platform(os_name, runtime, match["version"])
    return platform if _known(platform) else None


def catalogue() -> list[Platform]:
    """Every platform version of the catalogue (one recommended version per branch)."""
    return list(_branches().values())


Released = dict[tuple[str, str], Platform]  # (os, runtime) -> a version AWS released after the catalogue


def latest(released: Released | None = None) -> list[Platform]:
    """The latest version of each branch: the catalogue's, or a newer one released since."""
    found = dict(_branches())
    for branch, platform in (released or {}).items():
        if branch not in found or _version(platform.version) > _version(found[branch].version):
            found[branch] = platform
    return list(found.values())


def superseded(platform: Platform, released: Released | None = None) -> bool:
    """Whether a newer version of the platform's branch is out (an unknown branch supersedes nothing)."""
    newest = {(p.os, p.runtime): p for p in latest(released)}.get((platform.os, platform.runtime))
    return newest is not None and _version(platform.version) < _version(newest.version)


def available_solution_stacks(released: Released | None = None) -> list[str]:
    """ListAvailableSolutionStacks: the latest version of every branch, newest catalogue entries first."""
    return [platform.solution_stack for platform in latest(released)]


def _known(platform: Platform) -> bool:
    """A catalogue branch, or a newer runtime version of a catalogue family on a catalogue OS."""
    if (platform.os, platform.runtime) in _branches():
        return True
    newer = _NEWER_RUNTIME.match(platform.runtime)
    families = {(known.os, known.runtime.split(" ")[0]) for known in _branches().values()}
    return newer is not None and (platform.os, newer["family"]) in families


@cache
def _branches() -> dict[tuple[str, str], Platform]:
    found: dict[tuple[str, str], Platform] = {}
    for detail in SOLUTION_STACK_DETAILS:
        match = _STACK.match(str(detail["SolutionStackName"]))
        if match is not None:
            platform = Platform(match["os"], match["runtime"], match["version"])
            found.setdefault((platform.os, platform.runtime), platform)
    return found


def list_versions(
    filters: list[dict[str, Any]], region: str, released: Released | None = None
) -> list[dict[str, Any]]:
    """ListPlatformVersions: the PlatformSummary of each branch's latest version matching every filter."""
    summaries = [platform.summary(region) for platform in latest(released)]
    fields = {**_VERSION_FIELDS}
    return [
        summary
        for summary in summaries
        if all(
            _matches(_field(summary, fields, f.get("Type", "")), f.get("Operator", "="), f.get("Values", []))
            for f in filters
        )
    ]


def list_branches(filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ListPlatformBranches: a PlatformBranchSummary per branch of the catalogue matching every filter."""
    branches = [
        {
            "PlatformName": platform.name,
            "BranchName": platform.branch,
            "LifecycleState": "Supported",
            "BranchOrder": 1,
            "SupportedTierList": ["WebServer/Standard", "Worker/SQS/HTTP"],
        }
        for platform in catalogue()
    ]
    return [
        branch
        for branch in branches
        if all(
            _matches(
                _field(branch, _BRANCH_FIELDS, f.get("Attribute", "")),
                f.get("Operator", "="),
                f.get("Values", []),
            )
            for f in filters
        )
    ]


_VERSION_FIELDS = {
    "PlatformName": "PlatformBranchName",
    "PlatformVersion": "PlatformVersion",
    "PlatformStatus": "PlatformStatus",
    "PlatformBranchName": "PlatformBranchName",
    "PlatformLifecycleState": "PlatformLifecycleState",
    "PlatformOwner": "PlatformOwner",
    "SupportedTier": "SupportedTierList",
    "SupportedAddon": "SupportedAddonList",
    "OperatingSystemName": "OperatingSystemName",
}
_BRANCH_FIELDS = {
    "PlatformName": "PlatformName",
    "BranchName": "BranchName",
    "LifecycleState": "LifecycleState",
    "TierType": "SupportedTierList",
}


def _field(item: dict[str, Any], fields: dict[str, str], name: str) -> Any:
    if name not in fields:
        known = ", ".join(sorted(fields))
        raise ValueError(f"Invalid filter type '{name}'; valid types: {known}")
    return item[fields[name]]


def _matches(value: Any, operator: str, wanted: list[str]) -> bool:
    """A filter over one value (or any of a list of values)."""
    values = value if isinstance(value, list) else [value]
    tests = {
        "=": lambda v, w: v == w,
        "!=": lambda v, w: v != w,
        "contains": lambda v, w: w in v,
        "begins_with": lambda v, w: v.startswith(w),
        "ends_with": lambda v, w: v.endswith(w),
        "<": lambda v, w: _version(v) < _version(w),
        "<=": lambda v, w: _version(v) <= _version(w),
        ">": lambda v, w: _version(v) > _version(w),
        ">=": lambda v, w: _version(v) >= _version(w),
    }
    if operator not in tests:
        raise ValueError(f"Invalid filter operator '{operator}'")
    test = tests[operator]
    if operator == "!=":
        return all(test(str(v), w) for v in values for w in wanted)
    return any(test(str(v), w) for v in values for w in wanted)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".") if part.isdigit())
