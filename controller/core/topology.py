"""Which live web-server environment is production and which is pre-production (pure).

Production owns exactly `{PROD_CNAME_PREFIX}.{region}.elasticbeanstalk.com` (or the legacy
`{PROD_CNAME_PREFIX}.elasticbeanstalk.com`); pre-production is the one other live web-server environment,
or the one owning the `PREPROD_CNAME_PREFIX` name when that is set. Worker environments (no CNAME) and
environments on their way out never count.
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.core.observation import EnvironmentView

GONE = frozenset({"Terminating", "Terminated"})
WEB_SERVER = "WebServer"
DNS_SUFFIX = "elasticbeanstalk.com"


@dataclass(frozen=True)
class Topology:
    production: EnvironmentView
    preproduction: EnvironmentView


def resolve(
    environments: tuple[EnvironmentView, ...], prefix: str, region: str, preprod_prefix: str | None = None
) -> Topology | str:
    """The production/pre-production pair, or the reason there is no such pair (naming what was found)."""
    web = live_web(environments)
    found = ", ".join(f"{e.name} ({e.cname or 'no CNAME'})" for e in sorted(web, key=lambda e: e.name))
    found = found or "none"
    prod = [e for e in web if owns_name(e, prefix, region)]
    if not prod:
        return (
            f"no live web-server environment owns the production CNAME {full_name(prefix, region)} ({found})"
        )
    if len(prod) > 1:
        return f"several environments claim the production CNAME: {', '.join(sorted(e.name for e in prod))}"
    production = prod[0]
    if preprod_prefix is not None:
        named = [e for e in web if owns_name(e, preprod_prefix, region)]
        if len(named) != 1 or named[0] is production:
            return (
                f"no live web-server environment besides {production.name} owns the pre-production CNAME "
                f"{full_name(preprod_prefix, region)} (PREPROD_CNAME_PREFIX; found: {found})"
            )
        return Topology(production=production, preproduction=named[0])
    others = sorted((e for e in web if e is not production), key=lambda e: e.name)
    if not others:
        return f"no pre-production environment: {production.name} is the only live web-server environment"
    if len(others) > 1:
        names = ", ".join(e.name for e in others)
        return (
            f"more than one candidate for pre-production besides {production.name}: {names}; "
            "set PREPROD_CNAME_PREFIX to the CNAME prefix of the one to deploy to"
        )
    return Topology(production=production, preproduction=others[0])


def production_owner(
    environments: tuple[EnvironmentView, ...], prefix: str, region: str
) -> EnvironmentView | None:
    """The one live web-server environment that owns the production name now (None: none, or several)."""
    owners = [e for e in live_web(environments) if owns_name(e, prefix, region)]
    return owners[0] if len(owners) == 1 else None


def find(environments: tuple[EnvironmentView, ...], name: str | None) -> EnvironmentView | None:
    return next((e for e in live(environments) if e.name == name), None)


def live(environments: tuple[EnvironmentView, ...]) -> list[EnvironmentView]:
    return [e for e in environments if e.status not in GONE]


def live_web(environments: tuple[EnvironmentView, ...]) -> list[EnvironmentView]:
    return [e for e in live(environments) if e.tier == WEB_SERVER and e.cname]


def owns_name(env: EnvironmentView, prefix: str, region: str) -> bool:
    """Whether the environment's CNAME is exactly the name made from `prefix` (regional or legacy form)."""
    cname = env.cname.lower().rstrip(".")
    prefix = prefix.lower()
    return cname in (full_name(prefix, region), f"{prefix}.{DNS_SUFFIX}")


def full_name(prefix: str, region: str) -> str:
    return f"{prefix}.{region}.{DNS_SUFFIX}"
