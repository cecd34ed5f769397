"""Exports: every format and datum imports back to the same stations; spreadsheets are inert."""

from __future__ import annotations

import csv
import io
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from locator import create_app, memo
from locator.cli.main import main
from locator.geo import datum
from locator.ingest import pipeline
from locator.stations import dataset, export
from locator.storage import files
from tests import stationfiles as sf
from tests.conftest import ROOT, make_stations

BOUNDARIES = ROOT / "data" / "boundaries"
SAME = ["id", "kind", "name", "address", "county_adcode", "county", "city", "opening_hours",
        "amenities", "phone", "operator", "access", "status", "verified_at", "source",
        "approximate"]


@pytest.fixture
def published(tmp_path, monkeypatch, runner):
    monkeypatch.setenv("LOCATOR_DATA_DIR", str(tmp_path / "data"))
    real = sf.real_stations()
    path = sf.xlsx_gcj02(real, tmp_path / "zz.xlsx")
    r = runner.invoke(main, ["import", str(path), "--crs", "gcj02", "--source", "zz"])
    assert r.exit_code == 0, r.output
    dd = files.DataDir(tmp_path / "data")
    return files.read_frame(dd.live_path("x"))


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    f = pd.DataFrame(frame[SAME]).astype(object)
    f = f.map(lambda v: None if v is None or v != v or v == "" else str(v))
    return f.sort_values("id").reset_index(drop=True)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", export.FORMATS)
@pytest.mark.parametrize("crs", ["wgs84", "gcj02", "bd09"])
def test_export_then_import_gives_the_same_stations(tmp_path, published, runner, fmt, crs):
    out = tmp_path / f"out.{fmt}"
    r = runner.invoke(main, ["export", "--format", fmt, "--crs", crs, "--out", str(out)])
    assert r.exit_code == 0, r.output
    back = pipeline.read_stations(out, pipeline.ImportOptions(source="zz"),
                                boundaries_dir=BOUNDARIES, progress=False)
    assert back.rejected == 0
    pd.testing.assert_frame_equal(_plain(back.stations), _plain(published))
    a = published.sort_values("id")
    b = back.stations.sort_values("id")
    d = sf.metres(a.geometry.x, a.geometry.y, b.geometry.x, b.geometry.y)
    assert d.max() < 0.05


def test_exported_coordinates_are_in_the_asked_datum(tmp_path, published, runner):
    out = tmp_path / "gcj.csv"
    runner.invoke(main, ["export", "--crs", "gcj02", "--out", str(out)])
    t = pd.read_csv(out, encoding="utf-8-sig", dtype={"county_adcode": str})
    real = sf.real_stations().set_index("name")
    # The source file's own GCJ-02 columns are the independent truth (6 decimals, ~0.1 m).
    assert np.allclose(t["lon_gcj02"], real.loc[t["name"], "gcj_lon"], atol=2e-6)
    assert np.allclose(t["lat_gcj02"], real.loc[t["name"], "gcj_lat"], atol=2e-6)


HOSTILE = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@A1", "普通名称"]


@pytest.fixture
def hostile_frame(tmp_path):
    rows = [{"lon": 113.66 + i * 0.01, "lat": 34.75, "name": n, "address": n,
             "phone": "+86 371 6000 0000"} for i, n in enumerate(HOSTILE)]
    path = make_stations(rows, tmp_path / "h.gpkg")
    return files.read_frame(path)


def test_csv_cells_that_would_run_as_formulas_are_neutralised(hostile_frame):
    body = export.csv_bytes(hostile_frame)
    assert body.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    names = [r["name"] for r in rows]
    assert names == ["'" + n if n[0] in "=+-@" else n for n in HOSTILE]
    assert all(r["phone"] == "'+86 371 6000 0000" for r in rows)
    assert all(not r["lon_wgs84"].startswith("'") for r in rows)


