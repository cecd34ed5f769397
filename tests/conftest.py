"""Shared fixtures: the app factory on the shipped demo data and on small
hand-made datasets, plus paths to the read-only reference data in ../shared."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point

from locator import create_app
from locator.stations import dataset
from tests.backends import backend, pg_cluster  # noqa: F401 - shared fixtures
from tests.staff import pg, staff_cfg  # noqa: F401  (fixtures of the write-path tests)

ROOT = Path(__file__).resolve().parents[1]
# ../shared/data beside the checkout; LOCATOR_SHARED_DATA points elsewhere (a git worktree).
SHARED = Path(os.environ.get("LOCATOR_SHARED_DATA") or ROOT.parent / "shared" / "data")
DEMO = ROOT / "data" / "stations" / "demo_stations.gpkg"
HOSTILE_NAME = "<img src=x onerror=alert(1)>`${alert(2)}`</script>"
# Tests never see versions published into the checkout's own data folder.
_DATA_DIR = tempfile.mkdtemp(prefix="locator-test-data-")
atexit.register(shutil.rmtree, _DATA_DIR, True)
os.environ["LOCATOR_DATA_DIR"] = _DATA_DIR


def shared_file(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"reference data not available: {path}")
    return path


def make_stations(rows: list[dict], path: Path) -> Path:
    """Write a small station GeoPackage from dicts with lon/lat keys."""
    recs = []
    for i, r in enumerate(rows):
        rec = {"id": f"t-{i:03d}", "kind": "rest_station", "name": f"测试驿站{i}",
               "address": f"测试地址{i}", "county_adcode": "410105", "county": "金水区",
               "city": "郑州市", "opening_hours": "24/7", "amenities": "drinking_water;toilet",
               "phone": "0371-60000000", "operator": "测试工会", "access": "public",
               "status": "open", "verified_at": "2026-01-01", "source": "test", "demo": False}
        rec.update({k: v for k, v in r.items() if k not in ("lon", "lat")})
        rec["geometry"] = Point(r["lon"], r["lat"])
        recs.append(rec)
    dataset.write(gpd.GeoDataFrame(recs, crs="EPSG:4326"), path)
    return path


@pytest.fixture(scope="session")
def app():
    return create_app({"TESTING": True, "DATA_PATH": str(DEMO)})


@pytest.fixture(scope="session")
def client(app):
    return app.test_client()


@pytest.fixture
def runner():
    """Invokes the ``locator`` command in-process."""
    from click.testing import CliRunner

    return CliRunner()


@pytest.fixture(scope="session")
def demo_dataset():
    return dataset.read(DEMO)


@pytest.fixture(scope="session")
def small_path(tmp_path_factory) -> Path:
    """Six stations around Zhengzhou's Erqi Tower with known properties."""
    base_lon, base_lat = 113.6645, 34.7536
    rows = [
        {"lon": base_lon + 0.001, "lat": base_lat, "name": HOSTILE_NAME,
         "address": "`<b>bold</b>` & \"quote\" 'single'"},
        {"lon": base_lon + 0.003, "lat": base_lat, "status": "temporarily_closed"},
        {"lon": base_lon + 0.004, "lat": base_lat, "status": "closed"},
        {"lon": base_lon + 0.006, "lat": base_lat, "opening_hours": None,
         "amenities": "drinking_water"},
        {"lon": base_lon, "lat": base_lat + 0.01, "kind": "driver_home",
         "amenities": "shower;truck_parking;toilet;drinking_water"},
        {"lon": base_lon - 0.02, "lat": base_lat, "kind": "reading_room",
         "opening_hours": "Mo-Fr 09:00-17:00; PH off", "amenities": "book_lending"},
    ]
    return make_stations(rows, tmp_path_factory.mktemp("small") / "small.gpkg")


@pytest.fixture(scope="session")
def small_app(small_path):
    return create_app({"TESTING": True, "DATA_PATH": str(small_path), "TILES": "osm"})


@pytest.fixture(scope="session")
def small_client(small_app):
    return small_app.test_client()


_PG_FIXTURES = {"pg_cluster", "pg", "staff_cfg", "backend"}


def pytest_collection_modifyitems(config, items):
    # Tests on the throwaway PostgreSQL cluster are marked, so that the quick
    # edit-test loop (make test-fast) can leave the cluster's start-up out.
    for item in items:
        params = getattr(item, "callspec", None)
        values = set(map(str, params.params.values())) if params is not None else set()
        on_pg = bool(_PG_FIXTURES & set(item.fixturenames)) and \
            bool(values & {"postgis", "postgresql"})
        if on_pg or ("pg_cluster" in item.fixturenames and not values):
            item.add_marker(pytest.mark.postgres)
