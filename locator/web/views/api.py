"""JSON API under /api/v1: thin adapters from query strings to core functions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from locator.domain import params, schema
from locator.domain.params import TABLE as P
from locator.geo import datum, geocoder, outlines, regions
from locator.living import flagcols, flags
from locator.living.flags import Flags
from locator.stations import answers, osm_search
from locator.stations import search as place_search
from locator.stations.dataset import Dataset
from locator.stations.nearest import (
    ORDERS,
    NearestQuery,
    NetworkWalk,
    dataset_meta,
    find_nearest,
    open_state_props,
    to_features,
)
from locator.stations.viewport import in_view
from locator.web import consumers, feedback_flags, jsonio, state
from locator.web.urls import base_url

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _plain_args() -> tuple[dict[str, str], Callable[[str], list[str]]]:
    """The query's parameters (first value of each) and a getter of repeated ones.

    A query string with nothing encoded and no name repeated, which is what
    the page and nearly every client send, is split directly: werkzeug's
    general parser costs several times more than the search's own set-up.
    Anything else goes through ``request.args``, so both mean the same.
    """
    qs = request.environ.get("QUERY_STRING", "")
    # WSGI gives the query as Latin-1 text; werkzeug reads it as UTF-8.
    if qs.isascii() and "%" not in qs and "+" not in qs:
        a: dict[str, str] = {}
        for pair in qs.split("&"):
            if pair:
                name, _, value = pair.partition("=")
                if name in a:
                    break
                a[name] = value
        else:
            return a, lambda name: [a[name]] if name in a else []
    return request.args.to_dict(), request.args.getlist


def _nearest_query(a: dict[str, str], lists: Callable[[str], list[str]],
                   when: datetime | None = None) -> NearestQuery:
    cfg = current_app.config
    return NearestQuery(
        lat=P["lat"].parse(a.get("lat")),
        lon=P["lon"].parse(a.get("lon")),
        k=P["k"].parse(a.get("k"), cfg=cfg, default=cfg["DEFAULT_K"]),
        kinds=params.kinds(lists("kind")),
        amenity_mask=params.amenities(lists("amenity")),
        open_now=params.boolean("open_now", a.get("open_now")),
        include_temporarily_closed=params.boolean("include_temporarily_closed",
                                                  a.get("include_temporarily_closed")),
        max_distance_m=(P["max_distance_m"].parse(a.get("max_distance_m"), cfg=cfg)
                        if a.get("max_distance_m") not in (None, "") else None),
        crs=params.crs(a.get("crs")),
        out_crs=params.crs(a.get("out_crs"), field="out_crs"),
        lang=params.lang(a.get("lang")),
        when=when,
    )


def _decorate(features: list[dict[str, Any]]) -> None:
    got = feedback_flags.now()
    for f in features:
        flags.decorate(f["properties"], got)


def _lang() -> str:
    return params.lang(request.args.get("lang"))


def _network_walk() -> NetworkWalk | None:
    from locator.planning import network_distance

    return network_distance.network_walk(current_app.config)


def _network_key() -> str:
    from locator.planning import network_distance

    return network_distance.recent_key(current_app.config)


@bp.get("/nearest")
def nearest() -> ResponseReturnValue:
    ds = state.current()
    got = feedback_flags.now()
    minute = consumers.request_minute()
    # Everything the answer depends on besides the dataset and the minute, which
    # the cache holds implicitly: the request as written (its parameters are
    # validated the same way each time), the host its links carry, the feedback
    # flags and the street graph.
    graph = _network_key()
    # The path and query as sent (werkzeug's full_path decodes them again, a cost).
    key = (base_url(), f"{request.path}?{request.environ.get('QUERY_STRING', '')}",
           flagcols.stamp(got), graph)
    body = answers.get(ds, minute, key)
    if body is None:
        # No graph configured (the usual case): no need to look for one again.
        body = _nearest_answer(ds, got, minute, _network_walk() if graph else None)
        answers.put(ds, minute, key, body)
    return current_app.response_class(body, mimetype="application/json")


def _nearest_answer(ds: Dataset, got: Flags, minute: int,
                    network_walk: NetworkWalk | None) -> bytes:
    """The nearest answer's JSON for this request, evaluated at ``minute``."""
    a, lists = _plain_args()
    q = _nearest_query(a, lists, datetime.fromtimestamp(minute * 60, UTC))
    links = params.choice("links", a.get("links"), ("all", "web", "none"), default="all")
    order = params.choice("order", a.get("order"), ORDERS, default="distance")
    # Each station's fixed JSON is encoded once per dataset; only distances, times,
    # today's state and the feedback flags are added per request.
    fc = find_nearest(ds, q, walking=state.walking(), with_links=links,
                      open_first=order == "open_first", network_walk=network_walk,
                      extra_json=feedback_flags.json_for_few(ds, got), serialised=True)
    # The service covers Henan: a point outside still gets the nearest stations,
    # with their true distance, and the page says plainly that it is outside.
    fc["query"]["in_service_area"] = regions.in_service_area(
        fc["query"]["lon"], fc["query"]["lat"], current_app.config["BOUNDARIES_DIR"])
    return jsonio.dumps(fc)


