"""WSGI middleware writing one access-log line per request."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("webapp.access")


def with_access_log(app: WSGIApplication) -> WSGIApplication:
    """`app`, logging `<client> "<method> <path> <protocol>" <status> <bytes> <ms>ms` after each response."""

    def logged(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        seen: dict[str, str] = {"status": "-", "size": "-"}

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"] = status.split(" ", 1)[0]
            seen["size"] = next((v for k, v in headers if k.lower() == "content-length"), "-")
            return start_response(status, headers, exc_info)

        body = app(environ, start)
        query = environ.get("QUERY_STRING")
        log.info(
            '%s "%s %s%s %s" %s %s %.1fms',
            environ.get("REMOTE_ADDR", "-"),
            environ.get("REQUEST_METHOD", "-"),
            environ.get("PATH_INFO", ""),
            f"?{query}" if query else "",
            environ.get("SERVER_PROTOCOL", "-"),
            seen["status"],
            seen["size"],
            (time.perf_counter() - started) * 1000,
        )
        return body

    return logged
