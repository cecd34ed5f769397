"""Where the next stations go: maximal covering location (MCLP) with a certificate.

``suggest`` chooses ``n`` candidate sites that cover the most demand not already
covered by existing stations. It works on a sparse 0/1 coverage matrix
(demand rows x candidate columns, built with a k-d tree) and runs, in order:

1. **lazy greedy** – a priority queue of possibly stale gains; a popped gain is
   recomputed and accepted only if it still beats the next one (coverage is
   submodular, so stale gains are upper bounds);
2. **swap local search** – replace a chosen site with the outside candidate
   that gains most while the exchange improves the objective;
3. **bounds** – the Lagrangian dual of the covering constraints
   (:func:`~locator.planning.runs.bounds.lagrangian_bound`), whose steps also propose
   answers; on problems small enough, HiGHS's LP relaxation (rounded to an
   answer too) and a time-limited MILP warm-started from the best answer.

The problem is reduced first: demand already covered, demand no candidate
reaches and candidates that reach no remaining demand are dropped, and demand
rows reached by exactly the same candidates are merged. Every answer carries a
certified upper bound: the least of the submodular bound ``f(S) + sum of the
n largest gains given S`` (Nemhauser-Wolsey), the Lagrangian bound, the LP
bound and HiGHS's MIP dual bound, so ``gap = (bound - objective) / bound`` is
always valid.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

from locator.planning.bounds import highs_solve, lagrangian_bound, objective, submodular_bound

Progress = Callable[[str], None]
# Above this many coverage pairs HiGHS rarely finishes the LP within seconds;
# the Lagrangian bound stands in for it.
MAX_LP_NNZ = 2_000_000


@dataclass
class Suggestion:
    """Chosen sites (indices into the candidates, in greedy order) and their certificate."""

    sites: np.ndarray
    gains: np.ndarray
    objective: float
    bound: float
    lp_bound: float | None
    mip_bound: float | None
    lagrangian_bound: float | None
    greedy_objective: float
    swaps: int
    status: str
    already_covered: float
    unreachable: float
    total: float
    reduced_rows: int
    reduced_cols: int
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def gap(self) -> float:
        """Certified relative optimality gap ``(bound - objective) / bound``."""
        return 0.0 if self.bound <= 0 else max(0.0, (self.bound - self.objective) / self.bound)


def coverage_matrix(dx: np.ndarray, dy: np.ndarray, cx: np.ndarray, cy: np.ndarray,
                    reach: float) -> sparse.csc_matrix:
    """0/1 matrix, ``A[i, j] = 1`` when candidate ``j`` is within ``reach`` of demand ``i``."""
    n_d, n_c = len(dx), len(cx)
    if n_d == 0 or n_c == 0:
        return sparse.csc_matrix((n_d, n_c), dtype=np.int8)
    tree = cKDTree(np.column_stack([dx, dy]))
    pts = np.column_stack([cx, cy])
    lengths = tree.query_ball_point(pts, r=reach, return_length=True, workers=-1)
    k = int(lengths.max())
    if k == 0:
        return sparse.csc_matrix((n_d, n_c), dtype=np.int8)
    if k * n_c <= 40_000_000:
        # A bounded k-NN query fills dense arrays in C; Python lists per
        # candidate (query_ball_point) are ten times slower at this size.
        dist, idx = tree.query(pts, k=k, distance_upper_bound=reach * (1 + 1e-12),
                               workers=-1)
        dist = dist.reshape(n_c, k)
        idx = idx.reshape(n_c, k)
        hit = np.isfinite(dist) & (dist <= reach)
        indices = idx[hit].astype(np.int32)
        lengths = hit.sum(axis=1)
    else:
        pairs = cKDTree(pts).sparse_distance_matrix(tree, reach, output_type="ndarray")
        order = np.lexsort((pairs["j"], pairs["i"]))
        indices = pairs["j"][order].astype(np.int32)
        lengths = np.bincount(pairs["i"], minlength=n_c)
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    data = np.ones(len(indices), dtype=np.int8)
    a = sparse.csc_matrix((data, indices, indptr), shape=(n_d, n_c))
    a.sort_indices()
    return a


def lazy_greedy(a: sparse.csc_matrix, w: np.ndarray, p: int) -> tuple[list[int], list[float]]:
    """Greedy maximal covering with lazily re-evaluated gains."""
    indptr, indices = a.indptr, a.indices
    covered = np.zeros(a.shape[0], dtype=bool)
    gains0 = np.asarray(a.T @ w).ravel()
    heap = [(-g, int(j)) for j, g in enumerate(gains0) if g > 0]
    heapq.heapify(heap)
    chosen: list[int] = []
    gains: list[float] = []
    while len(chosen) < p and heap:
        _, j = heapq.heappop(heap)
        rows = indices[indptr[j]:indptr[j + 1]]
        g = float(w[rows][~covered[rows]].sum())
        if g <= 0:
            continue
        if heap and g < -heap[0][0] * (1 - 1e-12):
            heapq.heappush(heap, (-g, j))
            continue
        chosen.append(j)
        gains.append(g)
        covered[rows] = True
    return chosen, gains


def _col_sums(csr: sparse.csr_matrix, rows: np.ndarray, w: np.ndarray, n_cols: int
              ) -> np.ndarray:
    """``A[rows].T @ w[rows]`` without building the sub-matrix."""
    if len(rows) == 0:
        return np.zeros(n_cols)
    starts, ends = csr.indptr[rows], csr.indptr[rows + 1]
    lens = ends - starts
    idx = np.repeat(starts - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens) + \
        np.arange(lens.sum())
    return np.bincount(csr.indices[idx], weights=np.repeat(w[rows], lens), minlength=n_cols)


def swap_search(a: sparse.csc_matrix, w: np.ndarray, sites: list[int], *,
                deadline: float) -> tuple[list[int], int]:
    """First-improvement exchange: swap a chosen site for a better outside one."""
    csr = a.tocsr()
    n_c = a.shape[1]
    indptr, indices = a.indptr, a.indices
    cnt = np.zeros(a.shape[0], dtype=np.int32)
    for j in sites:
        cnt[indices[indptr[j]:indptr[j + 1]]] += 1
    gain0 = _col_sums(csr, np.flatnonzero(cnt == 0), w, n_c)
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
            score = gain0 + _col_sums(csr, uniq, w, n_c)
            score[chosen] = -np.inf
            j = int(np.argmax(score))
            if score[j] - loss <= tol:
                continue
            cnt[rows_s] -= 1
            gain0 += _col_sums(csr, rows_s[cnt[rows_s] == 0], w, n_c)
            rows_j = indices[indptr[j]:indptr[j + 1]]
            cnt[rows_j] += 1
            gain0 -= _col_sums(csr, rows_j[cnt[rows_j] == 1], w, n_c)
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
    h1 = rng.integers(1, 2**62, size=csr.shape[1], dtype=np.int64).astype(np.uint64)
    h2 = rng.integers(1, 2**62, size=csr.shape[1], dtype=np.uint64)
    row_of = np.repeat(np.arange(n), np.diff(csr.indptr))
    k1 = np.zeros(n, dtype=np.uint64)
    k2 = np.zeros(n, dtype=np.uint64)
    # Sums of random 64-bit keys (wrapping) identify a column set; two keys
    # and the length make a collision practically impossible.
    np.add.at(k1, row_of, h1[csr.indices])
    np.add.at(k2, row_of, h2[csr.indices] * np.uint64(3))
    keys = np.column_stack([k1, k2, np.diff(csr.indptr).astype(np.uint64)])
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    merged_w = np.bincount(inverse.ravel(), weights=w, minlength=len(first))
    return csr[first].tocsc(), merged_w


def _fill(first: list[int], extra: list[int], p: int) -> list[int]:
    """``first`` topped up to ``p`` distinct sites from ``extra``."""
    out = list(dict.fromkeys(first))
    for j in extra:
        if len(out) >= p:
            break
        if j not in out:
            out.append(j)
    return out[:p]


def _order(a: sparse.csc_matrix, w: np.ndarray, sites: list[int]) -> tuple[list[int],
                                                                        list[float]]:
    """Greedy order of a fixed set, so each prefix is the best staging of it."""
    if not sites:
        return [], []
    order, gains = lazy_greedy(a[:, sites], w, len(sites))
    rest = [k for k in range(len(sites)) if k not in set(order)]
    return [sites[k] for k in order + rest], gains + [0.0] * len(rest)


def suggest(n: int, radius: float, candidates: tuple[np.ndarray, np.ndarray],
            demand: tuple[np.ndarray, np.ndarray, np.ndarray],
            existing: tuple[np.ndarray, np.ndarray] | None = None, *,
            detour: float = 1.0, time_limit: float = 10.0, exact: bool = True,
            target_gap: float = 0.0,
            progress: Progress | None = None,
            cover: Callable[..., sparse.csc_matrix] | None = None) -> Suggestion:
    """Choose ``n`` candidate sites covering the most demand not yet covered.

    Parameters
    ----------
    n
        Number of new sites.
    radius
        Service radius in metres; a site covers demand within ``radius / detour``.
    candidates
        Metric ``(x, y)`` of possible sites.
    demand
        Metric ``(x, y, weight)`` of demand points (e.g. grid cells).
    existing
        Metric ``(x, y)`` of stations already there; their coverage counts as done.
    detour
        Street over straight-line distance.
    time_limit
        Seconds for the whole solve; HiGHS gets what greedy and swaps leave.
    exact
        Run the LP bound and the MILP after the heuristics.
    progress
        Called with the name of each step as it starts.
    target_gap
        Stop tightening once the sites are proven within this share of the
        best possible (0 spends the time limit where the bound is not tight).
    cover
        Builds the coverage matrix from ``(dx, dy, cx, cy, reach)``; straight-line
        :func:`coverage_matrix` by default, network distances when given one.
    """
    t0 = time.perf_counter()
    deadline = t0 + time_limit
    say = progress or (lambda _s: None)
    secs: dict[str, float] = {}
    reach = radius / detour
    dx, dy, w = (np.asarray(v, float) for v in demand)
    cx, cy = (np.asarray(v, float) for v in candidates)
    total = float(w.sum())
    keep = w > 0
    already = 0.0
    if existing is not None and len(existing[0]):
        from locator.planning.coverage import nearest_distance

        near = nearest_distance(dx, dy, np.asarray(existing[0], float),
                                np.asarray(existing[1], float)) <= reach
        already = float(w[near & keep].sum())
        keep &= ~near
    rows = np.flatnonzero(keep)
    say("matrix")
    a = (cover or coverage_matrix)(dx[rows], dy[rows], cx, cy, reach)
    reachable = np.diff(a.tocsr().indptr) > 0
    unreachable = float(w[rows][~reachable].sum())
    useful = np.flatnonzero(np.diff(a.indptr) > 0)
    a = a[np.flatnonzero(reachable)][:, useful]
    wr = w[rows][reachable]
    a, wr = merge_rows(a, wr)
    secs["matrix"] = time.perf_counter() - t0
    say("greedy")
    t = time.perf_counter()
    p = min(n, a.shape[1])
    sites, _ = lazy_greedy(a, wr, p)
    greedy_obj = objective(a, wr, np.asarray(sites, dtype=np.int64))
    secs["greedy"] = time.perf_counter() - t
    say("swap")
    t = time.perf_counter()
    swap_deadline = t + max(0.2, (deadline - t) * 0.3) if exact else deadline
    sites, swaps = swap_search(a, wr, sites, deadline=swap_deadline)
    obj = objective(a, wr, np.asarray(sites, dtype=np.int64))
    secs["swap"] = time.perf_counter() - t
    bound = submodular_bound(a, wr, sites, p) if p else 0.0
    lp_bound = mip_bound = lag_bound = None
    status = "heuristic"
    if exact and p and a.shape[0]:
        say("bound")
        t = time.perf_counter()
        # Without HiGHS to follow (too large), the bound gets all the time left.
        share = 0.4 if a.nnz <= MAX_LP_NNZ else 0.9
        lag, lag_sites = lagrangian_bound(a, wr, p, obj,
                                          deadline=t + max(0.2, (deadline - t) * share),
                                          target_gap=target_gap)
        bound = min(bound, lag)
        lag_bound = lag
        if lag_sites:
            lag_sites, _ = swap_search(a, wr, lag_sites, deadline=time.perf_counter() + 0.5)
            l_obj = objective(a, wr, np.asarray(lag_sites, dtype=np.int64))
            if l_obj > obj:
                sites, obj = lag_sites, l_obj
        secs["lagrangian"] = time.perf_counter() - t
        # A user waits for the answer: once it is proven close enough, stop there.
        close = target_gap > 0 and obj >= bound * (1 - target_gap)
        if a.nnz <= MAX_LP_NNZ and not close:
            # Solved even when the answer is already certified: the LP bound
            # is part of every report where it can be had in time.
            say("lp")
            t = time.perf_counter()
            _, lpb, rounded, _ = highs_solve(a, wr, p, [], integer=False,
                                             time_limit=max(0.1, (deadline - t) * 0.5))
            secs["lp"] = time.perf_counter() - t
            if np.isfinite(lpb):
                lp_bound = float(lpb)
                bound = min(bound, lp_bound)
            if rounded:
                r_obj = objective(a, wr, np.asarray(rounded, dtype=np.int64))
                if r_obj < bound * (1 - 1e-6):
                    rounded, _ = swap_search(a, wr, _fill(rounded, sites, p),
                                             deadline=time.perf_counter() + 0.2)
                    r_obj = objective(a, wr, np.asarray(rounded, dtype=np.int64))
                if r_obj > obj:
                    sites, obj = list(rounded), r_obj
        if a.nnz <= MAX_LP_NNZ and not close and obj < bound * (1 - 1e-6):
            say("milp")
            t = time.perf_counter()
            m_obj, m_bound, m_sites, status = highs_solve(
                a, wr, p, sites, integer=True, time_limit=max(0.1, deadline - t))
            secs["milp"] = time.perf_counter() - t
            if np.isfinite(m_bound):
                mip_bound = float(m_bound)
                bound = min(bound, mip_bound)
            if m_obj > obj:
                sites, obj = m_sites, m_obj
    bound = max(bound, obj)
    if status != "Optimal" and bound - obj <= 1e-6 * bound:
        status = "Optimal"
    ordered, gains = _order(a, wr, sites)
    secs["total"] = time.perf_counter() - t0
    return Suggestion(
        sites=useful[np.asarray(ordered, dtype=np.int64)], gains=np.asarray(gains),
        objective=obj, bound=bound, lp_bound=lp_bound, mip_bound=mip_bound,
        lagrangian_bound=lag_bound,
        greedy_objective=greedy_obj, swaps=swaps, status=status, already_covered=already,
        unreachable=unreachable, total=total, reduced_rows=a.shape[0],
        reduced_cols=a.shape[1], seconds=secs)
