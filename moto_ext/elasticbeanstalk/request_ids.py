"""The RequestId of the API call being served, so the events it causes carry the id its response carries.

The response layer opens `serving(request_id)` around each action; the backend stamps every event it
writes meanwhile (and every operation it starts, whose later events carry the same id) with `current()`.
Outside an API call (a test driving the backend directly, a health change) there is none.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("beanstalk_request_id", default=None)


def current() -> str | None:
    return _current.get()


@contextlib.contextmanager
def serving(request_id: str) -> Iterator[None]:
    token = _current.set(request_id)
    try:
        yield
    finally:
        _current.reset(token)
