"""The nearest-station use case: a query in, ranked stations out.

``find_nearest`` is plain Python over a :class:`~locator.stations.dataset.Dataset`; the
web view and the CLI both call it. Results are GeoJSON features in WGS-84
(RFC 7946), or in a Chinese datum when a map drawn on such tiles asks for it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import numpy as np

from locator.domain import hours, schema
from locator.geo import datum
from locator.stations import prebuilt
from locator.stations.dataset import Dataset
from locator.stations.filters import hour_states, row_filter


@dataclass(frozen=True)
class NearestQuery:
    lon: float
    lat: float
    k: int = 10
    kinds: Sequence[str] = ()
    amenity_mask: int = 0
    open_now: bool = False
    include_temporarily_closed: bool = False
    max_distance_m: float | None = None
    crs: str = "wgs84"
    out_crs: str = "wgs84"
    lang: str = "zh"
    when: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Walking:
    speed_m_per_min: float = 75.0
    detour_factor: float = 1.3

    def minutes(self, distance_m: np.ndarray) -> np.ndarray:
        return np.ceil(distance_m * self.detour_factor / self.speed_m_per_min).astype(int)


# Walking distance along the streets from the query point to each station:
# ``(lon, lat, station_lon, station_lat, limit) -> metres``, ``nan`` where a point
# is off the street graph and ``inf`` past the limit (see ``Network.walk_to``).
NetworkWalk = Callable[[float, float, np.ndarray, np.ndarray, float], np.ndarray]
# Streets are searched up to this multiple of the farthest straight distance in
# the list: a path three times the straight line is no walk anyone takes.
NETWORK_SEARCH_FACTOR = 3.0
# More properties for listed rows, as columns aligned with them (the feedback flags).
Extra = Callable[[np.ndarray], Mapping[str, Sequence[Any]]]
# The same, already encoded: per row, its JSON members each preceded by a comma
# (``b',"reported":[],"last_verified":null'``), or ``b""`` for none.
ExtraJSON = Callable[[np.ndarray], list[bytes]]


_OPEN_NOW = {1: True, 0: False, -1: None}
_OPEN_STATE = {1: "open", 0: "closed", -1: "unknown"}
# Sort rank per state code (index code + 1): open, then unknown, then closed.
_OPEN_RANK = np.array([1, 2, 0], dtype=np.int8)
ORDERS = ("distance", "open_first")


# A truck in mixed town and county-road traffic, detour included: about 30 km/h
# along the straight line. Only an estimate, labelled "about" on the page.
DRIVE_M_PER_MIN = 500.0
DRIVER_HOME = schema.KIND_INDEX["driver_home"]
# Past this straight-line distance nobody walks there; the answer gives the
# distance alone (``walk_min`` is null) instead of hours of walking.
MAX_WALK_M = 10_000.0


def open_state_props(ds: Dataset, rows: np.ndarray,
                     when: datetime | None = None) -> list[dict[str, Any]]:
    """``open_now`` and ``open_state`` of each row at ``when`` (now by default)."""
    states = hour_states(ds, when)[ds.hours_code[np.asarray(rows, dtype=np.int64)]]
    return [{"open_now": _OPEN_NOW[s], "open_state": _OPEN_STATE[s]} for s in states.tolist()]


def walk_distances(walk: NetworkWalk | None, lon: float, lat: float, slon: np.ndarray,
                   slat: np.ndarray, straight: np.ndarray, walking: Walking
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Walking distance to each station and what it is based on (``network``/``estimate``).

    Along the street graph where both ends join it; elsewhere the estimate,
    straight-line distance times the detour factor. ``inf`` is a station the
    streets do not reach within :data:`NETWORK_SEARCH_FACTOR` times the
    farthest straight distance listed (nor :data:`MAX_WALK_M`).
    """
    est = straight * walking.detour_factor
    basis = np.full(len(straight), "estimate", dtype=object)
    if walk is None or not len(straight):
        return est, basis
    limit = min(MAX_WALK_M, NETWORK_SEARCH_FACTOR * float(straight.max()))
    net = walk(lon, lat, slon, slat, limit)
    on = ~np.isnan(net)
    basis[on] = "network"
    return np.where(on, net, est), basis


