"""Siting solvers on small instances: brute force, HiGHS, spopt and the bounds."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest

from locator.planning import siting


def instance(seed: int, nd: int = 300, nc: int = 14, size: float = 6000.0):
    rng = np.random.default_rng(seed)
    dx, dy = rng.uniform(0, size, nd), rng.uniform(0, size, nd)
    w = rng.integers(1, 50, nd).astype(float)
    cx, cy = rng.uniform(0, size, nc), rng.uniform(0, size, nc)
    return dx, dy, w, cx, cy


def brute_force(dx, dy, w, cx, cy, reach, p) -> float:
    d = np.hypot(dx[:, None] - cx[None, :], dy[:, None] - cy[None, :]) <= reach
    best = 0.0
    for combo in itertools.combinations(range(len(cx)), p):
        best = max(best, float(w[d[:, list(combo)].any(axis=1)].sum()))
    return best


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_exact_greedy_and_bounds_against_brute_force(seed):
    dx, dy, w, cx, cy = instance(seed)
    p, r = 3, 1000.0
    opt = brute_force(dx, dy, w, cx, cy, r, p)
    a = siting.coverage_matrix(dx, dy, cx, cy, r)
    greedy, _ = siting.greedy(a, w, p)
    g_obj = siting.objective(a, w, np.array(greedy))
    m_obj, _m_bound, _m_sites, status = siting.highs_solve(a, w, p, greedy, time_limit=30,
                                                         integer=True)
    assert status == "Optimal"
    assert m_obj == pytest.approx(opt)
    assert opt >= g_obj >= (1 - 1 / math.e) * opt
    _, lp, _, _ = siting.highs_solve(a, w, p, [], time_limit=30, integer=False)
    assert lp >= opt - 1e-6
    lag, lag_sites = siting.lagrangian_bound(a, w, p, g_obj, deadline=time.perf_counter() + 5)
    assert lag >= opt - 1e-6
    assert len(lag_sites) in (0, p)
    s = siting.suggest(p, r, (cx, cy), (dx, dy, w), time_limit=20)
    assert s.objective == pytest.approx(opt)
    assert s.lp_bound is not None and s.lp_bound == pytest.approx(lp)
    assert s.lagrangian_bound is not None
    assert s.lagrangian_bound >= s.lp_bound * (1 - 1e-6)
    # The reported gap bounds the true one.
    true_gap = (opt - s.greedy_objective) / opt
    assert s.bound >= opt - 1e-6
    assert (s.bound - s.greedy_objective) / s.bound >= true_gap - 1e-9
    # The reported sites really cover what is claimed, each gain adds up.
    assert siting.objective(a, w, s.sites) == pytest.approx(s.objective)
    assert s.gains.sum() == pytest.approx(s.objective)


def test_heuristic_only_still_reports_a_valid_bound():
    dx, dy, w, cx, cy = instance(9, nd=400, nc=16)
    opt = brute_force(dx, dy, w, cx, cy, 1200.0, 4)
    s = siting.suggest(4, 1200.0, (cx, cy), (dx, dy, w), exact=False)
    assert s.objective <= opt + 1e-6
    assert s.bound >= opt - 1e-6
    assert 0 <= s.gap <= 1


def test_existing_stations_remove_their_demand():
    dx, dy, w, cx, cy = instance(5)
    ex = (np.array([3000.0]), np.array([3000.0]))
    s = siting.suggest(2, 1000.0, (cx, cy), (dx, dy, w), ex, time_limit=10)
    near = np.hypot(dx - 3000, dy - 3000) <= 1000
    assert s.already_covered == pytest.approx(w[near].sum())
    a = siting.coverage_matrix(dx[~near], dy[~near], cx, cy, 1000.0)
    assert siting.objective(a, w[~near], s.sites) == pytest.approx(s.objective)


def test_merged_rows_keep_the_objective():
    dx, dy, w, cx, cy = instance(11, nd=2000, nc=30)
    a = siting.coverage_matrix(dx, dy, cx, cy, 1500.0)
    m, mw = siting.merge_rows(a, w)
    assert m.shape[0] < a.shape[0]
    sites = np.array([0, 3, 7, 12])
    assert siting.objective(m, mw, sites) == pytest.approx(siting.objective(a, w, sites))


def test_coverage_matrix_matches_brute_force():
    dx, dy, _w, cx, cy = instance(3, nd=500, nc=40)
    a = siting.coverage_matrix(dx, dy, cx, cy, 800.0).toarray().astype(bool)
    d = np.hypot(dx[:, None] - cx[None, :], dy[:, None] - cy[None, :]) <= 800.0
    assert (a == d).all()


@pytest.mark.slow
def test_exact_objective_equals_spopt_mclp():
    spopt = pytest.importorskip("spopt.locate")
    pulp = pytest.importorskip("pulp")
    if not pulp.PULP_CBC_CMD(msg=False).available():
        pytest.skip("PuLP's bundled CBC solver is not available")
    dx, dy, w, cx, cy = instance(21, nd=200, nc=25)
    p, r = 4, 1000.0
    cost = np.hypot(dx[:, None] - cx[None, :], dy[:, None] - cy[None, :])
    model = spopt.MCLP.from_cost_matrix(cost, w, service_radius=r, p_facilities=p)
    model = model.solve(pulp.PULP_CBC_CMD(msg=False))
    theirs = float(pulp.value(model.problem.objective))
    s = siting.suggest(p, r, (cx, cy), (dx, dy, w), time_limit=20)
    assert s.objective == pytest.approx(theirs)
    assert s.status == "Optimal"


def test_lagrangian_bound_on_many_candidates_stays_above_the_lp_optimum():
    """With more candidates than the prefix the descent searches, the bound is still valid
    (at or above the LP optimum, here from SciPy's HiGHS) and converges close to it."""
    from scipy import optimize, sparse

    rng = np.random.default_rng(7)
    nd, nc, p = 2000, 20_000, 4
    rows = rng.integers(0, nd, nc * 3)
    cols = np.repeat(np.arange(nc), 3)
    a = sparse.csc_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(nd, nc))
    a.sum_duplicates()
    a.data[:] = 1
    w = rng.integers(1, 50, nd).astype(float)
    # max w.y  s.t.  y_i <= sum_j a_ij x_j,  sum x <= p,  0 <= x, y <= 1
    m = sparse.hstack([-a.astype(float), sparse.identity(nd)])
    m = sparse.vstack([m, sparse.hstack([sparse.csr_matrix(np.ones((1, nc))),
                                         sparse.csr_matrix((1, nd))])]).tocsr()
    lp = optimize.linprog(np.r_[np.zeros(nc), -w], A_ub=m, b_ub=np.r_[np.zeros(nd), p],
                          bounds=(0, 1), method="highs")
    assert lp.status == 0
    lp_opt = -lp.fun
    greedy, _ = siting.greedy(a, w, p)
    lower = siting.objective(a, w, np.array(greedy))
    lag, sites = siting.lagrangian_bound(a, w, p, lower, deadline=time.perf_counter() + 10,
                                         iterations=2000)
    assert lag >= lp_opt * (1 - 1e-9)
    assert lag <= lp_opt * 1.02
    if sites:
        assert siting.objective(a, w, np.array(sites)) <= lp_opt + 1e-6
