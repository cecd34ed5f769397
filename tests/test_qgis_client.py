"""QGIS (Debian's python3-qgis) adds and reads /ogc layers from a live server.

PyQGIS is installed for Debian's own interpreter, so ``tests/qgis_reader.py``
runs under ``/usr/bin/python3`` headless (offscreen Qt, a throw-away HOME and
profile): it drives QGIS's "Add WFS / OGC API – Features layer" dialog (Connect,
pick a collection, Add), opens the layer the dialog hands over with the OAPIF
provider and prints what QGIS read as JSON; the assertions are made here.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs

import numpy as np
import pytest

from locator import create_app
from locator.services import ogc
from locator.stations import dataset
from tests.browser.conftest import serve
from tests.conftest import DEMO, HOSTILE_NAME, make_stations

SYSTEM_PYTHON = Path("/usr/bin/python3")
PYQGIS = Path("/usr/lib/python3/dist-packages/qgis")
READER = Path(__file__).resolve().parent / "qgis_reader.py"
N = 300
PAGE = 50
RECT = (113.45, 34.55, 113.95, 34.9)  # minlon, minlat, maxlon, maxlat
NAMES = ["郑州市二七区德化街户外劳动者爱心驿站", "洛阳市 “老城” 司机之家 & <书屋>", HOSTILE_NAME,
         "开封市龙亭区职工书屋（北门）", "信阳市浉河区驿站·南湖"]
KINDS = ["rest_station", "driver_home", "reading_room"]

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not PYQGIS.is_dir() and not os.environ.get("CI"),
    reason="python3-qgis not installed; `make test` installs it")]


@pytest.fixture(scope="module")
def rows():
    rng = np.random.default_rng(22)
    return [{"lon": float(113.3 + rng.random()), "lat": float(34.5 + rng.random() * 0.5),
             "name": NAMES[i % len(NAMES)] + f" {i}", "address": f"郑州市金水路{i}号",
             "kind": KINDS[i % 3], "id": f"qg-{i:04d}"} for i in range(N)]


class _Recorder:
    """WSGI middleware keeping the path and query of every request the server answers."""

    def __init__(self, app) -> None:
        self.app = app
        self.seen: list[tuple[str, str]] = []

    def __call__(self, environ, start_response):
        self.seen.append((environ["PATH_INFO"], environ.get("QUERY_STRING", "")))
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def qgis(rows, tmp_path_factory):
    """Run every QGIS job in one subprocess against a small server and the demo data."""
    if not PYQGIS.is_dir() or not SYSTEM_PYTHON.exists():
        pytest.fail("python3-qgis is not installed; `make browser-deps` installs it")
    tmp = tmp_path_factory.mktemp("qgis")
    app = create_app({"TESTING": True,
                      "DATA_PATH": str(make_stations(rows, tmp / "stations.gpkg")),
                      "TILES": "osm"})
    recorder = _Recorder(app.wsgi_app)
    app.wsgi_app = recorder  # type: ignore[method-assign]
    small = serve(app)
    demo = serve(create_app({"TESTING": True, "DATA_PATH": str(DEMO), "TILES": "osm"}))
    small_url, demo_url = next(small).url + "/ogc", next(demo).url + "/ogc"
    try:
        home = tmp / "home"
        runtime = tmp / "runtime"
        home.mkdir()
        runtime.mkdir(mode=0o700)
        connections = {"small": {"url": small_url, "page_size": PAGE},
                       "demo": {"url": demo_url}}
        jobs = [
            {"connection": "small", "typename": "stations"},
            {"connection": "small", "typename": "driver_home"},
            {"connection": "small", "typename": "stations", "view_extent_only": True,
             "rect": RECT},
            {"connection": "demo", "typename": "stations", "count_only": True},
            {"connection": "demo", "typename": "reading_room", "count_only": True},
        ]
        env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime),
               "QT_QPA_PLATFORM": "offscreen", "LANG": "C.UTF-8",
               "no_proxy": "127.0.0.1,localhost", "NO_PROXY": "127.0.0.1,localhost"}
        spec = json.dumps({"profile": str(tmp / "profile"), "connections": connections,
                           "jobs": jobs})
        out = subprocess.run([str(SYSTEM_PYTHON), str(READER), spec], capture_output=True,
                             text=True, env=env, cwd=tmp, timeout=120, check=False)
    finally:
        small.close()
        demo.close()
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout)
    result["requests"] = recorder.seen
    return result


def _job(qgis, i: int) -> dict:
    job = qgis["jobs"][i]
    assert job["valid"], job
    assert job["provider"] == "OAPIF"
    return job


def test_dialog_lists_the_collections(qgis):
    for name in ("small", "demo"):
        listed = {c["id"]: c["title"] for c in qgis["collections"][name]}
        assert listed == {cid: c.title for cid, c in ogc.COLLECTIONS.items()}
    assert "stations" in {c["id"] for c in qgis["collections"]["small"]}


def test_layer_opens_in_crs84_with_every_station_once(qgis, rows):
    job = _job(qgis, 0)
    # QGIS 3.22 names CRS84 "EPSG:4326" (in longitude, latitude order); later ones OGC:CRS84.
    assert job["crs"] in ("EPSG:4326", "OGC:CRS84")
    assert job["crs_is_geographic"]
    assert job["feature_count"] == N
    assert {"id", "name", "kind", "county_adcode", "amenities", "status"} <= set(job["fields"])
    ids = [f["id"] for f in job["features"]]
    assert Counter(ids) == Counter(r["id"] for r in rows)  # each exactly once
    by_id = {r["id"]: r for r in rows}
    for f in job["features"]:
        src = by_id[f["id"]]
        assert f["name"] == src["name"]  # Chinese, typographic quotes and markup intact
        assert f["address"] == src["address"]
        assert f["county"] == "金水区"
        assert f["kind"] == src["kind"]
        assert abs(f["x"] - src["lon"]) < 1e-6
        assert abs(f["y"] - src["lat"]) < 1e-6
    assert any(f["name"].startswith(HOSTILE_NAME) for f in job["features"])


def test_qgis_pages_through_next_links(qgis):
    pages = [parse_qs(q) for p, q in qgis["requests"]
             if p == "/ogc/collections/stations/items" and "bbox" not in parse_qs(q)]
    offsets = sorted(int(p["offset"][0]) for p in pages if "offset" in p)
    # The first page has no offset; QGIS then follows `next` to every later page.
    assert offsets == list(range(PAGE, N, PAGE))
    assert all(p["limit"] == [str(PAGE)] for p in pages if "offset" in p)


def test_kind_collection(qgis, rows):
    job = _job(qgis, 1)
    want = {r["id"] for r in rows if r["kind"] == "driver_home"}
    assert job["feature_count"] == len(want)
    ids = [f["id"] for f in job["features"]]
    assert len(ids) == len(set(ids))
    assert set(ids) == want


def test_bbox_filter_returns_exactly_the_stations_inside(qgis, rows):
    job = _job(qgis, 2)
    x0, y0, x1, y1 = RECT
    inside = {r["id"] for r in rows if x0 <= r["lon"] <= x1 and y0 <= r["lat"] <= y1}
    assert PAGE < len(inside) < N  # the rectangle needs paging and still leaves some out
    ids = [f["id"] for f in job["features"]]
    assert len(ids) == len(set(ids))
    assert set(ids) == inside
    # The server did the filtering: QGIS sent the rectangle as `bbox` and needed only as
    # many pages as there are stations inside it.
    sent = [parse_qs(q) for p, q in qgis["requests"]
            if p == "/ogc/collections/stations/items" and "bbox" in parse_qs(q)]
    assert sent
    for q in sent:
        got = [float(v) for v in q["bbox"][0].split(",")]
        assert got == pytest.approx(list(RECT), abs=1e-9)
    assert len(sent) == math.ceil(len(inside) / PAGE)


def test_demo_dataset_counts(qgis):
    ds = dataset.read(DEMO)
    assert _job(qgis, 3)["feature_count"] == len(ds)
    assert _job(qgis, 4)["feature_count"] == int((ds.frame["kind"] == "reading_room").sum())
