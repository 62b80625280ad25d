"""Group commit: batches share one transaction, yet every caller gets its own answer or its own error."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from webapp.store.group_commit import GroupCommit, QueueTimeout


def test_callers_arriving_during_a_commit_share_the_next_one_and_get_their_own_answers() -> None:
    first_commit_started, release_first = threading.Event(), threading.Event()
    batches: list[list[int]] = []

    def commit(items: list[int]) -> list[int]:
        batches.append(items)
        if len(batches) == 1:
            first_commit_started.set()
            release_first.wait(5)
        return [item * 10 for item in items]

    group: GroupCommit[int, int] = GroupCommit(commit, timeout_s=5)
    with ThreadPoolExecutor(6) as pool:
        first = pool.submit(group.submit, 0)
        assert first_commit_started.wait(5)
        later = [pool.submit(group.submit, n) for n in range(1, 6)]
        while sum(len(b) for b in batches) + len(group._queue) < 6:
            threading.Event().wait(0.01)
        release_first.set()
        assert first.result(5) == 0
        assert [f.result(5) for f in later] == [10, 20, 30, 40, 50]
    assert batches[0] == [0]
    assert sorted(batches[1]) == [1, 2, 3, 4, 5], "the five waiting callers shared one commit"


def test_a_failed_commit_fails_every_caller_in_it_and_the_next_commit_works() -> None:
    calls = {"n": 0}

    def commit(items: list[str]) -> list[str]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("disk gone")
        return items

    group: GroupCommit[str, str] = GroupCommit(commit, timeout_s=5)
    with pytest.raises(OSError, match="disk gone"):
        group.submit("a")
    assert group.submit("b") == "b"


def test_a_caller_that_cannot_get_into_a_commit_in_time_is_withdrawn_uncommitted() -> None:
    entered, release = threading.Event(), threading.Event()
    committed: list[str] = []

    def commit(items: list[str]) -> list[str]:
        committed.extend(items)
        entered.set()
        release.wait(5)
        return items

    group: GroupCommit[str, str] = GroupCommit(commit, timeout_s=0.2)
    with ThreadPoolExecutor(2) as pool:
        slow = pool.submit(group.submit, "slow")
        assert entered.wait(5)
        with pytest.raises(QueueTimeout):
            group.submit("late")
        release.set()
        assert slow.result(5) == "slow"
    assert group.submit("next") == "next"
    assert committed == ["slow", "next"], "the withdrawn item was never committed, by any later batch"
