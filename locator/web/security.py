"""Security headers on every response, and the framing policy.

Only ``/embed`` may be shown inside another site's ``<iframe>``, and only by
the origins in ``EMBED_FRAME_ANCESTORS``; every other page refuses framing
(CSP ``frame-ancestors 'none'`` plus ``X-Frame-Options: DENY`` for browsers
that predate CSP 2). Inline scripts run only with the per-request nonce, so a
station name that slipped into the HTML as markup still could not execute.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, g, request
from markupsafe import Markup

from locator.geo import maps

FRAMEABLE = ("/embed",)
_SCRIPT_TAG = re.compile(r"<script(?![^>]*\bnonce=)", re.I)
_SOURCE = re.compile(r"^(\*|'self'|https?://(\*\.)?[A-Za-z0-9.-]+(:\d+)?|\*\.[A-Za-z0-9.-]+)$")


SERVICE_WORKER = "/static/js/sw.js"
"""The offline worker's path; it is allowed to control the whole site."""

def csp_nonce() -> str:
    """The nonce of this request, created on first use."""
    nonce = getattr(g, "csp_nonce", None)
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return nonce


def with_nonce(html: str) -> Markup:
    """Give every ``<script>`` tag of trusted generated HTML this request's nonce.

    Only for markup the app builds itself (Folium's map parts); station text
    never passes through here.
    """
    return Markup(_SCRIPT_TAG.sub(f'<script nonce="{csp_nonce()}"', str(html)))


def tile_hosts(tiles: str) -> list[str]:
    """CSP host sources for a tile source, wildcarding the ``{s}`` subdomain."""
    src = maps.tile_source(tiles)
    hosts = []
    for url in (src.url, src.overlay_url):
        if not url:
            continue
        parts = urlsplit(url)
        host = parts.netloc
        if "{s}" in host:
            # CSP wildcards cover a whole leftmost label only.
            host = "*." + host.split(".", 1)[1]
        hosts.append(f"{parts.scheme}://{host}")
    return list(dict.fromkeys(hosts))


def frame_ancestors(origins: list[str]) -> str:
    """The ``frame-ancestors`` source list for the embed page."""
    bad = [o for o in origins if not _SOURCE.match(o)]
    if bad:
        msg = (f"setting EMBED_FRAME_ANCESTORS: {bad[0]!r} is not an origin such as "
               "https://example.org, https://*.example.org or *")
        raise ValueError(msg)
    # The embed builder on this site previews the embed in an iframe of its own.
    return " ".join(["'self'", *origins])


def policy(*, frameable: bool, ancestors: str, img_hosts: list[str], nonce: str | None) -> str:
    """The Content-Security-Policy header value for one response."""
    script = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
    framing = ancestors if frameable else "'none'"
    img = " ".join(["'self'", "data:", "blob:", *img_hosts])
    return "; ".join([
        "default-src 'self'",
        f"script-src {script}",
        # Leaflet and Folium position map panes with inline style attributes.
        "style-src 'self' 'unsafe-inline'",
        f"img-src {img}",
        "connect-src 'self'",
        # The proof-of-work widget hashes in a worker it starts from a blob URL.
        "worker-src 'self' blob:",
        "font-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        f"frame-ancestors {framing}",
    ])


def init_app(app: Flask) -> None:
    ancestors = frame_ancestors(list(app.config["EMBED_FRAME_ANCESTORS"]))
    img_hosts = tile_hosts(app.config["TILES"])
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.filters["with_nonce"] = with_nonce

    @app.after_request
    def headers(resp: Response) -> Response:
        frameable = request.path in FRAMEABLE
        nonce = getattr(g, "csp_nonce", None)
        resp.headers["Content-Security-Policy"] = policy(
            frameable=frameable, ancestors=ancestors, img_hosts=img_hosts, nonce=nonce)
        if frameable:
            resp.headers.pop("X-Frame-Options", None)
        else:
            resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        if request.path == SERVICE_WORKER:
            # The worker lives under /static but looks after the map page at /.
            resp.headers["Service-Worker-Allowed"] = "/"
            resp.headers["Cache-Control"] = "no-cache"
        return resp

    app.extensions["locator.frame_ancestors"] = ancestors
