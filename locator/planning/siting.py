"""Where the next stations go: maximal covering location (MCLP) with a certificate.

``suggest`` chooses ``n`` candidate sites that cover the most demand not already
covered by existing stations. It works on a sparse 0/1 coverage matrix
(demand rows x candidate columns, built with a k-d tree) and runs, in order:

1. **greedy** – the candidate adding the most uncovered demand, ``n`` times,
   with all gains kept in one array and updated where rows became covered
   (:mod:`locator.planning.heuristics`);
2. **swap local search** – replace a chosen site with the outside candidate
   that gains most while the exchange improves the objective;
3. **bounds** – the Lagrangian dual of the covering constraints
   (:func:`~locator.planning.runs.bounds.lagrangian_bound`), whose steps also propose
   answers; on problems small enough, HiGHS's LP relaxation (rounded to an
   answer too) and a time-limited MILP warm-started from the best answer.

The problem is reduced first: demand already covered, demand no candidate
reaches and candidates that reach no remaining demand are dropped, and demand
rows reached by exactly the same candidates are merged (:func:`reduce`). The
reduced :class:`Problem` does not depend on ``n``, so a caller may keep it and
solve it again for another number of sites. Every answer carries a
certified upper bound: the least of the submodular bound ``f(S) + sum of the
n largest gains given S`` (Nemhauser-Wolsey), the Lagrangian bound, the LP
bound and HiGHS's MIP dual bound, so ``gap = (bound - objective) / bound`` is
always valid.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

from locator.planning.bounds import highs_solve, lagrangian_bound, objective, submodular_bound
from locator.planning.heuristics import fill, greedy, merge_rows, order, swap_search

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


@dataclass
class Problem:
    """A reduced covering problem: what :func:`solve` needs, for any number of sites.

    ``a`` holds the demand rows still to cover (merged where their candidates
    agree) and the useful candidate columns; ``columns`` maps each column back
    to the index of its candidate.
    """

    a: sparse.csc_matrix
    w: np.ndarray
    columns: np.ndarray
    already_covered: float
    unreachable: float
    total: float
    demand_points: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    _csr: sparse.csr_matrix | None = field(default=None, repr=False)

    @property
    def csr(self) -> sparse.csr_matrix:
        """The same matrix by rows, converted once and shared by every solve."""
        if self._csr is None:
            self._csr = self.a.tocsr()
        return self._csr


def reduce(radius: float, candidates: tuple[np.ndarray, np.ndarray],
           demand: tuple[np.ndarray, np.ndarray, np.ndarray],
           existing: tuple[np.ndarray, np.ndarray] | None = None, *,
           detour: float = 1.0,
           cover: Callable[..., sparse.csc_matrix] | None = None,
           merge: bool = True) -> Problem:
    """The coverage matrix of ``demand`` by ``candidates``, reduced (see the module text).

    Parameters are those of :func:`suggest`; ``merge=False`` skips merging rows
    (for demand known to have distinct candidate sets, such as grid cells).
    """
    t0 = time.perf_counter()
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
    a = (cover or coverage_matrix)(dx[rows], dy[rows], cx, cy, reach)
    reachable = np.bincount(a.indices, minlength=a.shape[0]) > 0
    unreachable = float(w[rows][~reachable].sum())
    useful = np.flatnonzero(np.diff(a.indptr) > 0)
    if not reachable.all() or len(useful) < a.shape[1]:
        # Dropped rows and columns hold no entries: renumbering the rows and
        # skipping empty columns is all it takes, without copying by fancy index.
        renum = (np.cumsum(reachable) - 1).astype(a.indices.dtype)
        a = sparse.csc_matrix((a.data, renum[a.indices], np.r_[0, a.indptr[useful + 1]]),
                              shape=(int(reachable.sum()), len(useful)))
    wr = w[rows][reachable]
    if merge:
        a, wr = merge_rows(a, wr)
    return Problem(a, wr, useful, already, unreachable, total, len(dx),
                   {"matrix": time.perf_counter() - t0})


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
    say = progress or (lambda _s: None)
    t0 = time.perf_counter()
    say("matrix")
    prob = reduce(radius, candidates, demand, existing, detour=detour, cover=cover)
    return solve(prob, n, time_limit=max(0.0, time_limit - (time.perf_counter() - t0)),
                 exact=exact, target_gap=target_gap, progress=progress)


def solve(prob: Problem, n: int, *, time_limit: float = 10.0, exact: bool = True,
          target_gap: float = 0.0, progress: Progress | None = None) -> Suggestion:
    """Choose ``n`` columns of a reduced problem (see :func:`suggest` for the options)."""
    t0 = time.perf_counter()
    deadline = t0 + time_limit
    say = progress or (lambda _s: None)
    secs = dict(prob.seconds)
    a, wr, csr = prob.a, prob.w, prob.csr
    say("greedy")
    t = time.perf_counter()
    p = min(n, a.shape[1])
    sites, _ = greedy(a, wr, p, csr=csr)
    greedy_obj = objective(a, wr, np.asarray(sites, dtype=np.int64))
    secs["greedy"] = time.perf_counter() - t
    say("swap")
    t = time.perf_counter()
    swap_deadline = t + max(0.2, (deadline - t) * 0.3) if exact else deadline
    sites, swaps = swap_search(a, wr, sites, deadline=swap_deadline, csr=csr)
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
                                          target_gap=target_gap, csr=csr)
        bound = min(bound, lag)
        lag_bound = lag
        if lag_sites:
            lag_sites, _ = swap_search(a, wr, lag_sites, deadline=time.perf_counter() + 0.5,
                                       csr=csr)
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
                    rounded, _ = swap_search(a, wr, fill(rounded, sites, p),
                                             deadline=time.perf_counter() + 0.2, csr=csr)
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
    ordered, gains = order(a, wr, sites)
    secs["total"] = time.perf_counter() - t0
    return Suggestion(
        sites=prob.columns[np.asarray(ordered, dtype=np.int64)], gains=np.asarray(gains),
        objective=obj, bound=bound, lp_bound=lp_bound, mip_bound=mip_bound,
        lagrangian_bound=lag_bound,
        greedy_objective=greedy_obj, swaps=swaps, status=status,
        already_covered=prob.already_covered, unreachable=prob.unreachable, total=prob.total,
        reduced_rows=a.shape[0],
        reduced_cols=a.shape[1], seconds=secs)
