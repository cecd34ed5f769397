"""Coverage matrices between cells of one grid, from a fixed stencil of offsets.

When both the demand points and the candidate sites are cell centres of the
same :class:`~locator.planning.grid.Grid`, the cells within ``reach`` of a
candidate are always the same offsets ``(drow, dcol)`` with
``cell * hypot(drow, dcol) <= reach``. Looking those offsets up in a raster of
demand positions gives the whole matrix in a few array operations instead of a
k-d tree query per candidate, which is what makes a province-wide siting run
with every cell a candidate answer in seconds.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from locator.planning.grid import Grid


def stencil(cell: float, reach: float) -> np.ndarray:
    """Offsets ``(drow, dcol)`` of the cells whose centres lie within ``reach``.

    Sorted by row offset then column offset, so that for one candidate the
    flat raster index of its neighbours increases along the stencil.
    """
    k = int(np.floor(reach / cell)) + 1
    dr, dc = np.meshgrid(np.arange(-k, k + 1), np.arange(-k, k + 1), indexing="ij")
    # Centres are exact multiples of the cell apart, so the test is exact too.
    inside = (dr * dr + dc * dc) * (cell * cell) <= reach * reach
    return np.column_stack([dr[inside], dc[inside]])


def matrix(g: Grid, demand_pos: np.ndarray, cand_pos: np.ndarray, reach: float
           ) -> sparse.csc_matrix:
    """0/1 CSC matrix, ``A[i, j] = 1`` when cell ``cand_pos[j]`` is within ``reach`` of
    cell ``demand_pos[i]`` (positions index the grid's cells, distances are between centres).
    """
    n_d, n_c = len(demand_pos), len(cand_pos)
    if n_d == 0 or n_c == 0:
        return sparse.csc_matrix((n_d, n_c), dtype=np.int8)
    offs = stencil(g.cell, reach)
    k = int(np.abs(offs).max())
    # A raster of demand rows with a margin of k cells of -1 all round: every
    # stencil lookup then lands inside it and needs no bounds test.
    width = g.nx + 2 * k
    row_of = np.full((g.ny + 2 * k) * width, -1, dtype=np.int32)
    r, c = np.divmod(g.flat, g.nx)
    # int32 arithmetic: the padded raster of a province grid has a few million cells.
    padded = ((r + k) * width + (c + k)).astype(np.int32)
    row_of[padded[demand_pos]] = np.arange(n_d, dtype=np.int32)
    step = (offs[:, 0] * width + offs[:, 1]).astype(np.int32)
    idx = row_of[padded[cand_pos][:, None] + step[None, :]]
    hit = idx >= 0
    indices = idx[hit]
    indptr = np.concatenate([[0], np.cumsum(hit.sum(axis=1))]).astype(np.int64)
    a = sparse.csc_matrix((np.ones(len(indices), dtype=np.int8), indices, indptr),
                          shape=(n_d, n_c))
    # Demand given in raster order keeps each column sorted already; this is
    # then a cheap check, otherwise it sorts.
    a.has_sorted_indices = bool(np.all(np.diff(demand_pos) > 0))
    a.sort_indices()
    return a
