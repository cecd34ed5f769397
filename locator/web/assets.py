"""Versioned static URLs, so that a phone keeps scripts and styles without asking again.

Every ``url_for('static', ...)`` gains ``?v=<content hash>``; an answer to a
request carrying the current hash may be kept for a year, because a changed
file gets a new URL. Without versions each asset cost a revalidation round
trip on every visit (400 ms on a weak mobile link) before the list could show.
The service worker script is left out: browsers check it on their own terms.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from flask import Flask, Response, request

YEAR = 365 * 24 * 3600
UNVERSIONED = frozenset({"js/sw.js", "manifest.webmanifest"})


_SEEN: dict[tuple[Path, float], str] = {}


def _digest(path: Path) -> str:
    """Short content hash of ``path``, recomputed when its mtime changes."""
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return ""
    key = (path, mtime)
    hit = _SEEN.get(key)
    if hit is None:
        hit = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        _SEEN[key] = hit
    return hit


def init_app(app: Flask) -> None:
    folder = Path(app.static_folder or ".")

    @app.url_defaults
    def versioned(endpoint: str, values: dict[str, Any]) -> None:
        name = values.get("filename")
        if endpoint != "static" or not name or name in UNVERSIONED or "v" in values:
            return
        v = _digest(folder / name)
        if v:
            values["v"] = v

    @app.after_request
    def keep(resp: Response) -> Response:
        if request.endpoint != "static" or resp.status_code not in (200, 304):
            return resp
        name = (request.view_args or {}).get("filename", "")
        v = request.args.get("v")
        if v and v == _digest(folder / name):
            resp.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
            resp.headers.pop("Expires", None)
        return resp
