"""Readable names for suggested sites: county and nearest named street or place.

With a street graph configured, a site is named by its county and the nearest
named way of the OpenStreetMap extract ("郑州市 金水区 · 金水路附近"), or the two
nearest differently named ways when the second is close too, as at a junction
("… · 金水路 / 农业路口附近"; "near 金水路 / 农业路 junction" in English).
Distances are to the way itself (the segment between two nodes), not to its
nodes, in the metric CRS. Without a graph, or beyond :data:`MAX_M` of any
named way (a site in open country), the nearest named place of the OSM names
index (``locator names build``: village, town, suburb) within
:data:`PLACE_MAX_M` names it ("… · 李庄附近"); failing that, a readable
position ("北纬 34.7536°，东经 113.6645°") beside the county.
A name given in a candidates file always wins.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from locator.geo import names_en, osmnames
from locator.planning.network_distance import Network

if TYPE_CHECKING:
    from locator.stations.osm_search import OsmIndex

# Farther than this from every named way, a road name would mislead.
MAX_M = 500.0
# A second road this close makes the place a junction of the two.
JUNCTION_M = 120.0
# A village farther than this is no landmark for the site.
PLACE_MAX_M = 3000.0
# Mean Earth radius (m): place distances are great-circle, in any CRS.
EARTH_M = 6_371_008.8
# The place tree of the index last asked about (one index is served at a time).
_PLACES: dict[str, Any] = {}


def _longest(net: Network) -> float | None:
    """The longest named edge (m), kept with the network; ``None`` for a graph without
    names."""
    g = net.graph
    if g.names is None or g.name_u is None or g.name_v is None or g.name_code is None \
            or not len(g.names) or not len(g.name_u):
        return None
    got = net.cache.get("named_longest")
    if got is None:
        u, v = g.name_u, g.name_v
        got = net.cache["named_longest"] = float(
            np.hypot(net.x[u] - net.x[v], net.y[u] - net.y[v]).max())
    return float(got)


def _near_edges(net: Network, x: np.ndarray, y: np.ndarray, longest: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (point, named edge) with the edge within :data:`MAX_M` of the point, and
    the distance from the point to the edge's segment.

    A province graph has millions of named edges and a run names a few dozen
    sites: the edges are found through the nodes near the sites, with no geometry
    or tree built over all of them (that took half a minute).
    """
    g = net.graph
    assert g.name_u is not None and g.name_v is not None
    # The segment's point nearest a site lies within half its length of one end.
    balls = net.snapper.tree.query_ball_point(np.column_stack([x, y]), r=MAX_M + longest / 2)
    sizes = np.fromiter(map(len, balls), np.int64, count=len(balls))
    site = np.repeat(np.arange(len(x), dtype=np.int64), sizes)
    node = np.fromiter(itertools.chain.from_iterable(balls), np.int64, count=len(site))
    near = np.zeros(g.n_nodes, bool)
    near[node] = True
    cand = np.flatnonzero(near[g.name_u] | near[g.name_v])
    # The candidate edges by end node, to pair each site's nodes with their edges.
    ends = np.concatenate([g.name_u[cand], g.name_v[cand]]).astype(np.int64)
    order = np.argsort(ends)
    ends = ends[order]
    lo, hi = np.searchsorted(ends, node), np.searchsorted(ends, node, "right")
    per = hi - lo
    at = np.repeat(lo - (np.cumsum(per) - per), per) + np.arange(int(per.sum()))
    n_e = max(len(g.name_u), 1)
    key = np.unique(np.repeat(site, per) * n_e + cand[order[at] % max(len(cand), 1)])
    pair_site, pair_edge = key // n_e, key % n_e  # an edge meets a site by both ends once
    u, v = g.name_u[pair_edge].astype(np.int64), g.name_v[pair_edge].astype(np.int64)
    ax, ay, bx, by = net.x[u], net.y[u], net.x[v], net.y[v]
    px, py = x[pair_site], y[pair_site]
    dx, dy = bx - ax, by - ay
    span = dx * dx + dy * dy
    t = np.clip(np.divide((px - ax) * dx + (py - ay) * dy, span, out=np.zeros_like(span),
                          where=span > 0), 0.0, 1.0)
    d = np.hypot(px - (ax + t * dx), py - (ay + t * dy))
    ok = d <= MAX_M
    return pair_site[ok], pair_edge[ok], d[ok]


