"""Whole-dataset downloads: ``/api/v1/stations.geojson`` and ``/api/v1/stations.csv``."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from locator import memo
from locator.domain import params
from locator.living import flagcols
from locator.stations import export
from locator.web import feedback_flags, state

bp = Blueprint("downloads", __name__, url_prefix="/api/v1")
# Bodies live in the shared byte-bounded store (CACHE_MB). At 1M stations one
# GeoJSON body is 719 MB, so bodies of big datasets are never built whole: they
# stream as they are written.
_CACHE_ROWS = 50_000


def _download(fmt: str) -> Response:
    ds = state.current()
    crs = params.crs(request.args.get("crs"))
    source = request.args.get("source") or ""
    # Bodies carry the feedback flags, so a new report or check makes a new body.
    got = feedback_flags.now()
    key = ("downloads", ds.version, fmt, crs, source, flagcols.stamp(got))
    etag = "-".join((*key[1:4], key[5]))
    if source:
        etag += "-" + hashlib.sha256(source.encode("utf-8")).hexdigest()[:12]
    if request.if_none_match.contains(etag):
        return Response(status=304, headers={"ETag": f'"{etag}"'})
    body = memo.store().get(key)
    body_stream: Iterator[bytes] | None = None
    make = export.geojson_chunks if fmt == "geojson" else export.csv_chunks
    mimetype = export.MEDIA[fmt].split(";")[0]
    if body is None:
        frame = ds.frame if not source else ds.frame[ds.frame["source"] == source]
        frame = flagcols.add_to_frame(frame, got)
        if len(frame) > _CACHE_ROWS:
            body_stream = make(frame, crs)
        else:
            body = b"".join(make(frame, crs))
            # Bodies of a replaced version are never asked for again: drop them first.
            memo.store().discard(lambda k: isinstance(k, tuple) and k[0] == "downloads"
                                 and k[1] != ds.version)
            memo.store().put(key, body)
    resp = Response(body if body is not None else body_stream, mimetype=mimetype)
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
