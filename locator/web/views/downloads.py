"""Whole-dataset downloads: ``/api/v1/stations.geojson`` and ``/api/v1/stations.csv``."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from locator.domain import params
from locator.stations import export
from locator.web import state

bp = Blueprint("downloads", __name__, url_prefix="/api/v1")
_CACHE: OrderedDict[tuple[str, str, str, str], bytes] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 6


def _download(fmt: str) -> Response:
    ds = state.current()
    crs = params.crs(request.args.get("crs"))
    source = request.args.get("source") or ""
    key = (ds.version, fmt, crs, source)
    etag = "-".join(key[:3])
    if source:
        etag += "-" + hashlib.sha256(source.encode("utf-8")).hexdigest()[:12]
    if request.if_none_match.contains(etag):
        return Response(status=304, headers={"ETag": f'"{etag}"'})
    with _CACHE_LOCK:
        body = _CACHE.get(key)
    if body is None:
        frame = ds.frame if not source else ds.frame[ds.frame["source"] == source]
        body = export.geojson_bytes(frame, crs) if fmt == "geojson" else \
            export.csv_bytes(frame, crs)
        with _CACHE_LOCK:
            _CACHE[key] = body
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    resp = Response(body, mimetype=export.MEDIA[fmt].split(";")[0])
    if fmt == "csv":
        resp.headers["Content-Type"] = export.MEDIA["csv"]
    resp.headers["Content-Disposition"] = f'attachment; filename="stations-{crs}.{fmt}"'
    resp.set_etag(etag)
    if ds.demo:
        resp.headers["X-Locator-Demo"] = "true"
    return resp


@bp.get("/stations.geojson")
def stations_geojson() -> ResponseReturnValue:
    return _download("geojson")


@bp.get("/stations.csv")
def stations_csv() -> ResponseReturnValue:
    return _download("csv")