def nearest_roads(net: Network | None, x: np.ndarray, y: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The nearest named way of each metric point and a second one at a junction.

    Returns two string arrays (``""`` where there is none): the nearest way's
    name within :data:`MAX_M`, and the nearest *other* name within
    :data:`JUNCTION_M`.
    """
    n = len(x)
    road = np.full(n, "", dtype=object)
    cross = np.full(n, "", dtype=object)
    longest = _longest(net) if net is not None and n else None
    if net is None or longest is None:
        return road, cross
    pi, ei, d = _near_edges(net, np.asarray(x, float), np.asarray(y, float), longest)
    if not len(pi):
        return road, cross
    codes, names = net.graph.name_code, net.graph.names
    assert codes is not None and names is not None
    pairs = pd.DataFrame({"site": pi, "code": codes[ei], "d": d})
    best = (pairs.groupby(["site", "code"], sort=False)["d"].min().reset_index()
            .sort_values(["site", "d", "code"], kind="stable"))
    best["nth"] = best.groupby("site").cumcount()
    first = best[best["nth"] == 0]
    road[first["site"].to_numpy()] = names[first["code"].to_numpy()]
    second = best[(best["nth"] == 1) & (best["d"] <= JUNCTION_M)]
    cross[second["site"].to_numpy()] = names[second["code"].to_numpy()]
    return road, cross


def _unit(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lo, la = np.radians(np.asarray(lon, float)), np.radians(np.asarray(lat, float))
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def nearest_places(idx: OsmIndex | None, lon: np.ndarray, lat: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The nearest named place of the names index to each WGS-84 point, within
    :data:`PLACE_MAX_M`, and its great-circle distance in metres.

    Returns a string array (``""`` where none is that close, or without an
    index) and a float array (``inf`` there).
    """
    n = len(lon)
    name = np.full(n, "", dtype=object)
    dist = np.full(n, np.inf)
    if idx is None or not n:
        return name, dist
    if _PLACES.get("index") is not idx:
        rows = np.flatnonzero(idx.kind == osmnames.KINDS.index(osmnames.PLACE))
        tree = cKDTree(_unit(idx.lon[rows], idx.lat[rows])) if len(rows) else None
        _PLACES.update(index=idx, tree=tree, labels=idx.label[rows])
    tree = _PLACES["tree"]
    if tree is None:
        return name, dist
    # Chord on the unit sphere of the bound, a hair wider; arcs are exact below.
    chord = 2 * np.sin(PLACE_MAX_M / EARTH_M / 2) * (1 + 1e-9)
    d, k = tree.query(_unit(lon, lat), distance_upper_bound=chord)
    ok = np.isfinite(d)
    arc = 2 * EARTH_M * np.arcsin(np.minimum(d[ok] / 2, 1.0))
    near = np.flatnonzero(ok)[arc <= PLACE_MAX_M]
    name[near] = _PLACES["labels"][k[near]]
    dist[near] = arc[arc <= PLACE_MAX_M]
    return name, dist


def _coordinate(lat: pd.Series, lon: pd.Series, lang: str) -> pd.Series:
    la = lat.astype(float).abs().map("{:.4f}".format)
    lo = lon.astype(float).abs().map("{:.4f}".format)
    if lang == "zh":
        return "北纬 " + la + "°，东经 " + lo + "°"
    return la + "°N, " + lo + "°E"


def label(df: pd.DataFrame, lang: str = "zh") -> pd.Series:
    """The readable name of each suggested site in ``lang`` (``zh`` or ``en``).

    ``df`` holds ``name`` (given), ``road``, ``cross_road``, ``place``, ``city``,
    ``county``, ``lat`` and ``lon`` columns; missing road or place columns count
    as none.
    """
    if not len(df):
        return pd.Series([], dtype=object, index=df.index)
    blank = pd.Series("", index=df.index)
    given = df["name"].fillna("").astype(str).str.strip() if "name" in df else blank
    road = df["road"].fillna("").astype(str) if "road" in df else blank
    cross = df["cross_road"].fillna("").astype(str) if "cross_road" in df else blank
    village = df["place"].fillna("").astype(str) if "place" in df else blank
    areas = names_en.translate(df[["city", "county"]]) if lang == "en" else df
    place = (areas["city"].fillna("").astype(str) + " " +
             areas["county"].fillna("").astype(str)).str.strip()
    where = _coordinate(df["lat"], df["lon"], lang)
    if lang == "zh":
        on_road = np.where(cross != "", road + " / " + cross + "口附近", road + "附近")
    else:
        on_road = np.where(cross != "", "near " + road + " / " + cross + " junction",
                           "near " + road)
    by_place = village + "附近" if lang == "zh" else "near " + village
    spot = np.where(road != "", on_road, np.where(village != "", by_place, where))
    made = np.where(place != "", place + " · " + spot, spot)
    return pd.Series(np.where(given != "", given, made), index=df.index, dtype=object)
