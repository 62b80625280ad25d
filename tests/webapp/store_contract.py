"""The one contract every adapter of the store port passes (like eventsourcing's recorder test cases).

A subclass provides the `store` fixture (a fresh, empty store), `reopen(store)` (a second store object on
the same data, as another process or instance would see it) and `environment_of(store)` (the variables with
which `python -m webapp` in another process opens a store on the same data).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from webapp.store.base import MAX_DEPLOYS, Deploy, State, Store

COUNT_CALLS = Path(__file__).with_name("count_calls.py")
REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 26, 10, 26, 18, 123000, tzinfo=UTC)


def deploy(version: str, minutes: int = 0, hostname: str = "host-a") -> Deploy:
    return Deploy(version=version, hostname=hostname, deployed_at=T0 + timedelta(minutes=minutes))


class StoreContract:
    durable = True

    def reopen(self, store: Store) -> Store:
        raise NotImplementedError

    def environment_of(self, store: Store) -> dict[str, str]:
        """SQLITE_PATH or MONGODB_URI of `store`'s data; skips when another process cannot reach it."""
        raise NotImplementedError

    def test_a_new_store_is_empty(self, store: Store) -> None:
        state = store.read_state()
        assert state == State()
        assert state.calls == 0

    def test_count_call_returns_the_state_including_this_call(self, store: Store) -> None:
        assert store.count_call("1.0.0").calls_by_version == {"1.0.0": 1}
        assert store.count_call("1.0.0").calls_by_version == {"1.0.0": 2}
        state = store.count_call("1.0.1")
        assert state.calls_by_version == {"1.0.0": 2, "1.0.1": 1}
        assert state.calls == 3

    def test_read_state_does_not_count(self, store: Store) -> None:
        store.count_call("1.0.0")
        store.read_state()
        store.read_state()
        assert store.read_state().calls == 1

    @pytest.mark.parametrize("label", ["1.0.42-3f2a1bc", "a.b.c", "$inc", "50%.x", "v1$.%2E", "ünïcode.ß"])
    def test_any_version_label_round_trips(self, store: Store, label: str) -> None:
        store.count_call(label)
        store.count_call(label)
        store.record_deploy(deploy(label))
        state = store.read_state()
        assert state.calls_by_version == {label: 2}
        assert [d.version for d in state.deploys] == [label]

    def test_a_deploy_is_recorded_once_per_version(self, store: Store) -> None:
        store.record_deploy(deploy("1.0.0", minutes=0, hostname="first"))
        store.record_deploy(deploy("1.0.0", minutes=5, hostname="second"))
        assert store.read_state().deploys == (deploy("1.0.0", minutes=0, hostname="first"),)

    def test_deploys_are_newest_first_and_at_most_ten(self, store: Store) -> None:
        for minute in range(MAX_DEPLOYS + 3):
            store.record_deploy(deploy(f"1.0.{minute}", minutes=minute))
        versions = [d.version for d in store.read_state().deploys]
        assert versions == [f"1.0.{minute}" for minute in range(MAX_DEPLOYS + 2, 2, -1)]

    def test_deployed_at_comes_back_as_utc(self, store: Store) -> None:
        local = datetime(2026, 11, 26, 14, 0, 0, tzinfo=timezone(timedelta(hours=2)))
        store.record_deploy(Deploy("1.0.0", "h", local))
        (stored,) = store.read_state().deploys
        assert stored.deployed_at == datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
        assert stored.deployed_at.utcoffset() == timedelta(0)

    def test_count_call_answers_the_deploys_too(self, store: Store) -> None:
        store.record_deploy(deploy("1.0.0"))
        assert [d.version for d in store.count_call("1.0.0").deploys] == ["1.0.0"]

    def test_concurrent_counts_are_exact_and_each_caller_sees_its_own_count(self, store: Store) -> None:
        threads, per_thread = 8, 50

        def work(index: int) -> list[int]:
            return [store.count_call(f"v{index % 2}").calls for _ in range(per_thread)]

        with ThreadPoolExecutor(threads) as pool:
            seen = [calls for result in pool.map(work, range(threads)) for calls in result]
        total = threads * per_thread
        # Every caller got a distinct post-increment total: none lost, none doubled, none stale.
        assert sorted(seen) == list(range(1, total + 1))
        state = store.read_state()
        assert state.calls == total
        assert state.calls_by_version == {"v0": total // 2, "v1": total // 2}

    def test_concurrent_first_starts_of_one_version_record_one_deploy(self, store: Store) -> None:
        barrier = threading.Barrier(8)

        def start(index: int) -> None:
            barrier.wait()
            store.record_deploy(deploy("2.0.0", minutes=index, hostname=f"host-{index}"))

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(start, range(8)))
        assert [d.version for d in store.read_state().deploys] == ["2.0.0"]

    def test_a_health_probe_writes_and_counts_nothing(self, store: Store) -> None:
        store.count_call("1.0.0")
        store.record_deploy(deploy("1.0.0"))
        before = store.read_state()
        for _ in range(3):
            store.probe_write()
        assert store.read_state() == before
        assert store.count_call("1.0.0").calls == 2

    def test_another_instance_sees_the_same_state(self, store: Store) -> None:
        if not self.durable:
            pytest.skip("this adapter keeps its state in one process by design")
        store.count_call("1.0.0")
        store.record_deploy(deploy("1.0.0"))
        other = self.reopen(store)
        try:
            assert other.count_call("1.0.1").calls_by_version == {"1.0.0": 1, "1.0.1": 1}
            assert store.read_state() == other.read_state()
        finally:
            other.close()

    def test_stores_in_several_processes_counting_one_version_are_exact(self, store: Store) -> None:
        """Blue and green, or the workers of one instance: one version counted at once from several processes
        (each with several threads) on one database. Counting one version, a lost update cannot hide."""
        processes, threads, calls = 3, 4, 40
        env = {k: v for k, v in os.environ.items() if k not in ("SQLITE_PATH", "MONGODB_URI")}
        env.update(self.environment_of(store), PYTHONPATH=str(REPO))
        counters = [
            subprocess.Popen(
                [sys.executable, str(COUNT_CALLS), "1.0.0", str(threads), str(calls)],
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(processes)
        ]
        try:
            for counter in counters:
                assert counter.stdout is not None and counter.stdout.readline() == "ready\n"
            for counter in counters:
                assert counter.stdin is not None
                counter.stdin.write("go\n")
                counter.stdin.flush()
            seen = sorted(
                total for counter in counters for total in json.loads(counter.communicate(timeout=120)[0])
            )
        finally:
            for counter in counters:
                counter.kill()
                counter.wait()
        total = processes * threads * calls
        # Every call got a distinct total, 1..n: none lost, none doubled, none answered a stale state.
        assert seen == list(range(1, total + 1)), f"{len(set(seen))} distinct totals, up to {seen[-1]}"
        assert store.read_state().calls_by_version == {"1.0.0": total}
