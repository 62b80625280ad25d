"""slow-drain's resolvers: after a swap, one caller of production's name in 4 keeps reaching the old
environment for `linger_s`, then none does."""

from __future__ import annotations

from sandbox.network.stale_resolvers import STALE_EVERY, StaleResolvers

PROD = "app-prod.us-east-1.elasticbeanstalk.com"
STAGING = "app-staging.us-east-1.elasticbeanstalk.com"


def test_after_a_swap_a_share_of_lookups_keep_the_old_environment_then_stop() -> None:
    owners, now, active = {PROD: "blue", STAGING: "green"}, [0.0], [True]
    resolve = StaleResolvers(
        owners.get, frozenset({PROD}), lambda: active[0], lambda: 8.0, clock=lambda: now[0]
    )
    assert {resolve(PROD) for _ in range(10)} == {"blue"}

    owners[PROD], owners[STAGING] = "green", "blue"
    now[0] = 1.0
    during = [resolve(PROD) for _ in range(4 * STALE_EVERY)]
    staging = {resolve(STAGING) for _ in range(10)}
    lingering = resolve.lingering_until()
    now[0] = 9.5
    after = {resolve(PROD) for _ in range(20)}

    assert during.count("blue") == 4 and during.count("green") == 4 * STALE_EVERY - 4
    assert staging == {"blue"}, "only production's callers are affected"
    assert lingering == 9.0
    assert after == {"green"} and resolve.lingering_until() is None


def test_without_the_fault_a_swap_moves_every_caller_at_once() -> None:
    owners = {PROD: "blue"}
    resolve = StaleResolvers(owners.get, frozenset({PROD}), lambda: False, lambda: 8.0, clock=lambda: 0.0)
    resolve(PROD)
    owners[PROD] = "green"

    assert {resolve(PROD) for _ in range(20)} == {"green"}
