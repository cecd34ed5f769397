"""Caches bounded in bytes: sizes against independent counts, the budget honoured."""

from __future__ import annotations

import gc
import weakref

import geopandas as gpd
import numpy as np
import pytest
import shapely

from locator import config, create_app, memo
from locator.geo import regions
from locator.planning import grid
from locator.stations import dataset

BOUNDARIES = config.ROOT / "data" / "boundaries"
MB = 1 << 20


@pytest.fixture
def budget():
    """Set the shared budget for one test, then put the default back."""
    memo.STORE.clear()
    yield memo.configure
    memo.STORE.clear()
    memo.configure(config.BY_NAME["CACHE_MB"].default)


def test_array_sizes_are_their_buffers():
    a = np.zeros((1000, 3))
    assert memo.size_of(a) == 1000 * 3 * 8
    assert memo.size_of(np.zeros(10, np.float32)) == 40


def test_geodataframe_size_counts_columns_and_coordinates():
    n = 20_000
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(110, 116, n), rng.uniform(31, 36, n)
    # Polygons of 5 vertices each (a closed ring of four corners).
    squares = shapely.box(lon, lat, lon + 0.01, lat + 0.01)
    gdf = gpd.GeoDataFrame({"a": np.arange(n, dtype=np.int64), "b": lon}, geometry=squares)
    data = n * 8 * 2                        # the two numeric columns
    coords = n * 5 * 2 * 8                  # five x/y pairs of doubles per polygon
    got = memo.size_of(gdf)
    assert got >= data + coords
    # Overheads (index, pointers, per-geometry objects) stay within a few hundred bytes a row.
    assert got <= data + coords + n * 400


