"""GDAL's OGC API – Features driver (Debian's gdal-bin) reads /ogc from a live server."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter

import numpy as np
import pytest

from locator import create_app
from locator.stations import dataset
from tests.browser.conftest import serve
from tests.conftest import DEMO, HOSTILE_NAME, make_stations

OGRINFO = shutil.which("ogrinfo")
OGR2OGR = shutil.which("ogr2ogr")
N = 237
NAMES = ["郑州市二七区德化街户外劳动者爱心驿站", "洛阳市 “老城” 司机之家 & <书屋>", HOSTILE_NAME,
         "开封市龙亭区职工书屋（北门）", "信阳市浉河区驿站·南湖"]

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    OGRINFO is None and not os.environ.get("CI"),
    reason="gdal-bin not installed; `make test` installs it")]


def _run(*args: str) -> str:
    if OGRINFO is None:
        pytest.fail("gdal-bin is not installed; `make browser-deps` installs it")
    env = {**os.environ, "GDAL_HTTP_TIMEOUT": "30", "CPL_DEBUG": "ON",
           "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR"}
    out = subprocess.run(list(args), capture_output=True, text=True, env=env, timeout=120,
                         check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout + out.stderr


@pytest.fixture(scope="module")
def rows():
    rng = np.random.default_rng(5)
    kinds = ["rest_station", "driver_home", "reading_room"]
    return [{"lon": float(113.3 + rng.random()), "lat": float(34.5 + rng.random() * 0.5),
             "name": NAMES[i % len(NAMES)] + f" {i}", "kind": kinds[i % 3],
             "id": f"gd-{i:04d}"} for i in range(N)]


@pytest.fixture(scope="module")
def small_server(rows, tmp_path_factory):
    path = make_stations(rows, tmp_path_factory.mktemp("gdal") / "stations.gpkg")
    yield from serve(create_app({"TESTING": True, "DATA_PATH": str(path), "TILES": "osm"}))


def test_ogrinfo_lists_layers_and_counts(small_server, rows):
    out = _run(OGRINFO or "ogrinfo", "-ro", "-so", f"OAPIF:{small_server.url}/ogc", "stations")
    assert re.search(rf"Feature Count: {N}\b", out)
    lon = [r["lon"] for r in rows]
    lat = [r["lat"] for r in rows]
    ext = re.search(r"Extent: \(([-\d.]+), ([-\d.]+)\) - \(([-\d.]+), ([-\d.]+)\)", out)
    assert ext
    got = [float(v) for v in ext.groups()]
    assert got == pytest.approx([min(lon), min(lat), max(lon), max(lat)], abs=1e-6)
    layers = _run(OGRINFO or "ogrinfo", "-ro", "-q", f"OAPIF:{small_server.url}/ogc")
    for name in ("stations", "rest_station", "driver_home", "reading_room"):
        assert f": {name} " in layers


def test_ogr2ogr_pages_through_every_station_once(small_server, rows, tmp_path):
    dest = tmp_path / "out.geojson"
    log = _run(OGR2OGR or "ogr2ogr", "-f", "GeoJSON", str(dest),
               f"OAPIF:{small_server.url}/ogc", "stations")
    data = json.loads(dest.read_text(encoding="utf-8"))
    ids = [f["properties"]["id"] for f in data["features"]]
    assert Counter(ids) == Counter(r["id"] for r in rows)  # each exactly once
    # GDAL really followed `next` links rather than reading one page.
    fetched = re.findall(r"Fetch\((\S*/collections/stations/items\S*)\)", log)
    assert len([u for u in fetched if "offset=" in u]) >= 2
    by_id = {r["id"]: r for r in rows}
    for f in data["features"]:
        src = by_id[f["properties"]["id"]]
        assert f["properties"]["name"] == src["name"]  # Chinese and markup intact
        assert f["properties"]["county"] == "金水区"
        x, y = f["geometry"]["coordinates"]
        assert (x, y) == pytest.approx((src["lon"], src["lat"]), abs=1e-7)


def test_ogr2ogr_kind_collection_and_attribute_filter(small_server, rows, tmp_path):
    dest = tmp_path / "dh.geojson"
    _run(OGR2OGR or "ogr2ogr", "-f", "GeoJSON", str(dest), f"OAPIF:{small_server.url}/ogc",
         "driver_home")
    got = {f["properties"]["id"] for f in json.loads(dest.read_text("utf-8"))["features"]}
    assert got == {r["id"] for r in rows if r["kind"] == "driver_home"}
    # GDAL reads /ogc/api, learns that kind is a query parameter, and filters on the server.
    log = _run(OGRINFO or "ogrinfo", "-ro", "-so", "-where", "kind='reading_room'",
               f"OAPIF:{small_server.url}/ogc", "stations")
    want = sum(r["kind"] == "reading_room" for r in rows)
    assert re.search(rf"Feature Count: {want}\b", log)
    assert re.search(r"Fetch\(\S*/collections/stations/items\?\S*kind=reading_room", log)


def test_demo_dataset_count(tmp_path):
    gen = serve(create_app({"TESTING": True, "DATA_PATH": str(DEMO), "TILES": "osm"}))
    live = next(gen)
    try:
        ds = dataset.read(DEMO)
        out = _run(OGRINFO or "ogrinfo", "-ro", "-so", f"OAPIF:{live.url}/ogc", "stations")
        assert re.search(rf"Feature Count: {len(ds)}\b", out)
        want = int((ds.frame["kind"] == "reading_room").sum())
        out = _run(OGRINFO or "ogrinfo", "-ro", "-so", f"OAPIF:{live.url}/ogc", "reading_room")
        assert re.search(rf"Feature Count: {want}\b", out)
    finally:
        gen.close()
