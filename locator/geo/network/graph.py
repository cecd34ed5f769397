"""A compact street graph: node coordinates, CSR edges with lengths, named ways.

The graph is stored as one ``.npz`` file (no pickles) so that loading a
province-size network is a handful of array reads. Edges are undirected and
kept in both directions, so the CSR matrix is symmetric and a Dijkstra run
from a station reaches what walking to it reaches.
"""

from __future__ import annotations

import hashlib
import stat
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

from locator import memo

FORMAT_VERSION = 1
MODES = ("walk", "bike", "drive")


@dataclass
class Graph:
    """Street graph in WGS-84 with edge lengths in metres."""

    lon: np.ndarray
    lat: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    length: np.ndarray
    mode: str
    source: str = ""
    version: str = ""
    # Named edges (u, v, index into ``names``), for labelling places by their road.
    name_u: np.ndarray | None = None
    name_v: np.ndarray | None = None
    name_code: np.ndarray | None = None
    names: np.ndarray | None = None

    @property
    def n_nodes(self) -> int:
        return len(self.lon)

    @property
    def n_edges(self) -> int:
        """Undirected edges (each is stored twice)."""
        return len(self.indices) // 2

    def csr(self) -> sparse.csr_matrix:
        """The symmetric adjacency matrix of edge lengths for ``scipy.sparse.csgraph``."""
        n = self.n_nodes
        return sparse.csr_matrix((self.length, self.indices, self.indptr), shape=(n, n))

    def edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every directed edge as ``(u, v, length)`` arrays."""
        u = np.repeat(np.arange(self.n_nodes, dtype=np.int64), np.diff(self.indptr))
        return u, self.indices.astype(np.int64), self.length


def from_edges(lon: np.ndarray, lat: np.ndarray, u: np.ndarray, v: np.ndarray,
               length: np.ndarray, *, mode: str, source: str = "") -> Graph:
    """A graph from undirected edges ``u - v``; parallel edges keep the shortest."""
    n = len(lon)
    uu = np.concatenate([u, v]).astype(np.int64)
    vv = np.concatenate([v, u]).astype(np.int64)
    ll = np.concatenate([length, length]).astype(np.float64)
    keep = uu != vv
    uu, vv, ll = uu[keep], vv[keep], ll[keep]
    # Shortest of parallel edges: sort by (u, v, length) and keep each pair's first.
    order = np.lexsort((ll, vv, uu))
    uu, vv, ll = uu[order], vv[order], ll[order]
    first = np.ones(len(uu), bool)
    first[1:] = (uu[1:] != uu[:-1]) | (vv[1:] != vv[:-1])
    uu, vv, ll = uu[first], vv[first], ll[first]
    # Zero-length edges would vanish from a sparse matrix; keep them as 1 mm.
    ll = np.maximum(ll, 1e-3)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(uu, minlength=n))]).astype(np.int64)
    return Graph(np.asarray(lon, float), np.asarray(lat, float), indptr,
                 vv.astype(np.int32), ll.astype(np.float32), mode, source)


def largest_component(g: Graph) -> Graph:
    """The graph restricted to its largest connected component, nodes renumbered."""
    from scipy.sparse.csgraph import connected_components

    _, labels = connected_components(g.csr(), directed=False)
    big = np.argmax(np.bincount(labels))
    keep = labels == big
    new_id = np.full(g.n_nodes, -1, dtype=np.int64)
    new_id[keep] = np.arange(int(keep.sum()))
    u, v, ll = g.edges()
    ok = keep[u] & (u < v)
    out = from_edges(g.lon[keep], g.lat[keep], new_id[u[ok]], new_id[v[ok]], ll[ok],
                     mode=g.mode, source=g.source)
    if g.name_u is not None and g.name_v is not None and g.name_code is not None:
        nk = keep[g.name_u] & keep[g.name_v]
        out.name_u = new_id[g.name_u[nk]]
        out.name_v = new_id[g.name_v[nk]]
        out.name_code = g.name_code[nk]
        out.names = g.names
    return out


def save(g: Graph, folder: str | Path) -> Path:
    """Write ``g`` as a new versioned file in ``folder``; returns its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(g.indices[: 1 << 20].tobytes() + g.lon[:1 << 16].tobytes())
    g.version = f"{time.strftime('%Y%m%dT%H%M%S')}-{g.mode}-{digest.hexdigest()[:8]}"
    path = folder / f"network-{g.version}.npz"
    tmp = path.with_suffix(".tmp.npz")
    empty = np.zeros(0, np.int64)
    np.savez(tmp, format=np.int64(FORMAT_VERSION), lon=g.lon, lat=g.lat, indptr=g.indptr,
             indices=g.indices, length=g.length, mode=np.str_(g.mode),
             source=np.str_(g.source), version=np.str_(g.version),
             name_u=g.name_u if g.name_u is not None else empty,
             name_v=g.name_v if g.name_v is not None else empty,
             name_code=g.name_code if g.name_code is not None else empty,
             names=g.names if g.names is not None else np.zeros(0, "U1"))
    tmp.replace(path)
    return path


def load(path: str | Path) -> Graph:
    """Read a graph written by :func:`save`."""
    with np.load(path, allow_pickle=False) as z:
        if int(z["format"]) != FORMAT_VERSION:
            raise ValueError(f"{Path(path).name}: network format {int(z['format'])}, "
                             f"expected {FORMAT_VERSION}; rebuild it")
        return Graph(z["lon"], z["lat"], z["indptr"], z["indices"], z["length"],
                     str(z["mode"]), str(z["source"]), str(z["version"]),
                     z["name_u"], z["name_v"], z["name_code"], z["names"])


def latest(folder: str | Path, *, mode: str | None = None) -> Path | None:
    """The most recently built graph in ``folder`` (of ``mode`` when given).

    Every nearest answer asks, so the listing is kept per state of the folder
    (its change time) and one ``stat`` answers as long as nothing is added.
    """
    try:
        st = Path(folder).stat()
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode):
        return None
    # A change within the last second may share its time stamp with one still to
    # come (a graph written, then renamed into place): list such a folder afresh.
    if time.time_ns() - st.st_mtime_ns < 1_000_000_000:
        return _listed(str(folder), mode, None)
    return _listed_cached(str(folder), mode, st.st_mtime_ns)


def _listed(folder: str, mode: str | None, changed_ns: int | None) -> Path | None:
    pat = f"network-*-{mode}-*.npz" if mode else "network-*.npz"
    found = sorted(p for p in Path(folder).glob(pat) if not p.name.endswith(".tmp.npz"))
    return found[-1] if found else None


_listed_cached = memo.cached(_listed)
