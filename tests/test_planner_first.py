"""The planner's fast first answer, its refinement and the work runs share per dataset."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
import shapely

from locator import config, create_app
from locator.planning import coverage, grid, runs
from locator.stations import dataset
from tests.conftest import DEMO


@pytest.fixture
def cfg():
    return config.load(overrides={"GRID_CELL_M": 2000.0, "SUGGEST_TIME_LIMIT": 5.0})


@pytest.mark.slow
def test_first_answer_counts_area_on_the_grid_until_the_exact_area_is_kept(cfg):
    ds = dataset.read(DEMO)
    p = runs.parse({"n": "5", "demand": "none"}, cfg, with_n=True)
    first = runs.run(p, ds, cfg, first=True)
    g = grid.henan(str(cfg["BOUNDARIES_DIR"]), 2000.0)
    sx, sy = coverage.station_xy(ds, p.kinds)
    # Independent of the run: covered cells over all cells, and shapely's exact area.
    cells, _ = shapely.STRtree(shapely.points(sx, sy)).query(
        shapely.points(g.x, g.y), predicate="dwithin", distance=p.radius)
    grid_share = len(np.unique(cells)) / len(g)
    assert first.provisional
    assert first.province["area_share"] == pytest.approx(grid_share, rel=0.02)
    full = runs.run(p, ds, cfg)
    assert not full.provisional
    exact = coverage.exact_covered_km2(g.regions.geometry, sx, sy, p.radius).sum()
    assert full.province["covered_km2"] == pytest.approx(exact)
    # Now kept for this dataset: a first answer is as exact as the full one.
    again = runs.run(p, ds, cfg, first=True)
    assert again.province["covered_km2"] == pytest.approx(exact)
    assert full.certificate["bound"] >= full.certificate["objective"] - 1e-6
    assert full.certificate["objective"] >= first.certificate["objective"] - 1e-6


@pytest.mark.slow
def test_runs_share_coverage_per_dataset_and_a_new_version_starts_afresh(cfg):
    ds = dataset.read(DEMO)
    preset = runs.parse({"preset": "sanitation", "n": "3", "demand": "none"}, cfg, with_n=True)
    custom = runs.PlanParams(**{**preset.__dict__, "preset": None, "n": 4})
    t = time.perf_counter()
    a = runs.run(preset, ds, cfg)
    cold = time.perf_counter() - t
    t = time.perf_counter()
    b = runs.run(custom, ds, cfg)
    warm = time.perf_counter() - t
    assert a.cov is not None and b.cov is not None
    assert a.cov.distance is b.cov.distance and a.cov.exact_km2 is b.cov.exact_km2
    assert warm < cold
    other = runs.run(preset, dataset.read(DEMO), cfg)
    assert other.cov is not None and other.cov.distance is not a.cov.distance
    for k in ("covered_km2", "area_share", "covered_cells", "stations"):
        assert other.province[k] == a.province[k]


@pytest.mark.slow
def test_page_shows_a_first_answer_then_updates_to_the_full_one():
    app = create_app({"TESTING": True, "DATA_PATH": str(DEMO), "GRID_CELL_M": 2000.0,
                      "SUGGEST_TIME_LIMIT": 3.0})
    client = app.test_client()
    body = ""
    for _ in range(300):
        body = client.get("/planner?n=5&demand=none").get_data(as_text=True)
        if 'data-poll="' not in body:
            break
        assert re.search(r'<progress id="plan-progress" max="100" value="\d+"', body)
        time.sleep(0.2)
    assert 'id="prov-area"' in body
    refine = re.search(r'data-refine="([^"]+)"', body)
    # The unions' upkeep table comes with the final page, not with a first answer.
    assert ('id="union-county-table"' in body) == (refine is None)
    if refine:
        r = client.get(refine.group(1))
        while r.status_code == 202:
            assert 0 <= r.json["percent"] <= 100
            time.sleep(0.2)
            r = client.get(refine.group(1))
        assert r.status_code == 200
        body = client.get("/planner?n=5&demand=none").get_data(as_text=True)
    assert 'id="prov-area"' in body and "data-refine" not in body and "data-poll" not in body
    assert 'id="union-county-table"' in body


def test_the_job_key_changes_with_the_graph_file(tmp_path):
    from locator.planning import network_distance

    graph = tmp_path / "walk.npz"
    graph.write_bytes(b"one")
    cfg = {"NETWORK_PATH": str(graph)}
    before = network_distance.network_key(cfg)
    graph.write_bytes(b"a rebuilt graph")
    assert network_distance.network_key(cfg) != before
    assert network_distance.network_key({"NETWORK_PATH": str(tmp_path / "none.npz")}) == ""
    p = runs.PlanParams(distance="network")
    assert p.key("v1|" + before) != p.key("v1|" + network_distance.network_key(cfg))
