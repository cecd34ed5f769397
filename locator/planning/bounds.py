"""Upper bounds and exact solves for maximal covering (MCLP).

Every function here takes the sparse 0/1 coverage matrix ``a`` (demand rows x
candidate columns, CSC) and demand weights ``w``. The bounds are proven upper
limits on the best coverage ``p`` sites can reach; :mod:`locator.planning.siting`
combines them into the certificate it reports with each answer.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse


def objective(a: sparse.csc_matrix, w: np.ndarray, sites: np.ndarray) -> float:
    """Demand covered by ``sites`` (brute force over the chosen columns)."""
    if len(sites) == 0:
        return 0.0
    hit = np.asarray(a[:, sites].sum(axis=1)).ravel() > 0
    return float(w[hit].sum())


def submodular_bound(a: sparse.csc_matrix, w: np.ndarray, sites: list[int], p: int) -> float:
    """``f(S) + sum of the p largest marginal gains given S``: an upper bound on OPT."""
    covered = np.zeros(a.shape[0], dtype=bool)
    for j in sites:
        covered[a.indices[a.indptr[j]:a.indptr[j + 1]]] = True
    gains = np.asarray(a.T @ (w * ~covered)).ravel()
    top = np.partition(gains, -p)[-p:] if len(gains) > p else gains
    return float(w[covered].sum() + top.sum())


def lagrangian_bound(a: sparse.csc_matrix, w: np.ndarray, p: int, lower: float, *,
                     deadline: float, iterations: int = 400,
                     target_gap: float = 0.0,
                     csr: sparse.csr_matrix | None = None) -> tuple[float, list[int]]:
    """Upper bound on the MCLP optimum from the Lagrangian dual (subgradient descent).

    Relaxing ``y_i <= sum_j a_ij x_j`` with multipliers ``0 <= l_i <= w_i`` gives
    ``L(l) = sum_i (w_i - l_i) + (sum of the p largest entries of A^T l)``,
    an upper bound for every ``l``. Its minimum equals the LP-relaxation bound
    (the subproblem has integral optima), so this converges to the LP bound
    while each step costs little: at province scale it certifies where a full
    LP solve would not finish in time. The p columns picked at each step are
    also a feasible answer; the best one is returned with the bound. The
    descent stops early once ``lower`` is proven within ``target_gap`` of it.

    The descent starts from ``l = w`` and a row's multiplier only moves once a
    picked column covers it, so the steps track ``d = w - l`` on those few rows
    and get ``A^T l = A^T w - A^T d`` from them alone, instead of a product
    with the whole matrix per step.
    """
    from locator.planning.heuristics import col_sums

    if a.shape[0] == 0 or p == 0:
        return 0.0, []
    csr = a.tocsr() if csr is None else csr
    n_c = a.shape[1]
    found: list[int] = []
    g0 = np.asarray(a.T @ w, dtype=float).ravel()
    d = np.zeros(a.shape[0])
    active = np.zeros(0, dtype=np.int64)
    best = np.inf
    theta = 1.0
    stall = 0
    indptr, indices = a.indptr, a.indices
    history: list[float] = []
    # The top p of the scores are searched among the columns whose g0 reaches the
    # lowest score of the last top p (a score never exceeds g0), a short prefix of the
    # columns by g0: a partition of all of them was most of each step's cost.
    k = min(n_c, max(16 * p, 16_384))
    prefix = np.argpartition(g0, n_c - k)[n_c - k:] if k < n_c else np.arange(n_c)
    prefix = prefix[np.argsort(-g0[prefix], kind="stable")]
    prefix_neg = -g0[prefix]
    top = prefix[:p]
    for step in range(iterations):
        score = g0 - col_sums(csr, active, d, n_c) if len(active) else g0
        if step:
            m = int(np.searchsorted(prefix_neg, -score[top].min(), side="right"))
            if m < k or k == n_c:
                cand = prefix[:m]
                top = cand[np.argpartition(score[cand], -p)[-p:]] if m > p else cand
            else:
                top = np.argpartition(score, -p)[-p:] if n_c > p else np.arange(n_c)
        val = float(d[active].sum() + score[top].sum())
        if val < best * (1 - 1e-9):
            best, stall = val, 0
        else:
            stall += 1
            if stall >= 10:
                theta, stall = theta / 2, 0
        history.append(best)
        # Stop when 50 steps have gained less than 0.01 % of the bound.
        flat = len(history) > 50 and history[-51] - best < 1e-4 * best
        if time.perf_counter() >= deadline or best - lower <= max(1e-6, target_gap) * best \
                or theta < 1e-4 or flat:
            break
        hit_rows, counts = np.unique(np.concatenate(
            [indices[indptr[j]:indptr[j + 1]] for j in top]), return_counts=True)
        primal = float(w[hit_rows].sum())
        if primal > lower:
            lower, found = primal, [int(j) for j in top]
        # The subgradient is zero outside the covered rows and the moved ones.
        rows = np.union1d(hit_rows, active)
        grad = np.zeros(len(rows))
        grad[np.searchsorted(rows, hit_rows)] = counts
        grad -= d[rows] > 0
        norm = float(grad @ grad)
        if norm == 0:
            break
        lam = np.clip(w[rows] - d[rows] - theta * (val - lower) / norm * grad, 0.0, w[rows])
        d[rows] = w[rows] - lam
        active = rows[d[rows] > 0]
    return best, found


_BANNER_SHOWN = False


def _highs() -> Any:
    """A HiGHS instance; the first one's copyright banner is kept off stdout."""
    import highspy

    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        return highspy.Highs()
    _BANNER_SHOWN = True
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with Path(os.devnull).open("w") as null:
            os.dup2(null.fileno(), 1)
            return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def highs_solve(a: sparse.csc_matrix, w: np.ndarray, p: int, start: list[int], *,
                time_limit: float, integer: bool) -> tuple[float, float, list[int], str]:
    """Solve the MCLP (or its LP relaxation) with HiGHS.

    Returns the objective of the returned solution, the proven upper bound, the
    chosen columns (``[]`` for the relaxation) and the model status text.
    """
    import highspy

    n_r, n_c = a.shape
    # Columns: x_j (sites) then y_i (demand covered). Rows: y_i - sum x_j <= 0, sum x <= p.
    m = sparse.bmat([[-a.astype(float), sparse.identity(n_r, format="csc")],
                     [sparse.csc_matrix(np.ones((1, n_c))), None]], format="csc")
    m.sort_indices()
    lp = highspy.HighsLp()
    lp.num_col_ = n_c + n_r
    lp.num_row_ = n_r + 1
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.concatenate([np.zeros(n_c), w])
    lp.col_lower_ = np.zeros(n_c + n_r)
    lp.col_upper_ = np.ones(n_c + n_r)
    lp.row_lower_ = np.full(n_r + 1, -highspy.kHighsInf)
    lp.row_upper_ = np.concatenate([np.zeros(n_r), [float(p)]])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = m.indptr.astype(np.int32)
    lp.a_matrix_.index_ = m.indices.astype(np.int32)
    lp.a_matrix_.value_ = m.data.astype(float)
    if integer:
        lp.integrality_ = ([highspy.HighsVarType.kInteger] * n_c
                           + [highspy.HighsVarType.kContinuous] * n_r)
    h = _highs()
    h.setOptionValue("output_flag", False)
    if not integer:
        # Interior point is several times faster than simplex on these
        # covering relaxations; crossover keeps the returned value exact.
        h.setOptionValue("solver", "ipm")
    else:
        # The same holds for the MIP's LP solves (root and nodes).
        h.setOptionValue("mip_lp_solver", "ipm")
    h.setOptionValue("time_limit", max(0.05, float(time_limit)))
    h.setOptionValue("threads", 1)
    h.passModel(lp)
    if integer and start:
        xs = np.zeros(n_c)
        xs[start] = 1.0
        ys = np.minimum(1.0, np.asarray(a @ xs).ravel())
        sol = highspy.HighsSolution()
        sol.col_value = np.concatenate([xs, ys]).tolist()
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    info = h.getInfo()
    if not integer:
        if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
            # A hair of slack keeps the bound valid under the solver's tolerances.
            val = info.objective_function_value * (1 + 1e-7)
            # The p largest x_j round the relaxation to a feasible answer; on
            # covering instances the LP optimum is often integral already.
            x = np.asarray(h.getSolution().col_value[:n_c])
            top = np.argsort(-x, kind="stable")[:p]
            return val, val, [int(j) for j in top if x[j] > 1e-6], status
        return -np.inf, np.inf, [], status
    x = np.asarray(h.getSolution().col_value[:n_c])
    chosen = [int(j) for j in np.flatnonzero(x > 0.5)]
    bound = info.mip_dual_bound if np.isfinite(info.mip_dual_bound) else np.inf
    return objective(a, w, np.asarray(chosen, dtype=np.int64)), bound, chosen, status
