"""`/health`'s judgement of the write path (webapp/health.py), on a fake clock."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from webapp.health import FRESH_S, WriteHealth
from webapp.store.base import StoreUnavailable


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Probe:
    def __init__(self) -> None:
        self.calls = 0
        self.failure: str | None = None

    def __call__(self) -> None:
        self.calls += 1
        if self.failure:
            raise StoreUnavailable(self.failure)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
def health(probe: Probe, clock: Clock) -> WriteHealth:
    return WriteHealth(probe, clock)


def test_with_no_write_yet_it_probes(health: WriteHealth, probe: Probe) -> None:
    assert health.problem() is None
    assert probe.calls == 1


def test_a_recent_count_answers_without_a_probe(health: WriteHealth, probe: Probe, clock: Clock) -> None:
    health.count_succeeded()
    clock.now += FRESH_S * 0.9
    assert health.problem() is None
    assert probe.calls == 0


def test_503_while_the_last_count_failed_and_none_succeeded_since(
    health: WriteHealth, probe: Probe, clock: Clock
) -> None:
    health.count_succeeded()
    health.count_failed(StoreUnavailable("disk full"))
    assert health.problem() == "disk full"
    health.count_succeeded()
    assert health.problem() is None
    assert probe.calls == 0


def test_when_no_call_came_for_a_second_it_probes_at_most_once_a_second(
    health: WriteHealth, probe: Probe, clock: Clock
) -> None:
    health.count_succeeded()
    clock.now += FRESH_S
    for _ in range(5):
        assert health.problem() is None
    assert probe.calls == 1
    clock.now += FRESH_S * 0.5
    health.problem()
    assert probe.calls == 1
    clock.now += FRESH_S * 0.5
    health.problem()
    assert probe.calls == 2


def test_a_failing_probe_is_the_answer_and_a_later_one_recovers(
    health: WriteHealth, probe: Probe, clock: Clock
) -> None:
    probe.failure = "cannot write the health probe: No space left on device"
    assert health.problem() == probe.failure
    probe.failure = None
    clock.now += FRESH_S * 0.5
    assert health.problem() is not None, "the failed probe still answers within the second"
    clock.now += FRESH_S * 0.5
    assert health.problem() is None
    assert probe.calls == 2


def test_a_failed_count_long_ago_is_probed_again_not_trusted(
    health: WriteHealth, probe: Probe, clock: Clock
) -> None:
    health.count_failed(StoreUnavailable("disk full"))
    clock.now += FRESH_S
    assert health.problem() is None
    assert probe.calls == 1


def test_concurrent_health_checks_share_one_probe(clock: Clock) -> None:
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def slow_probe() -> None:
        calls.append(1)
        started.set()
        release.wait(5)

    health = WriteHealth(slow_probe, clock)
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(health.problem)
        assert started.wait(5)
        others = [pool.submit(health.problem) for _ in range(7)]
        release.set()
        assert first.result(5) is None and all(other.result(5) is None for other in others)
    assert calls == [1]
