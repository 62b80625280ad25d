"""Group commit: calls arriving while a transaction commits share the next one.

A durable SQLite commit costs one fsync, and SQLite has a single writer, so one transaction per call caps
throughput at 1/fsync. Here each caller queues its item; whoever holds the commit lock takes every queued
item and commits them in one transaction (one fsync); each caller gets back its own answer. Nobody is answered
before the transaction holding its item has committed, so batching trades nothing away in durability.
"""

from __future__ import annotations

import threading
import time
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
        self._queue: list[_Ticket[Item, Answer]] = []
        self._committing = False
        self._changed = threading.Condition()

    def submit(self, item: Item) -> Answer:
        """Returns once `item` is committed (its answer), or raises what its transaction raised."""
        ticket: _Ticket[Item, Answer] = _Ticket(item)
        deadline = time.monotonic() + self._timeout_s
        with self._changed:
            self._queue.append(ticket)
            while not ticket.done:
                if not self._committing:
                    self._lead_a_commit()
                    continue
                remaining = deadline - time.monotonic()
                if ticket in self._queue and remaining <= 0:
                    self._queue.remove(ticket)
                    raise QueueTimeout(f"waited more than {self._timeout_s}s for a commit")
                # Woken when a commit ends; once our ticket is inside a committing batch, its outcome decides.
                self._changed.wait(remaining if ticket in self._queue else None)
        if ticket.error is not None:
            raise ticket.error
        return ticket.answer  # type: ignore[return-value]

    def _lead_a_commit(self) -> None:
        """Called holding the condition's lock: commits everything queued, releasing the lock meanwhile."""
        batch, self._queue = self._queue, []
        self._committing = True
        self._changed.release()
        try:
            answers = self._commit([ticket.item for ticket in batch])
            for ticket, answer in zip(batch, answers, strict=True):
                ticket.answer = answer
        except BaseException as error:
            for ticket in batch:
                ticket.error = error
        finally:
            self._changed.acquire()
            for ticket in batch:
                ticket.done = True
            self._committing = False
            self._changed.notify_all()


class _Ticket(Generic[Item, Answer]):
    __slots__ = ("answer", "done", "error", "item")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.answer: Answer | None = None
        self.error: BaseException | None = None
        self.done = False
