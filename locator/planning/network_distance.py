"""Distances along the street graph for coverage and siting.

Every point (station, demand cell, candidate site) joins the graph at its
nearest node and the straight walk to that node is added to its distance; a
point farther than ``max_snap`` from any node is unreachable.

* **Station -> every node**: one Dijkstra run bounded by the radius. The
  stations' snap distances are honoured exactly by a virtual source node
  joined to each station's node by an edge as long as its snap distance.
* **Candidate coverage sets**: a path no longer than the reach never leaves
  the disc of that radius, so candidates are searched a square tile at a time
  on the subgraph of the tile widened by the reach, one bounded search per
  candidate node, all in one call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from locator.geo.datum import METRIC_CRS
from locator.geo.network import graph as graphs
from locator.geo.network.snap import Snapper
from locator.planning.grid import to_metric

DISTANCES = ("network", "straight")
# Side of the square tiles candidates are searched by, in reaches: wider tiles share a
# window among more candidates but each search starts by clearing a larger window.
TILE_REACHES = 8.0
# Distances one search call may answer at once (8 bytes each).
TILE_CELLS = 8_000_000


@dataclass
class Network:
    """A loaded graph with metric node coordinates and a snapper."""

    graph: graphs.Graph
    x: np.ndarray
    y: np.ndarray
    csr: sparse.csr_matrix
    snapper: Snapper
    max_snap: float
    path: str = ""
    crs: str = METRIC_CRS
    # Work derived from the graph alone (the named-way index), living with it.
    cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def version(self) -> str:
        return self.graph.version

    def nearest(self, px: np.ndarray, py: np.ndarray, sx: np.ndarray, sy: np.ndarray, *,
                limit: float) -> np.ndarray:
        """Network distance (m) from each point to the nearest station, ``inf`` past ``limit``.

        Unreachable points (too far from a road) and points no station reaches
        within ``limit`` get ``inf``.
        """
        out = np.full(len(px), np.inf)
        st = self.snapper.snap(np.asarray(sx, float), np.asarray(sy, float),
                               max_snap=self.max_snap)
        pt = self.snapper.snap(np.asarray(px, float), np.asarray(py, float),
                               max_snap=self.max_snap)
        ok_s = st.reachable
        if not ok_s.any() or not pt.reachable.any():
            return out
        node_d = self.from_sources(st.node[ok_s], st.distance[ok_s], limit=limit)
        ok = pt.reachable
        out[ok] = node_d[pt.node[ok]] + pt.distance[ok]
        out[out > limit] = np.inf
        return out

    def from_sources(self, nodes: np.ndarray, offset: np.ndarray, *, limit: float
                     ) -> np.ndarray:
        """Distance of every node from the nearest source, sources starting at ``offset``."""
        n = self.graph.n_nodes
        # A virtual node n joined to each source node; 1 mm stands for a zero snap so
        # the edge is not dropped as a structural zero.
        best = np.full(n, np.inf)
        np.minimum.at(best, nodes, np.maximum(offset, 1e-3))
        src = np.flatnonzero(np.isfinite(best))
        # The graph's own arrays with one more row appended: stacking sparse blocks
        # would convert the whole province graph twice.
        c = self.csr
        a = sparse.csr_matrix((np.concatenate([c.data, best[src]]),
                               np.concatenate([c.indices, src.astype(c.indices.dtype)]),
                               np.concatenate([c.indptr, [c.indptr[-1] + len(src)]])),
                              shape=(n + 1, n + 1))
        d = dijkstra(a, directed=True, indices=[n], min_only=True, limit=limit)
        return np.asarray(d, float)[:n]

    def walk_to(self, lon: float, lat: float, tlon: np.ndarray, tlat: np.ndarray, *,
                limit: float) -> np.ndarray:
        """Network distance (m) from one WGS-84 point to each target point.

        One Dijkstra search from the point's node, bounded by ``limit`` (the
        point's snap distance counted in it); each target adds its own snap.
        ``nan`` marks targets, or all of them when the point itself is off the
        network, farther than ``max_snap`` from any node; ``inf`` marks
        targets not reached within ``limit``.
        """
        px, py = to_metric(np.array([lon], float), np.array([lat], float), self.crs)
        tx, ty = to_metric(np.asarray(tlon, float), np.asarray(tlat, float), self.crs)
        src = self.snapper.snap(px, py, max_snap=self.max_snap)
        out = np.full(len(tx), np.nan)
        if not src.reachable[0] or not len(tx):
            return out
        dst = self.snapper.snap(tx, ty, max_snap=self.max_snap)
        start = float(src.distance[0])
        node_d = np.asarray(dijkstra(self.csr, directed=True, indices=int(src.node[0]),
                                     limit=max(0.0, limit - start)), float) + start
        ok = dst.reachable
        d = node_d[dst.node[ok]] + dst.distance[ok]
        out[ok] = np.where(d <= limit, d, np.inf)
        return out

    def coverage_matrix(self, dx: np.ndarray, dy: np.ndarray, cx: np.ndarray,
                        cy: np.ndarray, reach: float) -> sparse.csc_matrix:
        """0/1 matrix, ``A[i, j] = 1`` when candidate ``j`` is within ``reach`` of demand ``i``
        along the network (snap distances included)."""
        n_d, n_c = len(dx), len(cx)
        empty = sparse.csc_matrix((n_d, n_c), dtype=np.int8)
        if n_d == 0 or n_c == 0:
            return empty
        ds = self.snapper.snap(np.asarray(dx, float), np.asarray(dy, float),
                               max_snap=self.max_snap)
        cs = self.snapper.snap(np.asarray(cx, float), np.asarray(cy, float),
                               max_snap=self.max_snap)
        # Straight-line pairs are a superset of the network ones.
        pairs = cKDTree(np.column_stack([cx, cy])).sparse_distance_matrix(
            cKDTree(np.column_stack([dx, dy])), reach, output_type="ndarray")
        j, i = pairs["i"].astype(np.int64), pairs["j"].astype(np.int64)
        keep = cs.reachable[j] & ds.reachable[i]
        j, i = j[keep], i[keep]
        if not len(j):
            return empty
        budget = reach - cs.distance[j] - ds.distance[i]
        net = self.disc_distances(cs.node, reach, j, ds.node[i])
        hit = net <= budget
        a = sparse.csc_matrix((np.ones(int(hit.sum()), np.int8), (i[hit], j[hit])),
                              shape=(n_d, n_c))
        a.sum_duplicates()
        a.sort_indices()
        return a

    def disc_distances(self, cand_node: np.ndarray, reach: float, j: np.ndarray,
                       target: np.ndarray) -> np.ndarray:
        """Network distance from candidate ``j[k]``'s node to node ``target[k]``, ``inf``
        past ``reach``.

        Candidates are taken a square tile at a time (by the position of their
        node): a path no longer than ``reach`` stays within ``reach`` of the tile,
        so one subgraph of that window serves every candidate node of the tile,
        each searched on its own with the bound. The window is cut through a
        node -> window-position array, where one disc per candidate had to be
        cut by sorting and searching keys, which cost several times the searches.
        """
        out = np.full(len(j), np.inf)
        if not len(j):
            return out
        side = TILE_REACHES * reach
        # Nodes bucketed by tile: the tiles around one are then one run of the order per column.
        tx_all = np.floor(self.x / side).astype(np.int64)
        ty_all = np.floor(self.y / side).astype(np.int64)
        span = int(np.ceil(reach / side))  # tiles the window reaches into on each side
        ty0, ny = int(ty_all.min()) - span, int(ty_all.max() - ty_all.min()) + 2 * span + 1
        tx0 = int(tx_all.min()) - span
        cell = (tx_all - tx0) * ny + (ty_all - ty0)
        by_cell = np.argsort(cell, kind="stable")
        cell_sorted = cell[by_cell]
        # Pairs grouped by their candidate node's tile.
        src = cand_node[j]
        pair_cell = cell[src]
        order = np.argsort(pair_cell, kind="stable")
        tiles, t_lo = np.unique(pair_cell[order], return_index=True)
        t_hi = np.r_[t_lo[1:], len(order)]
        local = np.full(self.graph.n_nodes, -1, np.int64)
        indptr, indices, data = self.csr.indptr, self.csr.indices, self.csr.data
        for k, c in enumerate(tiles):
            rows = order[t_lo[k]:t_hi[k]]
            cx, cy = divmod(int(c), ny)
            # The tiles around, cut to the window: the tile widened by ``reach``.
            cols = (cx + np.arange(-span, span + 1)) * ny + cy
            lo = np.searchsorted(cell_sorted, cols - span)
            hi = np.searchsorted(cell_sorted, cols + span, "right")
            near = np.concatenate([by_cell[a:b] for a, b in zip(lo, hi, strict=True)])
            wx0, wy0 = (cx + tx0) * side - reach, (cy + ty0) * side - reach
            inside = ((self.x[near] >= wx0) & (self.x[near] <= wx0 + side + 2 * reach)
                      & (self.y[near] >= wy0) & (self.y[near] <= wy0 + side + 2 * reach))
            win = near[inside]
            m = len(win)
            local[win] = np.arange(m)
            deg = indptr[win + 1] - indptr[win]
            starts = np.repeat(indptr[win] - (np.cumsum(deg) - deg), deg)
            e = starts + np.arange(int(deg.sum()))
            to = local[indices[e]]
            keep = to >= 0
            row_of = np.repeat(np.arange(m), deg)[keep]
            sub = sparse.csr_matrix(
                (data[e][keep], to[keep], np.r_[0, np.cumsum(np.bincount(row_of, minlength=m))]),
                shape=(m, m))
            sources, which = np.unique(local[src[rows]], return_inverse=True)
            tl = local[target[rows]]
            # The searches answer a dense row per source: a dense city's window is
            # large, so its sources go in chunks of bounded memory.
            step = max(1, TILE_CELLS // max(m, 1))
            for s0 in range(0, len(sources), step):
                d = np.asarray(dijkstra(sub, directed=True, indices=sources[s0:s0 + step],
                                        limit=reach), float).reshape(-1, m)
                mine = (which >= s0) & (which < s0 + step) & (tl >= 0)
                out[rows[mine]] = d[which[mine] - s0, tl[mine]]
            local[win] = -1
        return out


# The graph in use, one at a time: a province's walking network is gigabytes,
# so a rebuilt or newly chosen file replaces the old one instead of joining it.
_LOADED: dict[tuple[str, float, float], Network] = {}
_LOAD_LOCK = threading.Lock()


def _load(path: str, mtime: float, max_snap: float) -> Network:
    key = (path, mtime, max_snap)
    with _LOAD_LOCK:
        got = _LOADED.get(key)
        if got is None:
            _LOADED.clear()
            g = graphs.load(path)
            x, y = to_metric(g.lon, g.lat)
            got = _LOADED[key] = Network(g, x, y, g.csr(), Snapper(x, y), max_snap, path)
        return got


def network_path(cfg: Mapping[str, Any]) -> Path | None:
    """The configured graph: ``NETWORK_PATH``, else the latest built in ``DATA_DIR/networks``."""
    explicit = str(cfg.get("NETWORK_PATH", "") or "")
    if explicit:
        p = Path(explicit)
        return p if p.is_file() else None
    return graphs.latest(Path(str(cfg.get("DATA_DIR", "var"))) / "networks")


def network_key(cfg: Mapping[str, Any]) -> str:
    """Which graph a run would use, without loading it: path, size and change time.

    Empty when no graph is configured. Part of the planner's job key, so a
    newly built graph is never answered from plans made on the old one.
    """
    p = network_path(cfg)
    if p is None:
        return ""
    st = p.stat()
    return f"{p.resolve()}:{st.st_size}:{st.st_mtime_ns}"


# Every nearest request names the graph in its answer's cache key; a graph takes
# minutes to build, so its identity is looked up on disk at most this often.
KEY_TTL_S = 1.0
_KEYS: dict[tuple[str, str], tuple[float, str]] = {}


def recent_key(cfg: Mapping[str, Any]) -> str:
    """:func:`network_key`, re-read from disk at most once per :data:`KEY_TTL_S`."""
    where = (str(cfg.get("NETWORK_PATH", "") or ""), str(cfg.get("DATA_DIR", "var")))
    now = time.monotonic()
    got = _KEYS.get(where)
    if got is None or now - got[0] >= KEY_TTL_S:
        got = _KEYS[where] = (now, network_key(cfg))
    return got[1]


def load(cfg: Mapping[str, Any]) -> Network | None:
    """The configured network, loaded once per file; ``None`` when there is none."""
    p = network_path(cfg)
    if p is None:
        return None
    return _load(str(p), p.stat().st_mtime, float(cfg.get("NETWORK_MAX_SNAP_M", 500.0)))


def network_walk(cfg: Mapping[str, Any]) -> Callable[..., np.ndarray] | None:
    """Walking distances along the configured graph for the worker's list, or ``None``.

    Only a walking graph gives walking distances; the callable has the shape
    of :data:`locator.stations.nearest.NetworkWalk`.
    """
    net = load(cfg)
    if net is None or net.graph.mode != "walk":
        return None

    def walk(lon: float, lat: float, slon: np.ndarray, slat: np.ndarray,
             limit: float) -> np.ndarray:
        return net.walk_to(lon, lat, slon, slat, limit=limit)

    return walk


def from_graph(g: graphs.Graph, *, max_snap: float, crs: str = METRIC_CRS) -> Network:
    """A :class:`Network` over an in-memory graph (tests, benchmarks), projected to ``crs``."""
    x, y = to_metric(g.lon, g.lat, crs)
    return Network(g, x, y, g.csr(), Snapper(x, y), max_snap, "", crs)


def isochrone(net: Network, lon: float, lat: float, *, distance: float,
              width: float = 25.0) -> tuple[Any, np.ndarray, bool]:
    """The walkable area (WGS-84 geometry) within ``distance`` metres of a point.

    Returns the area, the network distance of every node (``inf`` when not
    reached) and whether the point could join the network at all.
    """
    import shapely

    from locator.geo.network.isochrone import area, reached_segments
    from locator.planning.grid import to_wgs84

    px, py = to_metric(np.array([lon]), np.array([lat]), net.crs)
    sn = net.snapper.snap(px, py, max_snap=net.max_snap)
    if not sn.reachable[0] or sn.distance[0] > distance:
        return shapely.Polygon(), np.full(net.graph.n_nodes, np.inf), bool(sn.reachable[0])
    seg, d = reached_segments(net.csr, net.x, net.y, int(sn.node[0]), float(sn.distance[0]),
                              distance)
    geom = area(seg, width=width)

    def back(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], net.crs))

    return shapely.transform(geom, back), d, True
