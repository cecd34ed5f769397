"""Snapping points to the street graph.

A point joins the network at its nearest node (a k-d tree over the nodes'
metric coordinates, one vectorised query); the straight walk to that node is
added to every network distance from the point. Points farther than
``max_snap`` from any node are unreachable: their snap distance is ``inf``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree


@dataclass
class Snapped:
    """Nearest graph node of each point and the straight distance to it (m)."""

    node: np.ndarray
    distance: np.ndarray

    @property
    def reachable(self) -> np.ndarray:
        return np.isfinite(self.distance)


class Snapper:
    """Snaps metric points to the nodes of one graph."""

    def __init__(self, node_x: np.ndarray, node_y: np.ndarray) -> None:
        self.tree = cKDTree(np.column_stack([node_x, node_y]))

    def snap(self, x: np.ndarray, y: np.ndarray, *, max_snap: float) -> Snapped:
        """Snap ``(x, y)``; points beyond ``max_snap`` get node ``-1`` and distance ``inf``."""
        if len(x) == 0:
            return Snapped(np.zeros(0, np.int64), np.zeros(0))
        d, i = self.tree.query(np.column_stack([x, y]), k=1,
                               distance_upper_bound=max_snap * (1 + 1e-12), workers=-1)
        d = np.asarray(d, float)
        far = ~np.isfinite(d) | (d > max_snap)
        node = np.where(far, -1, i).astype(np.int64)
        return Snapped(node, np.where(far, np.inf, d))