def test_xlsx_text_is_neutralised_but_numbers_stay_numbers(tmp_path, hostile_frame):
    from openpyxl import load_workbook

    frame = hostile_frame.copy()
    frame.geometry = gpd.GeoSeries([Point(-0.5 - i, 51.5) for i in range(len(frame))],
                                   crs="EPSG:4326")  # negative longitudes (London)
    out = export.write(frame, tmp_path / "h.xlsx", fmt="xlsx")
    ws = load_workbook(out).active
    header = [c.value for c in ws[1]]
    name_col, lon_col = header.index("name"), header.index("lon_wgs84")
    for row, expected in zip(ws.iter_rows(min_row=2), HOSTILE, strict=True):
        cell = row[name_col]
        assert cell.data_type == "s"  # text, never a formula
        assert cell.value == ("'" + expected if expected[0] in "=+-@" else expected)
        assert isinstance(row[lon_col].value, float) and row[lon_col].value < 0


def test_neutralised_export_imports_back_to_the_original_text(tmp_path, hostile_frame):
    frame = hostile_frame.copy()
    frame["name"] = [n.replace("'", "") for n in HOSTILE]
    out = export.write(frame, tmp_path / "h.csv", fmt="csv")
    back = pipeline.read_stations(out, pipeline.ImportOptions(source="test"),
                                boundaries_dir=BOUNDARIES, progress=False)
    assert sorted(back.stations["name"]) == sorted(frame["name"])


def test_download_endpoints(tmp_path, small_path):
    app = create_app({"TESTING": True, "DATA_PATH": str(small_path),
                      "DATA_DIR": str(tmp_path / "none")})
    client = app.test_client()
    ds = app.extensions["locator.store"].current
    r = client.get("/api/v1/stations.geojson?crs=gcj02")
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    fc = json.loads(r.data)
    assert fc["datum"] == "gcj02" and len(fc["features"]) == len(ds)
    by_id = {f["properties"]["id"]: f["geometry"]["coordinates"] for f in fc["features"]}
    gx, gy = datum.wgs84_to_gcj02(ds.lon, ds.lat)
    for sid, x, y in zip(ds.frame["id"], gx, gy, strict=True):
        assert by_id[sid] == pytest.approx([x, y], abs=1e-7)
    etag = r.headers["ETag"]
    assert client.get("/api/v1/stations.geojson?crs=gcj02",
                      headers={"If-None-Match": etag}).status_code == 304
    r = client.get("/api/v1/stations.csv")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert len(rows) == len(ds) and "lon_wgs84" in rows[0]
    hostile = [row for row in rows if row["name"].startswith("<img")]
    assert len(hostile) == 1  # text is data in a CSV; it is not neutralised unless a formula
    r = client.get("/api/v1/stations.csv?crs=mars")
    assert r.status_code == 400 and r.get_json()["field"] == "crs"


def test_a_new_version_replaces_the_kept_download_bodies(tmp_path, small_path):
    app = create_app({"TESTING": True, "DATA_PATH": str(small_path),
                      "DATA_DIR": str(tmp_path / "none")})
    client = app.test_client()
    store = app.extensions["locator.store"]
    old = store.current
    first = client.get("/api/v1/stations.csv").data
    renamed = old.frame.copy()
    renamed.loc[0, "name"] = "新名字驿站"
    store.swap(dataset.Dataset(renamed, old.version + "-2", old.path))
    second = client.get("/api/v1/stations.csv").data
    assert "新名字驿站".encode() in second and "新名字驿站".encode() not in first
    kept = [k for k in memo.STORE._items if isinstance(k, tuple) and k[0] == "downloads"]
    assert kept and all(k[1] == old.version + "-2" for k in kept)


def test_export_format_from_the_file_name(tmp_path, published, runner):
    r = runner.invoke(main, ["export", "--out", str(tmp_path / "s.json")])
    assert r.exit_code == 0 and json.loads((tmp_path / "s.json").read_bytes())["datum"] == "wgs84"
    r = runner.invoke(main, ["export", "--out", str(tmp_path / "s.docx")])
    assert r.exit_code == 2 and json.loads(r.stderr)["field"] == "format"
    assert not (tmp_path / "s.docx").exists()
