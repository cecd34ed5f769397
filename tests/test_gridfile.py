"""The province grid kept as a file, and the projections the grid pins."""

from __future__ import annotations

import shutil

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Transformer

from locator.geo import regions
from locator.geo.datum import METRIC_CRS
from locator.planning import grid, gridfile
from tests.conftest import ROOT

BOUNDARIES = ROOT / "data" / "boundaries"
CELL = 5000.0


def _built() -> grid.Grid:
    return grid.build(regions.counties(str(BOUNDARIES)), CELL)


def test_a_kept_grid_reads_back_as_the_grid_built_from_the_polygons(tmp_path):
    built = _built()
    read = gridfile.load_or_build(BOUNDARIES, CELL, tmp_path, _built)
    assert len(list(tmp_path.glob("grid-*.npz"))) == 1
    read = gridfile.load_or_build(BOUNDARIES, CELL, tmp_path, lambda: pytest.fail("rebuilt"))
    for name in ("cell", "x0", "y1", "nx", "ny", "crs", "name", "adcode"):
        assert getattr(read, name) == getattr(built, name)
    for name in ("flat", "region", "x", "y"):
        got, want = getattr(read, name), getattr(built, name)
        assert got.dtype == want.dtype and np.array_equal(got, want)
    cols = [*grid.REGION_COLUMNS, "area_km2"]
    assert read.regions[cols].equals(built.regions[cols])
    assert shapely.equals_exact(read.regions.geometry.to_numpy(),
                                built.regions.geometry.to_numpy(), 0.0).all()
    # The WGS-84 polygons kept beside them are what GeoPandas projects.
    want = built.regions.geometry.to_crs("EPSG:4326").to_numpy()
    assert shapely.equals_exact(read.regions_wgs84(), want, 1e-9).all()


def test_changed_boundaries_or_cell_size_name_another_file(tmp_path):
    copy = tmp_path / "b"
    shutil.copytree(BOUNDARIES, copy)
    name = gridfile.file_name(copy, CELL)
    assert gridfile.file_name(copy, CELL * 2) != name
    county = copy / regions.COUNTY_FILE
    county.write_bytes(county.read_bytes() + b"\n")
    assert gridfile.file_name(copy, CELL) != name


def test_a_damaged_file_is_built_again_and_an_unwritable_folder_is_no_error(tmp_path):
    path = tmp_path / gridfile.file_name(BOUNDARIES, CELL)
    path.write_bytes(b"not a grid")
    g = gridfile.load_or_build(BOUNDARIES, CELL, tmp_path, _built)
    assert len(g) == len(_built())
    assert len(gridfile.read(path)) == len(g)          # replaced by a good one
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder should be")
    assert len(gridfile.load_or_build(BOUNDARIES, CELL, blocked, _built)) == len(g)


@pytest.mark.parametrize("pair", list(grid.PIPELINES))
def test_pinned_pipelines_are_what_proj_picks(pair):
    src, dst = pair
    chosen = Transformer.from_crs(src, dst, always_xy=True)
    assert chosen.definition == grid.PIPELINES[pair]
    rng = np.random.default_rng(3)
    if src == "EPSG:4326":
        x, y = rng.uniform(110.3, 116.7, 500), rng.uniform(31.3, 36.4, 500)
    else:
        x, y = rng.uniform(2e5, 8e5, 500), rng.uniform(3.4e6, 4.1e6, 500)
    assert np.array_equal(np.array(grid._transformer(src, dst).transform(x, y)),
                          np.array(chosen.transform(x, y)))


def test_reproject_matches_geopandas():
    polys = regions.counties(str(BOUNDARIES)).geometry
    got = grid.reproject(polys.to_numpy(), "EPSG:4326", METRIC_CRS)
    want = gpd.GeoSeries(polys).to_crs(METRIC_CRS).to_numpy()
    assert shapely.equals_exact(got, want, 1e-6).all()


def test_keep_builds_a_missing_file_once_and_never_reads_a_present_one(tmp_path):
    assert gridfile.keep(BOUNDARIES, CELL, tmp_path, _built) is True
    path = tmp_path / gridfile.file_name(BOUNDARIES, CELL)
    assert len(gridfile.read(path)) == len(_built())
    # A start-up check must cost a hash, not a read: a present file is left alone.
    path.write_bytes(b"left alone")
    assert gridfile.keep(BOUNDARIES, CELL, tmp_path, lambda: pytest.fail("rebuilt")) is False
    assert path.read_bytes() == b"left alone"
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder should be")
    assert gridfile.keep(BOUNDARIES, CELL, blocked, _built) is True


def test_serve_prepares_the_grid_the_planner_then_reads(tmp_path):
    from locator.planning import scope
    from locator.web import warmup

    cfg = {"DATA_DIR": str(tmp_path), "BOUNDARIES_DIR": str(BOUNDARIES), "GRID_CELL_M": CELL}
    took = warmup.prepare(cfg)
    assert took is not None and took > 0
    assert warmup.prepare(cfg) is None
    kept = list((tmp_path / "grids").glob("grid-*.npz"))
    assert len(kept) == 1
    g = gridfile.load_or_build(BOUNDARIES, CELL, tmp_path / "grids",
                               lambda: pytest.fail("the prepared file was not used"))
    assert np.array_equal(g.flat, _built().flat)
    assert scope.grid_store(cfg) == str(tmp_path / "grids")
