"""WSGI middleware writing one access-log line per request, whatever the client sent.

The request target is logged as the client sent it (still percent-encoded), and every field taken from the
request is escaped to printable ASCII, so no request can end a log line early or forge another one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("webapp.access")

# Characters a URL path keeps unencoded (RFC 3986 pchar and "/"), for servers that give no raw REQUEST_URI.
PATH_SAFE = "/:@!$&'()*+,;=-._~"


def with_access_log(app: WSGIApplication) -> WSGIApplication:
    """`app`, logging `<client> "<method> <target> <protocol>" <status> <bytes> <ms>ms` per response."""

    def logged(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        target = request_target(environ)  # before the app runs: Bottle rewrites PATH_INFO in place
        seen: dict[str, str] = {"status": "-", "size": "-"}

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"] = status.split(" ", 1)[0]
            seen["size"] = next((v for k, v in headers if k.lower() == "content-length"), "-")
            return start_response(status, headers, exc_info)

        body = app(environ, start)
        log.info(
            '%s "%s %s %s" %s %s %.1fms',
            printable(environ.get("REMOTE_ADDR", "-")),
            printable(environ.get("REQUEST_METHOD", "-")),
            printable(target),
            printable(environ.get("SERVER_PROTOCOL", "-")),
            seen["status"],
            printable(seen["size"]),
            (time.perf_counter() - started) * 1000,
        )
        return body

    return logged


def request_target(environ: WSGIEnvironment) -> str:
    """The path and query as sent: waitress's raw REQUEST_URI, else PATH_INFO encoded back (it is decoded)."""
    raw = environ.get("REQUEST_URI")
    if raw:
        return str(raw)
    path = quote(environ.get("PATH_INFO", ""), safe=PATH_SAFE, encoding="latin-1", errors="backslashreplace")
    query = environ.get("QUERY_STRING")
    return f"{path}?{query}" if query else path


def printable(text: str) -> str:
    """`text` with everything but printable ASCII, and `"` and `\\`, escaped as `\\xNN`, `\\uNNNN`, `\\"`."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return text
    return "".join(_escaped(char) for char in text)


def _escaped(char: str) -> str:
    if char in '"\\':
        return "\\" + char
    if " " <= char <= "~":
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