@bp.get("/stations/<station_id>")
def station(station_id: str) -> ResponseReturnValue:
    ds = state.current()
    out_crs = params.crs(request.args.get("out_crs"), field="out_crs")
    row = ds.row(station_id)
    feat = to_features(ds, np.array([row]), out_crs=out_crs, lang=_lang())[0]
    # The card opened from a marker needs today's state just as the list does.
    feat["properties"].update(open_state_props(ds, np.array([row]))[0])
    _decorate([feat])
    feat["dataset"] = dataset_meta(ds)
    return jsonify(feat)


@bp.get("/stations/<station_id>/isochrone")
def isochrone(station_id: str) -> ResponseReturnValue:
    """The area reachable on foot from a station within ``minutes``, as GeoJSON."""
    import shapely

    from locator.errors import LocatorError
    from locator.planning import network_distance

    ds = state.current()
    row = ds.row(station_id)
    cfg = current_app.config
    minutes = params.number("minutes", request.args.get("minutes"), lo=1, hi=120, default=15)
    net = network_distance.load(cfg)
    if net is None:
        raise LocatorError(409, "no_network", "no street graph is configured: build one with "
                           "`locator network build --osm FILE.osm.pbf` or set NETWORK_PATH")
    speed = float(cfg["WALK_SPEED_M_PER_MIN"])
    out_crs = params.crs(request.args.get("out_crs"), field="out_crs")
    geom, _, joined = network_distance.isochrone(net, float(ds.lon[row]), float(ds.lat[row]),
                                                 distance=minutes * speed)
    if out_crs != "wgs84":
        # Drawn on Chinese tiles, the area is shifted into their datum like the markers.
        geom = shapely.transform(geom, lambda xy: np.column_stack(
            datum.from_wgs84(xy[:, 0], xy[:, 1], out_crs)))
    return jsonify({"type": "Feature", "geometry": shapely.geometry.mapping(geom),
                    "properties": {"id": station_id, "minutes": minutes,
                                   "distance_m": minutes * speed, "mode": net.graph.mode,
                                   "network_version": net.version,
                                   "reachable": joined, "demo": bool(ds.demo),
                                   "coordinates_datum": out_crs}})


@bp.get("/stations")
def stations() -> ResponseReturnValue:
    a = request.args
    crs = params.crs(a.get("crs"))
    cfg = current_app.config
    limit = P["limit"].parse(a.get("limit"), cfg=cfg, default=cfg["BBOX_LIMIT"])
    ds = state.current()
    out = in_view(ds, params.bbox(a.get("bbox")), crs=crs,
                  kinds=params.kinds(a.getlist("kind")),
                  amenity_mask=params.amenities(a.getlist("amenity")),
                  open_now=params.boolean("open_now", a.get("open_now")), limit=limit,
                  grid=P["grid"].parse(a.get("grid")),
                  lang=params.lang(a.get("lang")), extra=feedback_flags.for_rows(ds))
    return jsonify(out)


@bp.get("/vocabulary")
def vocabulary() -> ResponseReturnValue:
    return jsonify(schema.vocabulary())


@bp.get("/health")
def health() -> ResponseReturnValue:
    ds = state.current()
    body: dict[str, Any] = {"status": "ok", "stations": len(ds), **dataset_meta(ds),
                            **state.health()}
    return jsonify(body)


@bp.get("/convert")
def convert() -> ResponseReturnValue:
    """Convert one point between WGS-84, GCJ-02 and BD-09."""
    a = request.args
    lat = params.number("lat", a.get("lat"), lo=-90, hi=90)
    lon = params.number("lon", a.get("lon"), lo=-180, hi=180)
    src = params.crs(a.get("from"), field="from")
    dst = params.crs(a.get("to"), field="to")
    x, y = datum.to_wgs84(lon, lat, src)
    x, y = datum.from_wgs84(x, y, dst)
    return jsonify({"lon": round(float(x), 7), "lat": round(float(y), 7), "crs": dst})


@bp.get("/outlines")
def county_outlines() -> ResponseReturnValue:
    """Simplified county outlines, the map's fallback base layer when tiles fail."""
    crs = params.crs(request.args.get("crs"))
    body = outlines.county_outlines(current_app.config["BOUNDARIES_DIR"], crs=crs)
    resp = current_app.response_class(body, mimetype="application/geo+json")
    resp.headers["Cache-Control"] = "public, max-age=86400"
    return resp


@bp.get("/search")
def search() -> ResponseReturnValue:
    """Station names and addresses, county and city names, OSM names, ranked, typo-tolerant."""
    a = request.args
    q = params.text("q", a.get("q"), max_chars=place_search.MAX_QUERY_CHARS)
    limit = params.integer("limit", a.get("limit"), lo=1, hi=50, default=10)
    _lang()
    hits = place_search.search(state.current(), q,
                               boundaries_dir=current_app.config["BOUNDARIES_DIR"], limit=limit,
                               osm=osm_search.configured(current_app.config))
    body: dict[str, Any] = {"query": q, "results": hits}
    online = geocoder.configured(current_app.config)
    # Our own names answer first; the online service only fills a short list, and a
    # single character would spend the key's quota on every keystroke.
    if online is not None and len(hits) < limit and len(q) >= 2:
        try:
            hits.extend(online.lookup(q)[: limit - len(hits)])
            body["geocoder"] = {"service": online.service, "status": "ok"}
        except geocoder.GeocoderUnavailableError as exc:
            current_app.logger.warning("geocoder unavailable: %s", exc)
            body["geocoder"] = {"service": online.service, "status": "unavailable"}
    body["numberReturned"] = len(hits)
    body["dataset"] = dataset_meta(state.current())
    return jsonify(body)
