"""Distances along the street graph for coverage and siting.

Every point (station, demand cell, candidate site) joins the graph at its
nearest node and the straight walk to that node is added to its distance; a
point farther than ``max_snap`` from any node is unreachable.

* **Station -> every node**: one Dijkstra run bounded by the radius. The
  stations' snap distances are honoured exactly by a virtual source node
  joined to each station's node by an edge as long as its snap distance.
* **Candidate coverage sets**: a path no longer than the reach never leaves
  the disc of that radius, so each candidate's search runs on the nodes
  within the straight-line radius only. The discs of a batch of candidates are
  laid side by side as one block-diagonal graph and searched by a single
  multi-source Dijkstra with ``min_only``: blocks do not touch, so each node's
  distance is its own candidate's.
"""

from __future__ import annotations

import itertools
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
# Node-disc pairs handled per block-diagonal search; bounds the memory of one batch.
BATCH_PAIRS = 4_000_000


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
        extra = sparse.csr_matrix((best[src], (np.zeros(len(src), np.int64), src)),
                                  shape=(1, n + 1))
        a = sparse.vstack([sparse.hstack([self.csr, sparse.csr_matrix((n, 1))]), extra],
                          format="csr")
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
        net = self.disc_distances(cs.node, cs.distance, reach, j, ds.node[i])
        hit = net <= budget
        a = sparse.csc_matrix((np.ones(int(hit.sum()), np.int8), (i[hit], j[hit])),
                              shape=(n_d, n_c))
        a.sum_duplicates()
        a.sort_indices()
        return a

    def disc_distances(self, cand_node: np.ndarray, cand_snap: np.ndarray, reach: float,
                       j: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Network distance from candidate ``j[k]``'s node to node ``target[k]``, searching
        only the nodes within ``reach`` (straight line) of the candidate's node."""
        out = np.full(len(j), np.inf)
        cands = np.unique(j)
        node_tree = self.snapper.tree
        lim = np.maximum(reach - cand_snap[cands], 0.0)
        counts = node_tree.query_ball_point(
            np.column_stack([self.x[cand_node[cands]], self.y[cand_node[cands]]]),
            r=lim, return_length=True, workers=-1)
        # Batches of candidates whose discs together hold about BATCH_PAIRS nodes.
        cum = np.cumsum(counts)
        batch = (cum // BATCH_PAIRS).astype(np.int64)  # non-decreasing along ``cands``
        # Each pair's batch through its candidate, then pairs grouped by batch in one sort
        # (a membership test per batch would scan every pair once per batch).
        lookup = np.zeros(int(cands[-1]) + 1, np.int64)
        lookup[cands] = batch
        pair_batch = lookup[j]
        by_batch = np.argsort(pair_batch, kind="stable")
        firsts = np.unique(batch)
        c_lo, c_hi = np.searchsorted(batch, firsts), np.searchsorted(batch, firsts, "right")
        p_sorted = pair_batch[by_batch]
        p_lo, p_hi = np.searchsorted(p_sorted, firsts), np.searchsorted(p_sorted, firsts, "right")
        for k in range(len(firsts)):
            rows = by_batch[p_lo[k]:p_hi[k]]
            out[rows] = self._batch(cand_node, cand_snap, reach, cands[c_lo[k]:c_hi[k]],
                                    j[rows], target[rows])
        return out

    def _batch(self, cand_node: np.ndarray, cand_snap: np.ndarray, reach: float,
               sel: np.ndarray, j: np.ndarray, target: np.ndarray) -> np.ndarray:
        lim = np.maximum(reach - cand_snap[sel], 0.0)
        centres = np.column_stack([self.x[cand_node[sel]], self.y[cand_node[sel]]])
        balls = self.snapper.tree.query_ball_point(centres, r=lim, workers=-1)
        sizes = np.fromiter(map(len, balls), np.int64, count=len(balls))
        block = np.repeat(np.arange(len(sel), dtype=np.int64), sizes)
        # One pass over the lists' items, not an array per candidate.
        node = np.fromiter(itertools.chain.from_iterable(balls), np.int64, count=len(block))
        n = self.graph.n_nodes
        key = block * n + node
        order = np.argsort(key)
        key_sorted = key[order]
        # Edges of the induced subgraph of each disc, renumbered into the batch.
        indptr, indices, data = self.csr.indptr, self.csr.indices, self.csr.data
        deg = indptr[node + 1] - indptr[node]
        src = np.repeat(np.arange(len(node), dtype=np.int64), deg)
        starts = np.repeat(indptr[node], deg)
        offs = np.arange(len(src), dtype=np.int64) - np.repeat(np.cumsum(deg) - deg, deg)
        e = starts + offs
        nb_key = block[src] * n + indices[e]
        pos = np.searchsorted(key_sorted, nb_key).clip(0, max(len(key_sorted) - 1, 0))
        inside = key_sorted[pos] == nb_key if len(key_sorted) else np.zeros(0, bool)
        dst = order[pos[inside]]
        m = len(node)
        a = sparse.csr_matrix((data[e[inside]], (src[inside], dst)), shape=(m, m))
        source_key = np.arange(len(sel), dtype=np.int64) * n + cand_node[sel]
        spos = order[np.searchsorted(key_sorted, source_key)]
        d = np.asarray(dijkstra(a, directed=True, indices=spos, min_only=True, limit=reach),
                       float)
        # Look up each pair's target node in its candidate's block.
        blk = np.searchsorted(sel, j)
        tk = blk * n + target
        tpos = np.searchsorted(key_sorted, tk).clip(0, max(len(key_sorted) - 1, 0))
        found = key_sorted[tpos] == tk
        return np.where(found, d[order[tpos]], np.inf)


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
