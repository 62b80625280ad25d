"""The dns-lag fault's resolver: an answer is kept for the TTL from when it was resolved."""

from __future__ import annotations

from sandbox.network.dns_cache import DnsCache

PROD = "app-prod.us-east-1.elasticbeanstalk.com"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_cached_answer_outlives_a_swap_until_its_ttl_ends() -> None:
    owners, clock = {PROD: "blue"}, Clock()
    resolve = DnsCache(owners.get, ttl_s=lambda: 60.0, clock=clock)

    assert resolve(PROD) == "blue"
    owners[PROD] = "green"
    clock.now += 59.9
    assert resolve(PROD) == "blue"
    clock.now += 0.1
    assert resolve(PROD) == "green"


def test_without_a_ttl_every_lookup_is_fresh() -> None:
    owners = {PROD: "blue"}
    resolve = DnsCache(owners.get, ttl_s=lambda: 0.0, clock=Clock())

    assert resolve(PROD) == "blue"
    owners[PROD] = "green"
    assert resolve(PROD) == "green"


def test_a_name_first_asked_after_the_swap_gets_the_new_owner() -> None:
    owners, clock = {PROD: "blue"}, Clock()
    resolve = DnsCache(owners.get, ttl_s=lambda: 60.0, clock=clock)
    owners[PROD] = "green"

    assert resolve(PROD) == "green"
