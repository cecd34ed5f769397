"""Exact, filtered k-nearest-neighbour search over stations.

Stations live on the unit sphere as 3-D vectors in a ``scipy.spatial.cKDTree``
(one tree per kind), so that a query is a tree descent rather than a scan.
Filters (amenities, status, open now) are vectorised masks applied to the
candidates the tree returns; when too few survive, the search widens.

Distances are WGS-84 ellipsoidal geodesics (``pyproj.Geod``), and the result
is exact: a station the tree has not returned lies at least at the sphere
angle of the farthest returned one, and no geodesic is shorter than
``MIN_RADIUS`` times its sphere angle (the smallest radius of curvature of the
ellipsoid, a(1-e^2)). Once the k-th best geodesic is below that bound, no
unseen station can beat it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from pyproj import Geod
from scipy.spatial import cKDTree

GEOD = Geod(ellps="WGS84")
_A = 6378137.0
_E2 = GEOD.es
MIN_RADIUS = _A * (1 - _E2)          # meridian radius at the equator
MAX_RADIUS = _A / math.sqrt(1 - _E2)  # prime-vertical radius at the pole
RADIUS_RATIO = MAX_RADIUS / MIN_RADIUS


def unit_xyz(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lam, phi = np.radians(lon), np.radians(lat)
    c = np.cos(phi)
    return np.column_stack([c * np.cos(lam), c * np.sin(lam), np.sin(phi)])


def _point_xyz(lon: float, lat: float) -> tuple[float, float, float]:
    # Scalar maths: numpy's per-call overhead dominates for a single point.
    lam, phi = math.radians(lon), math.radians(lat)
    c = math.cos(phi)
    return (c * math.cos(lam), c * math.sin(lam), math.sin(phi))


def geodesics(lon: float, lat: float, xs: np.ndarray, ys: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """Forward azimuths and WGS-84 geodesic metres from one point to many.

    ``xs`` and ``ys`` must be fresh, contiguous float64 arrays the caller will
    not reuse (e.g. the result of fancy indexing): the solver writes its
    results into the buffers it is given.
    """
    n = len(xs)
    if _INV_INPLACE is not None:
        # Geod.inv first tries a scalar path, fails, then copies all four
        # inputs; on ~10 candidates that bookkeeping costs more than the
        # geodesics themselves, so hand the solver our own buffers directly.
        a = np.full(n, lon)
        b = np.full(n, lat)
        _INV_INPLACE(a, b, xs, ys, radians=False, return_back_azimuth=False)
        return a, xs
    az, _, dist = GEOD.inv(np.full(n, lon), np.full(n, lat), xs, ys, return_back_azimuth=False)
    return np.asarray(az), np.asarray(dist)


_INV_INPLACE = getattr(GEOD, "_inv", None)


@dataclass(frozen=True)
class Hits:
    """Result of a query: row positions, geodesic metres and forward azimuths."""

    rows: np.ndarray
    distance_m: np.ndarray
    azimuth_deg: np.ndarray


Accept = Callable[[np.ndarray], np.ndarray]
_ALL = -1


class NearestIndex:
    """k-NN index over station points: one tree per kind and one over all.

    Parameters
    ----------
    lon, lat
        WGS-84 degrees for every station row.
    kind
        Small-integer kind code per row.
    searchable
        Rows that may ever be returned (e.g. not permanently closed).
    """

    def __init__(self, lon: np.ndarray, lat: np.ndarray, kind: np.ndarray,
                 searchable: np.ndarray | None = None) -> None:
        self.lon = np.ascontiguousarray(lon, dtype=float)
        self.lat = np.ascontiguousarray(lat, dtype=float)
        self.kind = np.asarray(kind)
        ok = np.ones(len(self.lon), bool) if searchable is None else np.asarray(searchable, bool)
        xyz = unit_xyz(self.lon, self.lat)
        self._trees: dict[int, tuple[cKDTree, np.ndarray]] = {}
        codes = [int(c) for c in np.unique(self.kind[ok])]
        for code in codes:
            rows = np.flatnonzero(ok & (self.kind == code))
            self._trees[code] = (cKDTree(xyz[rows], balanced_tree=False), rows)
        if len(codes) > 1:
            rows = np.flatnonzero(ok)
            self._trees[_ALL] = (cKDTree(xyz[rows], balanced_tree=False), rows)
        elif codes:
            self._trees[_ALL] = self._trees[codes[0]]
        self._codes = set(codes)

    def state(self) -> tuple[dict[int, tuple[cKDTree, np.ndarray]], set[int]]:
        """The built trees, for a served snapshot to keep."""
        return self._trees, self._codes

    @classmethod
    def restore(cls, lon: np.ndarray, lat: np.ndarray, kind: np.ndarray,
                state: tuple[dict[int, tuple[cKDTree, np.ndarray]], set[int]]
                ) -> NearestIndex:
        """An index over the same rows from trees :meth:`state` gave, without rebuilding."""
        idx = cls.__new__(cls)
        idx.lon = np.ascontiguousarray(lon, dtype=float)
        idx.lat = np.ascontiguousarray(lat, dtype=float)
        idx.kind = np.asarray(kind)
        idx._trees, idx._codes = state
        return idx

    @property
    def kinds(self) -> list[int]:
        return sorted(self._codes)

    def query(
        self,
        lon: float,
        lat: float,
        *,
        k: int,
        kinds: Sequence[int] | None = None,
        accept: Accept | None = None,
        max_distance_m: float | None = None,
    ) -> Hits:
        """The ``k`` nearest rows that ``accept`` keeps, nearest first.

        ``accept`` receives candidate row numbers and returns a boolean array;
        it is only ever called on rows the tree has returned.
        """
        q = _point_xyz(lon, lat)
        wanted = self._codes if kinds is None else self._codes.intersection(kinds)
        if not wanted:
            empty = np.empty(0)
            return Hits(np.empty(0, dtype=np.int64), empty, empty)
        if wanted == self._codes:
            return self._query_tree(self._trees[_ALL], q, lon, lat, k, accept, max_distance_m)
        parts = [self._query_tree(self._trees[c], q, lon, lat, k, accept, max_distance_m)
                 for c in sorted(wanted)]
        return merged(parts, k)

    def _query_tree(self, tree_rows: tuple[cKDTree, np.ndarray], q: tuple[float, float, float],
                    lon: float, lat: float, k: int, accept: Accept | None,
                    max_distance_m: float | None) -> Hits:
        tree, rows = tree_rows
        n = len(rows)
        if max_distance_m is None:
            bound = np.inf
        else:
            # Widest sphere angle a geodesic of max_distance_m can span.
            ang = min(max_distance_m / MIN_RADIUS, math.pi)
            bound = 2 * math.sin(ang / 2) * (1 + 1e-12)
        # Unfiltered, a few spare candidates cover the ellipsoid's distortion.
        m = min(n, k + 2 if accept is None else max(4 * k, 32))
        while True:
            if bound == np.inf:
                chord, pos = tree.query(q, k=m)
            else:
                chord, pos = tree.query(q, k=m, distance_upper_bound=bound)
            if m == 1:
                chord, pos = np.atleast_1d(chord), np.atleast_1d(pos)
            exhausted = m >= n
            if bound != np.inf:
                found = pos < n
                if not found.all():
                    chord, pos, exhausted = chord[found], pos[found], True
            cand = rows[pos]
            if accept is not None and len(cand):
                keep = accept(cand)
                chord_k, cand_k = chord[keep], cand[keep]
            else:
                chord_k, cand_k = chord, cand
            got = len(cand_k)
            if got:
                if got > 2 * k:
                    # Only candidates whose sphere angle is within the ellipsoid's
                    # distortion of the k-th can change the ranking (not worth
                    # the cut for the couple of spares of an unfiltered search).
                    kth = 2 * math.asin(min(float(chord_k[k - 1]) / 2, 1.0))
                    reach = 2 * math.sin(min(kth * RADIUS_RATIO, math.pi) / 2) + 1e-15
                    cand_k = cand_k[: int(np.searchsorted(chord_k, reach, side="right"))]
                az, dist = geodesics(lon, lat, self.lon[cand_k], self.lat[cand_k])
                if max_distance_m is not None:
                    inside = dist <= max_distance_m
                    cand_k, dist, az = cand_k[inside], dist[inside], az[inside]
            else:
                dist = az = np.empty(0)
            order = np.argsort(dist, kind="stable")
            if exhausted or len(chord) == 0:
                break
            if len(order) >= k:
                far_ang = 2 * math.asin(min(float(chord[-1]) / 2, 1.0))
                kth_m = float(dist[order[k - 1]])
                if kth_m <= MIN_RADIUS * far_ang:
                    break
                # Close call: fetch exactly the ball that could still hold a
                # nearer station, rather than widening blindly.
                reach = 2 * math.sin(min(kth_m / MIN_RADIUS, math.pi) / 2) * (1 + 1e-12)
                ball = np.asarray(tree.query_ball_point(q, reach), dtype=np.int64)
                cand_k = rows[ball]
                if accept is not None and len(cand_k):
                    cand_k = cand_k[accept(cand_k)]
                az, dist = geodesics(lon, lat, self.lon[cand_k], self.lat[cand_k])
                if max_distance_m is not None:
                    inside = dist <= max_distance_m
                    cand_k, dist, az = cand_k[inside], dist[inside], az[inside]
                order = np.lexsort((cand_k, dist))
                break
            m = min(n, m * 4)
        order = order[:k]
        return Hits(cand_k[order], dist[order], az[order])

    def within_bbox(self, bbox: tuple[float, float, float, float]) -> np.ndarray:
        """Rows whose point lies in ``(minlon, minlat, maxlon, maxlat)``."""
        x0, y0, x1, y1 = bbox
        return np.flatnonzero((self.lon >= x0) & (self.lon <= x1)
                              & (self.lat >= y0) & (self.lat <= y1))


def merged(parts: Sequence[Hits], k: int) -> Hits:
    """The ``k`` nearest of searches over disjoint rows, nearest first (ties by row).

    Exact, since each part holds the ``k`` nearest of its own rows.
    """
    if len(parts) == 1:
        return parts[0]
    rows = np.concatenate([p.rows for p in parts])
    dist = np.concatenate([p.distance_m for p in parts])
    az = np.concatenate([p.azimuth_deg for p in parts])
    order = np.lexsort((rows, dist))[:k]
    return Hits(rows[order], dist[order], az[order])


class MergedIndex:
    """Indexes over disjoint rows searched as one.

    Open stations and temporarily closed ones are indexed apart, so that the
    common search (open only) needs no status filter, and the other, asked
    for now and then, costs no second copy of the big trees.
    """

    def __init__(self, *parts: NearestIndex) -> None:
        self.parts = parts

    def query(self, lon: float, lat: float, *, k: int, kinds: Sequence[int] | None = None,
              accept: Accept | None = None, max_distance_m: float | None = None) -> Hits:
        """As :meth:`NearestIndex.query`, over the rows of every part."""
        return merged([p.query(lon, lat, k=k, kinds=kinds, accept=accept,
                               max_distance_m=max_distance_m) for p in self.parts], k)
