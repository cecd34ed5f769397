"""What data consumers get on the public GET APIs.

* CORS: any origin may read ``/api/v1``, ``/ogc`` and ``/openapi.json``.
* Validators: an ``ETag`` built from the dataset version and the request, and
  ``Last-Modified`` from the dataset file; a matching ``If-None-Match`` (or,
  without it, ``If-Modified-Since``) answers ``304`` before any work is done.
* ``Cache-Control: public, max-age=API_MAX_AGE`` on successful answers.
* Per-client rate limiting (see :mod:`locator.web.ratelimit`), answering
  ``429`` in the standard error shape.

Answers that depend on the clock (``/api/v1/nearest`` reports whether each
station is open now, and any ``open_now=`` filter) fold the current minute
into their ETag, since opening hours are evaluated to the minute.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask_limiter import Limiter

from locator.web import feedback_flags, ratelimit, state
from locator.web.urls import base_url

PUBLIC = ("/api/v1/", "/ogc", "/openapi.json")
NEGOTIATED = ("/ogc",)
EXPOSE = ("ETag, Last-Modified, Link, Retry-After, X-RateLimit-Limit, "
          "X-RateLimit-Remaining, X-RateLimit-Reset, Content-Language")


# Answers that depend on who asks or on the write path, not on the dataset version:
# never given dataset validators, shared-cache headers or open CORS.
PERSONAL = ("/api/v1/admin", "/api/v1/session", "/api/v1/reports/", "/api/v1/challenge")


def is_public(path: str) -> bool:
    return (path.startswith(PUBLIC) or path == "/ogc") and not path.startswith(PERSONAL)


def _clock_dependent() -> bool:
    if request.path == "/api/v1/nearest":
        return True
    flag = request.args.get("open_now", "").strip().lower()
    return flag not in ("", "0", "false", "no", "off")


def etag_for(version: str, full_path: str, *, accept: str = "", minute: int | None = None) -> str:
    """The validator: same dataset, same request (and minute) -> same tag."""
    h = hashlib.sha1(usedforsecurity=False)
    for part in (full_path, accept, "" if minute is None else str(minute)):
        h.update(part.encode())
        h.update(b"\0")
    return f"{version}-{h.hexdigest()[:16]}"


def last_modified(app: Flask, version: str, path: Path | None) -> datetime:
    """When the served dataset last changed: its file's mtime, else when it was loaded."""
    seen: dict[str, datetime] = app.extensions.setdefault("locator.loaded_at", {})
    got = seen.get(version)
    if got is None:
        if path is not None and Path(path).is_file():
            got = datetime.fromtimestamp(int(Path(path).stat().st_mtime), UTC)
        else:
            got = datetime.fromtimestamp(int(time.time()), UTC)
        seen[version] = got
    return got


def _matches(header: str | None, tag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    tags = [t.strip().removeprefix("W/").strip('"') for t in header.split(",")]
    return tag in tags


def _not_modified_since(header: str | None, stamp: datetime) -> bool:
    if not header:
        return False
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return stamp <= since


def _cors(resp: Response) -> None:
    resp.headers["Access-Control-Allow-Origin"] = "*"
    resp.headers["Access-Control-Expose-Headers"] = EXPOSE
    if request.method == "OPTIONS":
        resp.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        resp.headers["Access-Control-Allow-Headers"] = (
            "Accept, Accept-Language, If-None-Match, If-Modified-Since")
        resp.headers["Access-Control-Max-Age"] = "86400"


def _validators() -> dict[str, Any] | None:
    if request.method not in ("GET", "HEAD") or not is_public(request.path):
        return None
    ds = state.current()
    clock = _clock_dependent()
    accept = request.headers.get("Accept", "") if request.path.startswith(NEGOTIATED) else ""
    minute = int(time.time() // 60) if clock else None
    # Links in the answers carry the host, so it is part of the request's identity;
    # station answers carry the feedback flags, so their content is part of it too.
    tag = etag_for(f"{ds.version}-{feedback_flags.stamp()}", base_url() + request.full_path,
                   accept=accept, minute=minute)
    stamp = None if clock else last_modified(current_app, ds.version, ds.path)
    return {"etag": tag, "last_modified": stamp, "minute": minute}


def request_minute() -> int:
    """The minute (epoch minutes) this request is answered for, the one its ETag names.

    An answer built a moment later, after the minute turned, still says what
    was open in the minute its validator was made for.
    """
    v = getattr(g, "validators", None)
    got = v.get("minute") if v else None
    return int(time.time() // 60) if got is None else int(got)


def _apply(resp: Response, v: dict[str, Any]) -> None:
    max_age = current_app.config["API_MAX_AGE"]
    # Weak: answers carry a generation timeStamp, so equal tags mean equivalent, not
    # byte-identical, bodies.
    resp.set_etag(v["etag"], weak=True)
    if v["last_modified"] is not None:
        resp.headers["Last-Modified"] = format_datetime(v["last_modified"], usegmt=True)
    if request.path == "/api/v1/health":
        resp.headers["Cache-Control"] = "no-cache"
    else:
        resp.headers["Cache-Control"] = f"public, max-age={max_age}"
    if request.path.startswith(NEGOTIATED):
        resp.vary.add("Accept")


def init_app(app: Flask, *, explicit: set[str]) -> Limiter:
    """Install CORS, validators, caching and the rate limiter.

    Under ``TESTING`` the limiter stays off unless the test config names
    ``RATE_LIMIT_ENABLED``, so suites and benchmarks are not throttled.
    """
    enabled = bool(app.config["RATE_LIMIT_ENABLED"])
    if app.testing and "RATE_LIMIT_ENABLED" not in explicit:
        enabled = False
    limiter = ratelimit.init_app(app, enabled=enabled)

    @app.before_request
    def conditional() -> Response | None:
        v = _validators()
        g.validators = v
        if v is None:
            return None
        fresh = _matches(request.headers.get("If-None-Match"), v["etag"])
        if not fresh and "If-None-Match" not in request.headers and v["last_modified"]:
            fresh = _not_modified_since(request.headers.get("If-Modified-Since"),
                                        v["last_modified"])
        if fresh:
            resp = Response(status=304)
            _apply(resp, v)
            return resp
        return None

    @app.after_request
    def consumer_headers(resp: Response) -> Response:
        if not is_public(request.path):
            return resp
        _cors(resp)
        v = getattr(g, "validators", None)
        if v is not None and resp.status_code == 200:
            _apply(resp, v)
        elif resp.status_code >= 400:
            resp.headers["Cache-Control"] = "no-store"
        return resp

    return limiter