def find_nearest(ds: Dataset, q: NearestQuery, *, walking: Walking | None = None,
                 with_links: bool | str = True, open_first: bool = False,
                 network_walk: NetworkWalk | None = None, extra: Extra | None = None,
                 extra_json: ExtraJSON | None = None,
                 serialised: bool = False) -> dict[str, Any]:
    """Rank stations by geodesic distance from the query point.

    Returns a GeoJSON FeatureCollection. The query point may be given in
    GCJ-02 or BD-09 (``q.crs``); it is converted to WGS-84 before searching.
    With ``open_first`` the ``k`` nearest are regrouped, keeping distance
    order within each group: open now, then unknown hours, then closed now.
    With ``network_walk`` (a walking street graph), ``walk_distance_m`` and
    ``walk_min`` run along the streets and ``walk_basis`` says ``network``;
    otherwise, and for points off the graph, they are the straight-line
    estimate (``walk_basis: "estimate"``). The list stays ranked by straight
    distance, as the map shows it.

    ``extra(rows)`` gives more properties as columns aligned with the rows
    (the feedback flags); they come last. With ``serialised`` the features are
    one ``orjson.Fragment`` of their finished JSON array, each station's fixed
    part taken from :mod:`locator.stations.prebuilt`, for answers that only get
    encoded; ``extra_json`` then gives the extra properties already encoded
    (see :data:`ExtraJSON`), in place of ``extra``.
    """
    walking = walking or Walking()
    lon, lat = float(q.lon), float(q.lat)
    if q.crs != "wgs84":
        x, y = datum.to_wgs84(lon, lat, q.crs)
        lon, lat = float(x), float(y)
    kind_codes = [schema.KIND_INDEX[k] for k in q.kinds] if q.kinds else None
    accept = row_filter(ds, amenity_mask=q.amenity_mask, open_now=q.open_now, when=q.when)
    index = ds.index_with_temporary if q.include_temporarily_closed else ds.index
    hits = index.query(lon, lat, k=q.k, kinds=kind_codes, accept=accept,
                          max_distance_m=q.max_distance_m)
    states = hour_states(ds, q.when)[ds.hours_code[hits.rows]]
    rows, dist, az = hits.rows, hits.distance_m, hits.azimuth_deg
    if open_first:
        order = np.argsort(_OPEN_RANK[states + 1], kind="stable")
        rows, dist, az, states = rows[order], dist[order], az[order], states[order]
    drive = (ds.kind[rows] == DRIVER_HOME).tolist()
    features: Any
    trips: Iterable[tuple[Any, ...]]
    if network_walk is None and serialised:
        trips = _estimate_trips(dist.tolist(), az.tolist(), states.tolist(), drive, walking)
    else:
        walk_d, on = walk_distances(network_walk, lon, lat, ds.lon[rows], ds.lat[rows], dist,
                                    walking)
        # The estimate keeps its rule (straight distance within MAX_WALK_M); a street
        # distance is walkable when it is itself within MAX_WALK_M.
        walkable = np.where(on == "network", walk_d <= MAX_WALK_M, dist <= MAX_WALK_M)
        walk_min = np.ceil(np.where(walkable, walk_d, 0.0) / walking.speed_m_per_min
                           ).astype(int)
        columns = [np.round(dist, 1).tolist(), np.round(az % 360.0, 1).tolist(),
                   states.tolist(), walk_min.tolist(), walkable.tolist(),
                   np.round(np.where(np.isfinite(walk_d), walk_d, -1.0)).tolist(),
                   on.tolist(), drive, np.ceil(dist / DRIVE_M_PER_MIN).astype(int).tolist()]
        trips = zip(*columns, strict=True)
    if serialised:
        heads = prebuilt.heads(ds, rows, to_features, out_crs=q.out_crs,
                               links=prebuilt.links_variant(with_links), lang=q.lang)
        if extra_json is not None:
            members = extra_json(rows)
        else:
            more = (extra(rows) if extra is not None else {}).items()
            members = prebuilt.members_of([col for _, col in more], [n for n, _ in more],
                                          len(rows))
        features = prebuilt.features(heads, _tails(trips, members))
    else:
        more_cols = list((extra(rows) if extra is not None else {}).items())
        names = [name for name, _ in more_cols]
        features = to_features(ds, rows, out_crs=q.out_crs, with_links=with_links,
                               lang=q.lang)
        for f, vals in zip(features, zip(*columns, *(c for _, c in more_cols), strict=True),
                           strict=True):
            f["properties"].update(_trip(vals, dict(zip(names, vals[9:], strict=True))))
    return {
        "type": "FeatureCollection",
        "features": features,
        "numberReturned": len(rows),
        "query": {"lon": lon, "lat": lat, "crs": "wgs84", "k": q.k,
                  "kind": list(q.kinds), "open_now": q.open_now,
                  "max_distance_m": q.max_distance_m,
                  "order": "open_first" if open_first else "distance",
                  "walk_distance": "network" if network_walk is not None else "estimate"},
        "coordinates_datum": q.out_crs,
        "dataset": dataset_meta(ds),
    }


def _estimate_trips(dist: list[float], az: list[float], states: list[int],
                   drive: list[bool], walking: Walking) -> Iterator[tuple[Any, ...]]:
    """Per listed station, the values :func:`_trip` takes, when every walk is the estimate.

    Plain arithmetic on the few listed values, each step the one numpy's
    ``round``, ``ceil`` and ``%`` take on an array (``round(x)`` rounds half to
    even like ``rint``), so the figures are those of the arrays the other
    answers are computed with; a dozen tiny array operations cost more than
    the search. The equality is tested.
    """
    detour, speed = walking.detour_factor, walking.speed_m_per_min
    for d, a, st, dr in zip(dist, az, states, drive, strict=True):
        w = d * detour
        yield (round(d * 10.0) / 10, round((a % 360.0) * 10.0) / 10, st, math.ceil(w / speed),
               d <= MAX_WALK_M, float(round(w)), "estimate", dr,
               math.ceil(d / DRIVE_M_PER_MIN))


