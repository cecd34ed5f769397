"""Readable names for suggested sites: county and nearest named street, else position.

With a street graph configured, a site is named by its county and the nearest
named way of the OpenStreetMap extract ("郑州市 金水区 · 金水路附近"), or the two
nearest differently named ways when the second is close too, as at a junction
("… · 金水路 / 农业路口附近"; "near 金水路 / 农业路 junction" in English).
Distances are to the way itself (the segment between two nodes), not to its
nodes, in the metric CRS. Without a graph, or beyond :data:`MAX_M` of any
named way, the street gives way to a readable position ("北纬 34.7536°，东经
113.6645°").
A name given in a candidates file always wins.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely

from locator.planning.network_distance import Network

# Farther than this from every named way, a road name would mislead.
MAX_M = 500.0
# A second road this close makes the place a junction of the two.
JUNCTION_M = 120.0


def _segments(net: Network) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray] | None:
    """Named edges as metric segments in an STRtree (with each one's name code and the
    names), kept with the network; ``None`` for a graph without names."""
    g = net.graph
    if g.names is None or g.name_u is None or g.name_v is None or g.name_code is None \
            or not len(g.names) or not len(g.name_u):
        return None
    got = net.cache.get("named_segments")
    if got is None:
        u, v = g.name_u.astype(np.int64), g.name_v.astype(np.int64)
        segs = np.asarray(shapely.linestrings(np.stack([np.column_stack([net.x[u], net.y[u]]),
                                             np.column_stack([net.x[v], net.y[v]])], axis=1)),
                          dtype=object)
        got = net.cache["named_segments"] = (shapely.STRtree(segs), segs, g.name_code,
                                             g.names)
    return tuple(got)


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
    found = _segments(net) if net is not None and n else None
    if found is None:
        return road, cross
    tree, segs, codes, names = found
    pts = np.asarray(shapely.points(np.asarray(x, float), np.asarray(y, float)), dtype=object)
    pi, si = tree.query(pts, predicate="dwithin", distance=MAX_M)
    if not len(pi):
        return road, cross
    pairs = pd.DataFrame({"site": pi, "code": codes[si],
                          "d": shapely.distance(pts[pi], segs[si])})
    best = (pairs.groupby(["site", "code"], sort=False)["d"].min().reset_index()
            .sort_values(["site", "d", "code"], kind="stable"))
    best["nth"] = best.groupby("site").cumcount()
    first = best[best["nth"] == 0]
    road[first["site"].to_numpy()] = names[first["code"].to_numpy()]
    second = best[(best["nth"] == 1) & (best["d"] <= JUNCTION_M)]
    cross[second["site"].to_numpy()] = names[second["code"].to_numpy()]
    return road, cross


def _coordinate(lat: pd.Series, lon: pd.Series, lang: str) -> pd.Series:
    la = lat.astype(float).abs().map("{:.4f}".format)
    lo = lon.astype(float).abs().map("{:.4f}".format)
    if lang == "zh":
        return "北纬 " + la + "°，东经 " + lo + "°"
    return la + "°N, " + lo + "°E"


def label(df: pd.DataFrame, lang: str = "zh") -> pd.Series:
    """The readable name of each suggested site in ``lang`` (``zh`` or ``en``).

    ``df`` holds ``name`` (given), ``road``, ``cross_road``, ``city``, ``county``,
    ``lat`` and ``lon`` columns; missing road columns count as no road.
    """
    if not len(df):
        return pd.Series([], dtype=object, index=df.index)
    blank = pd.Series("", index=df.index)
    given = df["name"].fillna("").astype(str).str.strip() if "name" in df else blank
    road = df["road"].fillna("").astype(str) if "road" in df else blank
    cross = df["cross_road"].fillna("").astype(str) if "cross_road" in df else blank
    place = (df["city"].fillna("").astype(str) + " " + df["county"].fillna("").astype(str)
             ).str.strip()
    where = _coordinate(df["lat"], df["lon"], lang)
    if lang == "zh":
        on_road = np.where(cross != "", road + " / " + cross + "口附近", road + "附近")
    else:
        on_road = np.where(cross != "", "near " + road + " / " + cross + " junction",
                           "near " + road)
    spot = np.where(road != "", on_road, where)
    made = np.where(place != "", place + " · " + spot, spot)
    return pd.Series(np.where(given != "", given, made), index=df.index, dtype=object)
