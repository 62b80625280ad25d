"""Request validation: each check answers the value to use, or raises the error AWS answers with."""

from __future__ import annotations

from . import exceptions, platforms
from .entities import WEB_TIER, WORKER_TIER

MAX_LABEL = 100


def version_label(label: str | None) -> str:
    if not label:
        raise exceptions.label_empty()
    if len(label) > MAX_LABEL:
        raise exceptions.label_too_long(label)
    if "/" in label:
        raise exceptions.label_invalid(label)
    return label


def platform(solution_stack_name: str | None, platform_arn: str | None, region: str) -> tuple[str, str]:
    """(solution stack name, platform ARN) of a CreateEnvironment.

    AWS refuses a stack or ARN it does not have. A request naming neither is accepted with an empty
    platform, as moto accepts it: we found no public record of what AWS answers to that.
    """
    if solution_stack_name and platform_arn:
        raise exceptions.InvalidParameterCombination(
            "You cannot specify both a solution stack and a platform ARN."
        )
    if solution_stack_name:
        found = platforms.from_solution_stack(solution_stack_name)
        if found is None:
            raise exceptions.no_solution_stack(solution_stack_name)
        return solution_stack_name, found.arn(region)
    if platform_arn:
        by_arn = platforms.from_arn(platform_arn)
        if by_arn is None:
            raise exceptions.no_platform(platform_arn)
        return by_arn.solution_stack, platform_arn
    return "", ""


def tier(requested: dict[str, str] | None) -> dict[str, str]:
    """The environment tier: WebServer (the default) or Worker."""
    if not requested or requested.get("Name", "WebServer") == "WebServer":
        return dict(WEB_TIER)
    if requested.get("Name") == "Worker":
        return dict(WORKER_TIER)
    raise exceptions.InvalidParameterValue(f"Invalid environment tier name: {requested.get('Name')}")


def environment_name(name: str | None) -> str:
    """AWS: 4 to 40 letters, digits and hyphens, not starting or ending with a hyphen."""
    if not name:
        raise exceptions.MissingParameter("EnvironmentName is required.")
    plain = name.replace("-", "")
    if (
        not 4 <= len(name) <= 40
        or not plain.isascii()
        or not plain.isalnum()
        or name[0] == "-"
        or name[-1] == "-"
    ):
        raise exceptions.InvalidParameterValue(
            f"Value {name} at 'EnvironmentName' failed to satisfy constraint: Member must contain only "
            "letters, digits, and the dash character and may not start or end with a dash"
        )
    return name
