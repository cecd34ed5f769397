"""Fast answers for maximal covering: greedy, exchange search and row merging.

Every function takes the sparse 0/1 coverage matrix ``a`` (demand rows x
candidate columns, CSC) and demand weights ``w``, like :mod:`locator.planning.bounds`.
"""

from __future__ import annotations

import time

import numpy as np
from scipy import sparse


def col_sums(csr: sparse.csr_matrix, rows: np.ndarray, w: np.ndarray, n_cols: int
             ) -> np.ndarray:
    """``A[rows].T @ w[rows]`` without building the sub-matrix."""
    if len(rows) == 0:
        return np.zeros(n_cols)
    if 8 * len(rows) > csr.shape[0]:
        # Many rows: one sparse product beats gathering their entries.
        v = np.zeros(csr.shape[0])
        v[rows] = w[rows]
        return np.asarray(csr.T @ v, dtype=float).ravel()
    starts, ends = csr.indptr[rows], csr.indptr[rows + 1]
    lens = ends - starts
    idx = np.repeat(starts - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens) + \
        np.arange(lens.sum())
    return np.bincount(csr.indices[idx], weights=np.repeat(w[rows], lens), minlength=n_cols)


def greedy(a: sparse.csc_matrix, w: np.ndarray, p: int, *,
           csr: sparse.csr_matrix | None = None) -> tuple[list[int], list[float]]:
    """Greedy maximal covering: ``p`` times the column adding the most uncovered weight.

    The gains of all columns are kept as one array and only the columns that
    share a newly covered row are updated, so each pick costs a few array
    operations whatever the number of candidates. Ties go to the lowest column.
    """
    csr = a.tocsr() if csr is None else csr
    indptr, indices = a.indptr, a.indices
    n_c = a.shape[1]
    covered = np.zeros(a.shape[0], dtype=bool)
    gains = np.asarray(a.T @ w, dtype=float).ravel()
    chosen: list[int] = []
    out: list[float] = []
    # Float sums drift a little as gains are subtracted; below this they are zero.
    tol = 1e-9 * max(1.0, float(np.abs(w).sum()))
    while len(chosen) < p and n_c:
        j = int(np.argmax(gains))
        if gains[j] <= tol:
            break
        rows = indices[indptr[j]:indptr[j + 1]]
        new = rows[~covered[rows]]
        g = float(w[new].sum())
        chosen.append(j)
        out.append(g)
        covered[new] = True
        gains -= col_sums(csr, new, w, n_c)
        gains[j] = -np.inf
    return chosen, out


def swap_search(a: sparse.csc_matrix, w: np.ndarray, sites: list[int], *,
                deadline: float, csr: sparse.csr_matrix | None = None
                ) -> tuple[list[int], int]:
    """First-improvement exchange: swap a chosen site for a better outside one."""
    csr = a.tocsr() if csr is None else csr
    n_c = a.shape[1]
    indptr, indices = a.indptr, a.indices
    cnt = np.zeros(a.shape[0], dtype=np.int32)
    for j in sites:
        cnt[indices[indptr[j]:indptr[j + 1]]] += 1
    gain0 = col_sums(csr, np.flatnonzero(cnt == 0), w, n_c)
    chosen = np.zeros(n_c, dtype=bool)
    chosen[sites] = True
    sites = list(sites)
    swaps = 0
    improved = True
    tol = 1e-9 * max(1.0, float(w.sum()))
    while improved and time.perf_counter() < deadline:
        improved = False
        for k in range(len(sites)):
            if time.perf_counter() >= deadline:
                break
            s = sites[k]
            rows_s = indices[indptr[s]:indptr[s + 1]]
            uniq = rows_s[cnt[rows_s] == 1]
            loss = float(w[uniq].sum())
            score = gain0 + col_sums(csr, uniq, w, n_c)
            score[chosen] = -np.inf
            j = int(np.argmax(score))
            if score[j] - loss <= tol:
                continue
            cnt[rows_s] -= 1
            gain0 += col_sums(csr, rows_s[cnt[rows_s] == 0], w, n_c)
            rows_j = indices[indptr[j]:indptr[j + 1]]
            cnt[rows_j] += 1
            gain0 -= col_sums(csr, rows_j[cnt[rows_j] == 1], w, n_c)
            chosen[s], chosen[j] = False, True
            sites[k] = j
            swaps += 1
            improved = True
    return sites, swaps


def merge_rows(a: sparse.csc_matrix, w: np.ndarray) -> tuple[sparse.csc_matrix, np.ndarray]:
    """Merge demand rows reached by the same candidates (their weights add up)."""
    csr = a.tocsr()
    csr.sort_indices()
    n = csr.shape[0]
    if n == 0:
        return a, w
    rng = np.random.default_rng(12345)
    # Two sums of random reals over a row's columns identify its column set:
    # with sorted indices equal sets add in the same order, so their sums are
    # bit-identical, and two keys plus the length make a collision negligible.
    length = np.diff(csr.indptr)
    if (length == 0).any():
        keys = csr.astype(np.float64) @ rng.random((csr.shape[1], 2))
    else:
        # Every row has an entry (the usual case after reduction): sum in place.
        keys = np.add.reduceat(rng.random((csr.shape[1], 2))[csr.indices], csr.indptr[:-1],
                               axis=0)
    if len(np.unique(keys[:, 0])) > 0.99 * n:
        # Merging is only a speed-up; when it would save under 1 % of the
        # rows (cells of one grid rarely share their candidates) it costs more.
        return a, w
    order = np.lexsort((keys[:, 1], keys[:, 0], length))
    ks, kl = keys[order], length[order]
    start = np.ones(n, dtype=bool)
    start[1:] = (kl[1:] != kl[:-1]) | np.any(ks[1:] != ks[:-1], axis=1)
    if start.all():
        return a, w
    group = np.empty(n, dtype=np.int64)
    group[order] = np.cumsum(start) - 1
    # Number the groups by their first row, so merged rows keep the input order.
    heads = order[start]
    rank = np.argsort(heads, kind="stable")
    renum = np.empty(len(heads), dtype=np.int64)
    renum[rank] = np.arange(len(heads))
    inverse = renum[group]
    first = heads[rank]
    merged_w = np.bincount(inverse, weights=w, minlength=len(first))
    return csr[first].tocsc(), merged_w


def fill(first: list[int], extra: list[int], p: int) -> list[int]:
    """``first`` topped up to ``p`` distinct sites from ``extra``."""
    out = list(dict.fromkeys(first))
    for j in extra:
        if len(out) >= p:
            break
        if j not in out:
            out.append(j)
    return out[:p]


def order(a: sparse.csc_matrix, w: np.ndarray, sites: list[int]) -> tuple[list[int],
                                                                       list[float]]:
    """Greedy order of a fixed set, so each prefix is the best staging of it."""
    if not sites:
        return [], []
    picked, gains = greedy(a[:, sites], w, len(sites))
    done = set(picked)
    rest = [k for k in range(len(sites)) if k not in done]
    return [sites[k] for k in picked + rest], gains + [0.0] * len(rest)
