"""The area reachable within a distance budget, built from the reached edges.

Every edge whose start is reached contributes the part of it that the budget
left at its start still covers (a fully reached edge whole, a partly reached
one cut at the remaining distance); the area is those segments buffered by a
few metres either side of the street and merged. Unlike a convex hull it
follows the streets and leaves out blocks and rivers no street crosses.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from scipy import sparse
from scipy.sparse.csgraph import dijkstra


def reached_segments(csr: sparse.csr_matrix, x: np.ndarray, y: np.ndarray, source: int,
                     start: float, budget: float) -> tuple[np.ndarray, np.ndarray]:
    """Segments ``(n, 2, 2)`` of metric coordinates reached from ``source`` and node distances.

    ``start`` is the distance already walked to reach ``source`` (its snap).
    """
    d = np.asarray(dijkstra(csr, directed=True, indices=source, limit=budget - start),
                   float) + start
    u = np.repeat(np.arange(csr.shape[0], dtype=np.int64), np.diff(csr.indptr))
    v = csr.indices.astype(np.int64)
    length = np.asarray(csr.data, float)
    ok = d[u] <= budget
    u, v, length = u[ok], v[ok], length[ok]
    frac = np.clip((budget - d[u]) / length, 0.0, 1.0)
    ex = x[u] + frac * (x[v] - x[u])
    ey = y[u] + frac * (y[v] - y[u])
    seg = np.stack([np.column_stack([x[u], y[u]]), np.column_stack([ex, ey])], axis=1)
    return seg, d


def area(segments: np.ndarray, *, width: float) -> Any:
    """The segments buffered by ``width`` metres and merged into one (multi)polygon."""
    if not len(segments):
        return shapely.Polygon()
    lines = np.asarray(shapely.linestrings(segments), dtype=object)
    merged = shapely.multilinestrings(list(lines))
    return shapely.buffer(merged, width, quad_segs=4)