def test_lru_keeps_within_budget_and_drops_the_oldest():
    cache = memo.ByteCache(10 * MB)
    blocks = {i: np.full(3 * MB // 8, i, dtype=np.float64) for i in range(4)}
    for i in range(3):
        assert cache.put(i, blocks[i])
    cache.get(0)                            # 0 is now the most recently used
    cache.put(3, blocks[3])
    assert cache.used == 3 * 3 * MB <= 10 * MB
    assert cache.get(1) is None             # the least recently used went first
    assert all(cache.get(i) is blocks[i] for i in (0, 2, 3))


def test_a_value_larger_than_the_budget_is_not_kept():
    cache = memo.ByteCache(1 * MB)
    assert not cache.put("big", np.zeros(2 * MB // 8))
    assert cache.get("big") is None and cache.used == 0


def test_lowering_the_budget_evicts_at_once():
    cache = memo.ByteCache(10 * MB)
    for i in range(3):
        cache.put(i, np.zeros(3 * MB // 8))
    cache.budget = 4 * MB
    assert cache.used == 3 * MB and len(cache) == 1


def test_cached_function_computes_once_within_budget(budget):
    budget(8)
    calls = []

    @memo.cached
    def block(megabytes: int) -> np.ndarray:
        calls.append(megabytes)
        return np.zeros(megabytes * MB // 8)

    first = block(3)
    assert block(3) is first and calls == [3]
    block(20)                               # over the whole budget: computed, not kept
    block(20)
    assert calls == [3, 20, 20]
    for mb in (4, 5):                       # 3 + 4 + 5 > 8: the 3 MB block goes
        block(mb)
    assert memo.STORE.used <= 8 * MB
    block(3)
    assert calls == [3, 20, 20, 4, 5, 3]


def test_an_ignored_keyword_is_not_part_of_the_key(budget):
    budget(8)
    calls = []

    @memo.cached_ignoring("where")
    def block(megabytes: int, *, where: str | None = None) -> np.ndarray:
        calls.append((megabytes, where))
        return np.zeros(megabytes * MB // 8)

    first = block(1, where="a")
    assert block(1, where="b") is first and block(1) is first
    assert calls == [(1, "a")]
    block(2, where="b")
    assert calls == [(1, "a"), (2, "b")]


def test_real_caches_stay_within_a_small_budget(budget):
    budget(4)
    counties = regions.counties(str(BOUNDARIES))
    assert regions.counties(str(BOUNDARIES)) is counties       # the county table fits
    grid.henan(str(BOUNDARIES), 2000.0)
    assert memo.STORE.used <= 4 * MB
    fine = grid.henan(str(BOUNDARIES), 1000.0)
    own = fine.flat.nbytes + fine.region.nbytes + fine.x.nbytes + fine.y.nbytes
    assert own > 4 * MB                                        # larger than the budget
    assert grid.henan(str(BOUNDARIES), 1000.0) is not fine     # so never kept
    assert memo.STORE.used <= 4 * MB


def test_the_setting_sets_the_budget(budget, small_path):
    create_app({"TESTING": True, "DATA_PATH": str(small_path), "CACHE_MB": 3})
    assert memo.STORE.budget == 3 * MB


def test_a_replaced_version_is_freed_after_planner_jobs_used_it(tmp_path, small_path):
    app = create_app({"TESTING": True, "DATA_PATH": str(small_path), "JOBS_MAX_WAIT": 30,
                      "DATA_DIR": str(tmp_path / "none"), "RATE_LIMIT_ENABLED": False})
    client = app.test_client()
    store = app.extensions["locator.store"]
    r = client.get("/api/v1/coverage?radius=1000&wait=30")
    assert r.status_code == 200
    old = weakref.ref(store.current)
    store.swap(dataset.Dataset(store.current.frame.copy(), "v2", store.current.path))
    gc.collect()
    assert old() is None


def test_kept_planning_work_is_bounded_in_bytes_and_goes_with_its_dataset(budget):
    """The planner's per-dataset reuse shares the byte budget, and a dropped dataset frees it."""
    from scipy import sparse

    from locator.planning import reuse

    budget(8)  # MB
    ds = dataset.read(config.ROOT / "data" / "stations" / "demo_stations.gpkg")
    built = []

    def array(i):
        built.append(i)
        return np.full(3 * MB // 8, float(i))  # 3 MB each

    for i in range(5):
        assert reuse.kept(ds, "coverage", f"k{i}", lambda i=i: array(i))[0] == i
    # Only two 3 MB arrays fit in 8 MB: the newest are kept, the oldest rebuilt.
    assert memo.STORE.used <= 8 * MB
    assert reuse.has(ds, "coverage", "k4") and reuse.has(ds, "coverage", "k3")
    assert not reuse.has(ds, "coverage", "k0")
    reuse.kept(ds, "coverage", "k4", lambda: array(99))
    assert built == [0, 1, 2, 3, 4]
    reuse.kept(ds, "coverage", "k0", lambda: array(0))
    assert built == [0, 1, 2, 3, 4, 0]

    # A sparse problem counts its three buffers, independently summed here.
    m = sparse.random(2000, 300, density=0.05, format="csc", random_state=1)
    want = m.data.nbytes + m.indices.nbytes + m.indptr.nbytes
    assert reuse.own_size(m) == want

    # A shared grid inside a kept value is not counted again.
    g = grid.henan(BOUNDARIES, 20_000)
    assert reuse.own_size(g) == 0

    def planning_bytes():
        return sum(size for k, (_, size) in memo.STORE._items.items() if k[0] == "planning")

    assert planning_bytes() >= 2 * 3 * MB
    alive = weakref.ref(ds)
    del ds
    gc.collect()
    assert alive() is None
    assert planning_bytes() == 0


def test_the_app_makes_arrow_allocate_through_the_trimmed_allocator(monkeypatch):
    """Arrow's default pool would keep freed pages that trimming never returns."""
    import pyarrow as pa

    from locator import allocator

    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    allocator._arrow_on_glibc()
    assert pa.default_memory_pool().backend_name == "system"
    before = pa.total_allocated_bytes()
    # A computed column is allocated by Arrow (one made from numpy would borrow numpy's).
    column = pa.array(np.arange(1_000_000)).cast(pa.float64())
    assert pa.system_memory_pool().bytes_allocated() >= column.nbytes
    del column
    assert pa.total_allocated_bytes() <= before
