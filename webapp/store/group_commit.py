"""Group commit: calls arriving while a transaction commits share the next one.

A durable SQLite commit costs one fsync, and SQLite has a single writer, so one transaction per call caps
throughput at 1/fsync. Here each caller queues its item; when no commit is in progress the caller itself
leads one: it takes every queued item and commits them in one transaction (one fsync), and each caller gets
back its own answer. Nobody is answered before the transaction holding its item has committed, so batching
trades nothing away in durability.

Waking up costs: every caller waits on a lock of its own, released once its batch is done, so a commit wakes
exactly the callers it answered (a shared condition woke every waiter, each to take the condition's lock and
go back to sleep: a quarter of the process's GIL time went to that under load). When a leader finishes and
more items have queued meanwhile, it hands the lead to the first of them, so the next commit starts at once
and no caller leads more than one.

A caller that cannot get into a commit within the timeout withdraws its item, uncommitted, and gets
`QueueTimeout`: it is never counted afterwards. An item already taken into a committing transaction waits
for that transaction's outcome, however long it takes, because only the outcome says whether it counts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")
Answer = TypeVar("Answer")


class QueueTimeout(Exception):
    """The item waited longer than the timeout and was withdrawn: it was never committed."""


class GroupCommit(Generic[Item, Answer]):
    def __init__(self, commit: Callable[[list[Item]], list[Answer]], timeout_s: float) -> None:
        """`commit(items)` stores all items in one transaction and answers one value per item, in order."""
        self._commit = commit
        self._timeout_s = timeout_s
        self._mutex = threading.Lock()
        self._queue: list[_Ticket[Item, Answer]] = []
        self._committing = False

    def submit(self, item: Item) -> Answer:
        """Returns once `item` is committed (its answer), or raises what its transaction raised."""
        ticket: _Ticket[Item, Answer] = _Ticket(item)
        with self._mutex:
            self._queue.append(ticket)
            leads = not self._committing
            self._committing = True
        if not leads:
            self._wait(ticket)
            leads = ticket.leads
        if leads:
            self._lead()
        if ticket.error is not None:
            raise ticket.error
        return ticket.answer  # type: ignore[return-value]

    def _wait(self, ticket: _Ticket[Item, Answer]) -> None:
        """Until `ticket`'s batch is done or the lead is handed to it; withdraws it when the timeout passes
        while it is still queued."""
        if ticket.done.acquire(timeout=self._timeout_s):
            return
        with self._mutex:
            if not ticket.taken and not ticket.leads:
                self._queue.remove(ticket)
                raise QueueTimeout(f"waited more than {self._timeout_s:g}s for a commit")
        ticket.done.acquire()  # inside a committing batch, or about to lead one: its outcome decides

    def _lead(self) -> None:
        with self._mutex:
            batch, self._queue = self._queue, []
            for ticket in batch:
                ticket.taken = True
        try:
            answers = self._commit([ticket.item for ticket in batch])
            for ticket, answer in zip(batch, answers, strict=True):
                ticket.answer = answer
        except BaseException as error:
            for ticket in batch:
                ticket.error = error
        leader = threading.get_ident()
        for ticket in batch:
            ticket.leads = False
            if ticket.owner != leader:
                ticket.done.release()
        with self._mutex:
            if self._queue:
                successor = self._queue[0]
                successor.leads = True
                successor.done.release()
            else:
                self._committing = False


class _Ticket(Generic[Item, Answer]):
    __slots__ = ("answer", "done", "error", "item", "leads", "owner", "taken")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.answer: Answer | None = None
        self.error: BaseException | None = None
        self.owner = threading.get_ident()
        self.taken = False  # in a batch being committed
        self.leads = False  # handed the lead of the next commit
        self.done = threading.Lock()  # released when the batch is done, or the lead is handed over
        self.done.acquire()