def _trip(vals: Sequence[Any], more: dict[str, Any]) -> dict[str, Any]:
    """The properties of one listed station that depend on where and when it was asked.

    ``vals`` holds, in this order, the distance, bearing, hours state, walking
    minutes, whether walkable, walking metres, its basis, whether a driving
    trip and the driving minutes (any more values are ignored).
    """
    d, az, st, w, ok, wd, wb, dr, dm = vals[:9]
    p: dict[str, Any] = {"distance_m": d, "bearing_deg": az, "walk_min": w if ok else None,
                         "walk_distance_m": wd if wd >= 0 else None, "walk_basis": wb,
                         # Driver homes are driving trips; the page shows drive_min for them.
                         "trip_mode": "drive" if dr else "walk"}
    if dr:
        p["drive_min"] = dm
    p["open_now"] = _OPEN_NOW[st]
    p["open_state"] = _OPEN_STATE[st]
    p.update(more)
    return p


_STATE_JSON = {1: '"open_now":true,"open_state":"open"',
               0: '"open_now":false,"open_state":"closed"',
               -1: '"open_now":null,"open_state":"unknown"'}


def _tails(trips: Iterable[tuple[Any, ...]], members: Sequence[bytes]) -> list[bytes]:
    """Each row's per-request properties as :func:`_trip` gives them from its
    values in ``trips``, encoded, with ``members`` appended and the feature
    closed: what follows its prebuilt head.

    Formatted directly rather than through a dict and ``orjson`` per row, which
    cost more than the search: the values are numbers, booleans and fixed
    words, and ``repr`` writes a float in the same shortest round-trip form as
    ``orjson``. The equality with the dict path is tested.
    """
    out = []
    for (d, az, st, w, ok, wd, wb, dr, dm), more in zip(trips, members, strict=True):
        trip = f'"trip_mode":"drive","drive_min":{dm}' if dr else '"trip_mode":"walk"'
        out.append(f'"distance_m":{d!r},"bearing_deg":{az!r},'
                   f'"walk_min":{w if ok else "null"},'
                   f'"walk_distance_m":{repr(wd) if wd >= 0 else "null"},'
                   f'"walk_basis":"{wb}",{trip},{_STATE_JSON[st]}'.encode() + more + b"}}")
    return out


def dataset_meta(ds: Dataset) -> dict[str, Any]:
    meta: dict[str, Any] = {"version": ds.version, "demo": ds.demo}
    if ds.demo:
        meta["notice"] = "演示数据：站点为合成数据，并非真实站点。Demo data: synthetic stations."
    return meta


@lru_cache(maxsize=4096)
def hours_label(text: str | None, lang: str) -> str:
    return hours.describe(text, lang=lang)


def to_features(ds: Dataset, rows: np.ndarray, *, out_crs: str = "wgs84",
                with_links: bool | str = True, lang: str = "zh",
                fields: Sequence[str] | None = None,
                extra: Mapping[str, Sequence[Any]] | None = None) -> list[dict[str, Any]]:
    """GeoJSON features for ``rows``; coordinates converted to ``out_crs``.

    ``with_links`` is ``True``/``"all"`` for app and web navigation links,
    ``"web"`` for web links only, ``False``/``"none"`` for none. ``fields``
    limits the properties (``opening_hours_text`` may be among them). ``extra``
    holds more properties as columns aligned with ``rows``.
    """
    if with_links == "none":
        with_links = False
    rows = np.asarray(rows, dtype=np.int64)
    lon, lat = ds.lon[rows], ds.lat[rows]
    if out_crs != "wgs84":
        lon, lat = datum.from_wgs84(lon, lat, out_crs)
    out = []
    xs = np.round(np.atleast_1d(lon), 7).tolist()
    ys = np.round(np.atleast_1d(lat), 7).tolist()
    recs = ds.values(rows, ds.columns if fields is None else fields)
    want_text = fields is None or "opening_hours_text" in fields
    hours_raw = ds.values(rows, ["opening_hours"]) if want_text else []
    more = list((extra or {}).items())
    for i, (r, x, y) in enumerate(zip(rows.tolist(), xs, ys, strict=True)):
        rec = recs[i]
        if want_text:
            rec["opening_hours_text"] = hours_label(hours_raw[i].get("opening_hours"), lang)
        if with_links:
            rec["navigation"] = ds.links(r, app=with_links != "web")
        for name, column in more:
            rec[name] = column[i]
        out.append({"type": "Feature", "id": rec["id"],
                    "geometry": {"type": "Point", "coordinates": [x, y]},
                    "properties": rec})
    return out
