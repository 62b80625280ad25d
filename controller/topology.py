"""Which live environment is production and which is pre-production (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from controller.observation import EnvironmentView

GONE = frozenset({"Terminating", "Terminated"})


@dataclass(frozen=True)
class Topology:
    production: EnvironmentView
    preproduction: EnvironmentView


def is_production_cname(cname: str, prefix: str, region: str) -> bool:
    cname = cname.lower().rstrip(".")
    prefix = prefix.lower()
    return cname == f"{prefix}.{region}.elasticbeanstalk.com" or cname.startswith(f"{prefix}.")


def production_owner(
    environments: tuple[EnvironmentView, ...], prefix: str, region: str
) -> EnvironmentView | None:
    owners = [e for e in live(environments) if is_production_cname(e.cname, prefix, region)]
    return owners[0] if len(owners) == 1 else None


def live(environments: tuple[EnvironmentView, ...]) -> list[EnvironmentView]:
    return [e for e in environments if e.status not in GONE]


def find(environments: tuple[EnvironmentView, ...], name: str | None) -> EnvironmentView | None:
    return next((e for e in live(environments) if e.name == name), None)


def resolve(environments: tuple[EnvironmentView, ...], prefix: str, region: str) -> Topology | str:
    """The production/pre-production pair, or the reason there is no such pair."""
    alive = live(environments)
    prod = [e for e in alive if is_production_cname(e.cname, prefix, region)]
    names = ", ".join(sorted(e.name for e in alive)) or "none"
    if not prod:
        expected = f"{prefix}.{region}.elasticbeanstalk.com"
        return f"no live environment has the production CNAME {expected} (live: {names})"
    if len(prod) > 1:
        return f"several environments claim the production CNAME: {', '.join(sorted(e.name for e in prod))}"
    others = [e for e in alive if e is not prod[0]]
    if len(others) != 1:
        return (
            f"expected exactly one pre-production environment besides {prod[0].name}, "
            f"found {len(others)} (live: {names})"
        )
    return Topology(production=prod[0], preproduction=others[0])
