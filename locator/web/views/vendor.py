"""Serve Leaflet and its plugins from their PyPI xstatic packages, never a CDN."""

from __future__ import annotations

from flask import Blueprint, Response, abort, send_from_directory

from locator.geo.maps import VENDOR_PACKAGES as PACKAGES

bp = Blueprint("vendor", __name__, url_prefix="/vendor")


@bp.get("/<name>/<path:filename>")
def asset(name: str, filename: str) -> Response:
    base = PACKAGES.get(name)
    if base is None:
        abort(404)
    resp = send_from_directory(base, filename, max_age=7 * 24 * 3600)
    return resp
