"""Per-client rate limits (flask-limiter over the ``limits`` library).

* Counters live in ``RATE_LIMIT_STORAGE_URI``: process memory by default,
  Redis when several web processes must share them.
* A moving window, so a client cannot take two windows' worth of answers
  across a window boundary.
* If the counter store fails (Redis down), requests are let through and the
  failure is logged: a broken limiter must not take the service down.
* OGC API item pages have their own, larger budget, charged by page size,
  so that a GIS client paging through a whole collection is not cut off.
* The client is the TCP peer; ``X-Forwarded-For`` is read only when the peer
  is one of ``TRUSTED_PROXIES``.
* ``429`` comes in the standard error shape, in Chinese and English, with
  ``Retry-After``; no other answer carries ``Retry-After``.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import re
import time
from typing import Any, cast

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter, RequestLimit
from limits import parse_many

from locator.errors import error_body

# /planner computes (it starts planning jobs), so it shares the API limits.
LIMITED = ("/api/v1/", "/ogc", "/oembed", "/planner")
_ITEMS = re.compile(r"^/ogc/collections/[^/]+/items/?$")
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
log = logging.getLogger("locator.ratelimit")


def parse_limits(name: str, text: str) -> list[str]:
    """Split a ``;``-separated limit setting, refusing anything unparsable."""
    limits = [p.strip() for p in str(text).split(";") if p.strip()]
    for part in limits:
        try:
            parse_many(part)
        except ValueError:
            msg = f"setting {name}: {part!r} is not a limit such as '300 per minute'"
            raise ValueError(msg) from None
    return limits


def proxy_networks(entries: list[str]) -> tuple[_Network, ...]:
    try:
        return tuple(ipaddress.ip_network(e, strict=False) for e in entries)
    except ValueError as exc:
        msg = f"setting TRUSTED_PROXIES: {exc}"
        raise ValueError(msg) from None


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def client_address(peer: str, forwarded: str | None, trusted: tuple[_Network, ...]) -> str:
    """The client's address: the peer, or, behind trusted proxies, the nearest untrusted hop.

    ``X-Forwarded-For`` is read from the right: each trusted proxy appends the
    address it saw, so the rightmost address that is not a trusted proxy is
    the first one no proxy of ours vouches for. Anything left of it may be
    forged by the client.
    """
    def is_trusted(addr: str) -> bool:
        ip = _ip(addr)
        return ip is not None and any(ip in net for net in trusted)

    if not trusted or not forwarded or not is_trusted(peer):
        return peer
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop):
            return hop if _ip(hop) is not None else peer
    return hops[0] if hops else peer


def _key() -> str:
    trusted = current_app.extensions["locator.trusted_proxies"]
    return client_address(request.remote_addr or "", request.headers.get("X-Forwarded-For"),
                          trusted)


def is_items_page() -> bool:
    return bool(_ITEMS.match(request.path))


def _items_cost() -> int:
    # A page is charged for what it makes the server do: 1 plus 1 per 1000 features asked.
    try:
        asked = int(request.args.get("limit", "100"))
    except ValueError:
        asked = 100
    return 1 + max(0, min(asked, 10_000)) // 1000


def retry_after(limit: RequestLimit) -> int:
    return max(1, math.ceil(limit.reset_at - time.time()))


def _rate_limited(limit: RequestLimit) -> Response:
    wait = retry_after(limit)
    body = error_body(429, "too_many_requests",
                      f"请求过于频繁，请 {wait} 秒后再试 / too many requests "
                      f"(limit {limit.limit}); retry in {wait} s")
    resp = cast(Response, current_app.json.response(body))
    resp.status_code = 429
    resp.headers["Retry-After"] = str(wait)
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _storage_options(uri: str) -> dict[str, Any]:
    if uri.startswith(("redis://", "rediss://", "redis+")):
        # A Redis that hangs must not hang requests: give up fast and fail open.
        return {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    return {}


class _FailedOpen(logging.Filter):
    """One line per failure (the error, not its traceback): Redis down means one per request."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            err = record.exc_info[1]
            record.msg = (f"rate limiting failed open, request let through: "
                          f"{type(err).__name__}: {err}")
            record.args = ()
            record.exc_info = None
        return True


def _log_failures() -> None:
    lib = logging.getLogger("flask-limiter")
    if any(isinstance(h, logging.StreamHandler) and getattr(h, "locator", False)
           for h in lib.handlers):
        return
    handler = logging.StreamHandler()
    handler.locator = True  # type: ignore[attr-defined]
    handler.setLevel(logging.WARNING)
    handler.addFilter(_FailedOpen())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s locator: %(message)s"))
    lib.addHandler(handler)


def init_app(app: Flask, *, enabled: bool) -> Limiter:
    """Create the limiter for ``app`` from its settings."""
    app.extensions["locator.trusted_proxies"] = proxy_networks(list(app.config["TRUSTED_PROXIES"]))
    general: list[Any] = parse_limits("RATE_LIMIT", app.config["RATE_LIMIT"])
    items = parse_limits("OGC_ITEMS_RATE_LIMIT", app.config["OGC_ITEMS_RATE_LIMIT"])
    uri = str(app.config["RATE_LIMIT_STORAGE_URI"])
    _log_failures()
    limiter = Limiter(_key, app=app, storage_uri=uri, storage_options=_storage_options(uri),
                      strategy="moving-window", key_prefix="locator",
                      application_limits=general,
                      application_limits_exempt_when=lambda: (
                          request.method == "OPTIONS"
                          or not request.path.startswith(LIMITED)
                          or is_items_page()),
                      default_limits=[";".join(items)] if items else None,
                      default_limits_exempt_when=lambda: (
                          request.method == "OPTIONS" or not is_items_page()),
                      default_limits_cost=_items_cost,
                      headers_enabled=True, swallow_errors=True, on_breach=_rate_limited,
                      enabled=enabled)

    def only_on_429(resp: Response) -> Response:
        if resp.status_code != 429:
            resp.headers.pop("Retry-After", None)
        return resp

    # Runs after every other after_request hook, the limiter's header injection included
    # (Flask calls them in reverse order of registration).
    app.after_request_funcs.setdefault(None, []).insert(0, only_on_429)
    return limiter
