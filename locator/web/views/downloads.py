"""Whole-dataset downloads: ``/api/v1/stations.geojson`` and ``/api/v1/stations.csv``."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from locator.domain import params
from locator.stations import export
from locator.web import state

bp = Blueprint("downloads", __name__, url_prefix="/api/v1")
_CACHE: OrderedDict[tuple[str, str, str, str], bytes] = OrderedDict()
_CACHE_LOCK = threading.Lock()
# Bounded in bytes, not entries: at 1M stations one GeoJSON body is 719 MB,
# so bodies of big datasets are never kept; they stream as they are written.
_CACHE_BYTES = 64 << 20
_CACHE_ROWS = 50_000


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
    body_stream: Iterator[bytes] | None = None
    make = export.geojson_chunks if fmt == "geojson" else export.csv_chunks
    mimetype = export.MEDIA[fmt].split(";")[0]
    if body is None:
        frame = ds.frame if not source else ds.frame[ds.frame["source"] == source]
        if len(frame) > _CACHE_ROWS:
            body_stream = make(frame, crs)
        else:
            body = b"".join(make(frame, crs))
            _remember(key, body)
    resp = Response(body if body is not None else body_stream, mimetype=mimetype)
    if fmt == "csv":
        resp.headers["Content-Type"] = export.MEDIA["csv"]
    resp.headers["Content-Disposition"] = f'attachment; filename="stations-{crs}.{fmt}"'
    resp.set_etag(etag)
    if ds.demo:
        resp.headers["X-Locator-Demo"] = "true"
    return resp


def _remember(key: tuple[str, str, str, str], body: bytes) -> None:
    if len(body) > _CACHE_BYTES:
        return
    with _CACHE_LOCK:
        _CACHE[key] = body
        while sum(map(len, _CACHE.values())) > _CACHE_BYTES:
            _CACHE.popitem(last=False)


@bp.get("/stations.geojson")
def stations_geojson() -> ResponseReturnValue:
    return _download("geojson")


@bp.get("/stations.csv")
def stations_csv() -> ResponseReturnValue:
    return _download("csv")
