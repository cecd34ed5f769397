"""Oversized request heads (414 for a long request line, 431 for long headers),
and a quieter task queue.

waitress reads the whole head on its event loop and refuses one over
``MAX_HEADER_BYTES`` before the app sees it, always with a plain-text 431.
The parser here tells the two cases apart (is the end of the request line
within the limit?) and answers in the standard JSON error shape, so a client
learns whether to shorten its URL or its headers.

waitress logs a warning each time a request waits for a thread. Under load
that is every request: a log line written on the event loop, with the
dispatcher's lock held, costing more than parsing the request. The servers
made here say it at most once a minute, with the deepest queue seen.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import create_server as _waitress_server
from waitress.utilities import Error, RequestHeaderFieldsTooLarge

from locator.errors import error_body
from locator.web.lanes import LaneDispatcher


class _JsonError(Error):
    """A waitress error answered with the JSON error body."""

    error_code = "request_too_large"

    def to_response(self, ident: str | None = None) -> tuple[str, list[tuple[str, str]], bytes]:
        body = json.dumps(error_body(self.code, self.error_code, self.body),
                          ensure_ascii=False).encode("utf-8")
        return (f"{self.code} {self.reason}",
                [("Content-Type", "application/json; charset=utf-8")], body)


class UriTooLongError(_JsonError):
    code = 414
    reason = "URI Too Long"
    error_code = "uri_too_long"


class HeadersTooLargeError(_JsonError):
    code = 431
    reason = "Request Header Fields Too Large"
    error_code = "headers_too_large"


class LocatorParser(HTTPRequestParser):
    """waitress's parser, with the head-too-large error split into 414 and 431."""

    def received(self, data: bytes) -> int:
        before = self.header_plus
        consumed = int(super().received(data))
        error: object = getattr(self, "error", None)
        if isinstance(error, RequestHeaderFieldsTooLarge):
            limit = int(self.adj.max_request_header_size)
            # Blank lines before a request are allowed (RFC 9112 §2.2) and not its line.
            head = (before + data[:consumed]).lstrip(b"\r\n")
            line_end = head.find(b"\r\n")
            if line_end < 0 or line_end >= limit:
                self.error = UriTooLongError(
                    f"the request line is longer than {limit} bytes; send fewer or shorter "
                    "query parameters")
            else:
                self.error = HeadersTooLargeError(
                    f"the request line and headers are longer than {limit} bytes together; "
                    "send fewer or shorter headers (cookies among them)")
        return consumed


class LocatorChannel(HTTPChannel):
    parser_class = LocatorParser


class QueueLog:
    """Stands in for waitress's queue logger: one warning a minute at most."""

    def __init__(self, logger: logging.Logger, every_s: float = 60.0) -> None:
        self.logger = logger
        self.every_s = every_s
        self._next = 0.0
        self._deepest = 0
        self._lock = threading.Lock()

    def warning(self, msg: str, depth: int, *args: Any) -> None:
        now = time.monotonic()
        with self._lock:
            self._deepest = max(self._deepest, int(depth))
            if now < self._next:
                return
            deepest, self._deepest, self._next = self._deepest, 0, now + self.every_s
        self.logger.warning("requests waited for a thread; the task queue was up to %d deep "
                            "(reported at most every %.0f s)", deepest, self.every_s)


def create_server(application: Any, **kw: Any) -> Any:
    """waitress's ``create_server`` whose listening servers all use :class:`LocatorParser`,
    its requests served by a :class:`~locator.web.lanes.LaneDispatcher`."""
    dispatcher = LaneDispatcher(int(kw.get("threads", 4)), int(kw.pop("write_threads", 0)))
    dispatcher.queue_logger = QueueLog(logging.getLogger("waitress.queue"))
    server = _waitress_server(application, _dispatcher=dispatcher, **kw)
    # One listener comes back bare; several come wrapped with their shared map.
    servers = list(server.map.values()) if hasattr(server, "effective_listen") else [server]
    for s in servers:
        if hasattr(s, "channel_class"):
            s.channel_class = LocatorChannel
    return server
