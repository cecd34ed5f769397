"""Planning API, planner page, downloads and the two commands."""

from __future__ import annotations

import io
import json

import pandas as pd
import pyogrio
import pytest

from locator import create_app
from locator.cli.main import main
from tests.conftest import DEMO, HOSTILE_NAME
from tests.jobclient import planned


@pytest.fixture(scope="module")
def plan_client(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demand")
    pd.DataFrame({"lon": [113.70, 110.95, 112.45], "lat": [34.80, 33.97, 34.62],
                  "weight": [5000, 3000, 2000]}).to_csv(folder / "riders.csv", index=False)
    app = create_app({"TESTING": True, "DATA_PATH": str(DEMO), "TILES": "osm",
                      "GRID_CELL_M": 2000.0, "DEMAND_DIR": str(folder),
                      "POPULATION_PATH": str(folder / "absent.csv"),
                      "SUGGEST_TIME_LIMIT": 5.0})
    return app.test_client()


@pytest.mark.slow
def test_coverage_api(plan_client):
    r = planned(plan_client, "/api/v1/coverage?radius=3000&by=city")
    assert r.status_code == 200
    body = r.json
    assert body["unit"] == "km2" and body["dataset"]["demo"] is True
    assert len(body["regions"]) == 18
    assert 0 < body["province"]["area_share"] < 1
    assert body["headline"]["by_kind"][0]["report"] == 11500


@pytest.mark.slow
def test_suggest_api_with_a_demand_layer(plan_client):
    r = planned(plan_client, "/api/v1/suggest?n=3&demand=riders&radius=1000")
    assert r.status_code == 200, r.json
    body = r.json
    assert body["unit"] == "people"
    sites = body["suggestions"]
    assert len(sites) <= 3
    assert body["curve"][0]["n"] == 0
    shares = [c["share"] for c in body["curve"]]
    assert shares == sorted(shares)
    cert = body["certificate"]
    assert cert["bound"] >= cert["objective"] - 1e-6


@pytest.mark.slow
def test_job_polling(plan_client):
    r = plan_client.get("/api/v1/coverage?radius=4321&wait=0")
    assert r.status_code in (200, 202)
    if r.status_code == 202:
        url = r.json["poll"]
        for _ in range(200):
            r = plan_client.get(url)
            if r.status_code == 200:
                break
            import time

            time.sleep(0.1)
    assert r.status_code == 200
    assert r.json["params"]["radius_m"] == 4321
    assert plan_client.get("/api/v1/jobs/nope").status_code == 404


@pytest.mark.parametrize(("query", "field"), [
    ("radius=0", "radius"), ("radius=1e9", "radius"), ("radius=x", "radius"),
    ("demand=population", "demand"), ("demand=../../etc/passwd", "demand"),
    ("n=100000", "n"), ("n=-1", "n"), ("preset=pilot", "preset"), ("kind=bus", "kind"),
    ("detour=0.5", "detour"), ("by=planet", "by"),
])
def test_bad_parameters_are_400(plan_client, query, field):
    r = plan_client.get("/api/v1/suggest?" + query)
    assert r.status_code == 400
    assert set(r.json) == {"status", "code", "message", "field"}
    assert r.json["field"] == field


def test_presets_are_shared(plan_client):
    r = plan_client.get("/api/v1/presets")
    codes = {p["code"]: p for p in r.json["presets"]}
    assert codes["sanitation"]["radius_m"] == 1000
    assert codes["truck"]["kinds"] == ["driver_home"]
    assert "riders" in r.json["demand_layers"]
    r = planned(plan_client, "/api/v1/coverage?preset=truck")
    assert r.json["params"]["radius_m"] == 30000 and r.json["params"]["kinds"] == ["driver_home"]


@pytest.mark.slow
def test_planner_page_and_downloads(plan_client):
    q = "radius=3000&n=2&demand=riders"
    planned(plan_client, f"/api/v1/coverage?{q}")
    r = plan_client.get(f"/planner?{q}")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "演示数据" in html and 'id="county-table"' in html and "curve" in html
    assert "unpkg" not in html and "jsdelivr" not in html and "cdnjs" not in html
    r = plan_client.get(f"/planner?{q}&lang=en")
    assert "Coverage by county" in r.get_data(as_text=True)
    csv = plan_client.get(f"/planner/download/counties.csv?{q}")
    df = pd.read_csv(io.BytesIO(csv.data), encoding="utf-8-sig", dtype={"县级区划代码": str})
    assert len(df) == 157
    assert {"县级区划代码", "面积覆盖率（%）", "人口覆盖率（%）"} <= set(df.columns)
    gj = json.loads(plan_client.get(f"/planner/download/suggestions.geojson?{q}").data)
    assert gj["type"] == "FeatureCollection"
    pkg = plan_client.get(f"/planner/download/gaps.gpkg?{q}")
    assert pkg.status_code == 200 and pkg.data[:16] == b"SQLite format 3\x00"
    assert plan_client.get(f"/planner/download/gaps.xls?{q}").status_code == 404


@pytest.mark.slow
def test_cli_coverage_and_suggest(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("LOCATOR_GRID_CELL_M", "2000")
    monkeypatch.setenv("LOCATOR_SUGGEST_TIME_LIMIT", "5")
    out = tmp_path / "report.csv"
    cells = tmp_path / "gaps.csv"
    res = runner.invoke(main, ["coverage", "--radius", "2000", "--by", "county",
                               "--out", str(out), "--gap-cells", str(cells)])
    assert res.exit_code == 0, res.output
    assert "province:" in res.output
    df = pd.read_csv(out, encoding="utf-8-sig", dtype={"county_adcode": str})
    assert len(df) == 157 and df["area_share"].between(0, 1).all()
    gaps = pd.read_csv(cells, encoding="utf-8-sig")
    assert len(gaps) > 0 and (gaps["distance_m"] >= 2000).all()
    page = tmp_path / "report.html"
    res = runner.invoke(main, ["coverage", "--radius", "3000", "--out", str(page)])
    assert res.exit_code == 0, res.output
    html = page.read_text(encoding="utf-8")
    # One offline file: Leaflet and the page script are inlined, nothing is fetched.
    assert "<script src=" not in html and 'rel="stylesheet" href' not in html
    assert 'id="county-table"' in html and "L.map(" in html and "演示数据" in html
    gpkg = tmp_path / "all.gpkg"
    res = runner.invoke(main, ["coverage", "--out", str(gpkg)])
    assert res.exit_code == 0, res.output
    assert {"counties", "gaps"} <= {n for n, _ in pyogrio.list_layers(gpkg)}
    cands = tmp_path / "cands.csv"
    pd.DataFrame({"lon": [113.5, 113.9, 112.4], "lat": [34.5, 34.9, 34.6],
                  "name": [HOSTILE_NAME, "b", "c"]}).to_csv(cands, index=False)
    sites = tmp_path / "sites.geojson"
    res = runner.invoke(main, ["suggest", "--n", "2", "--candidates", str(cands),
                               "--out", str(sites)])
    assert res.exit_code == 0, res.output
    assert "certified gap" in res.output
    # The progress bar names the stages of a long run as they start.
    assert all(stage in res.output for stage in ("grid", "distances", "greedy"))
    assert len(json.loads(sites.read_text(encoding="utf-8"))["features"]) == 2
    res = runner.invoke(main, ["suggest", "--n", "0"])
    assert res.exit_code == 2 and '"field": "n"' in res.output


@pytest.mark.slow
def test_html_report_is_built_without_flask(tmp_path):
    """``locator coverage --out report.html`` as a user runs it: a fresh process."""
    import subprocess
    import sys

    demand = tmp_path / "riders.csv"
    pd.DataFrame({"lon": [113.70, 110.95], "lat": [34.80, 33.97],
                  "weight": [5000, 3000]}).to_csv(demand, index=False)
    page = tmp_path / "report.html"
    probe = ("import sys, runpy; sys.argv = ['locator', 'coverage', '--radius', '3000', "
             f"'--data', {str(DEMO)!r}, '--demand', {str(demand)!r}, '--out', {str(page)!r}];"
             "from locator.cli.main import main\n"
             "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
             "print('FLASK' if 'flask' in sys.modules else 'NOFLASK', code)")
    env = {**__import__("os").environ, "LOCATOR_GRID_CELL_M": "3000"}
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env=env, timeout=300, check=False)
    assert res.stdout.strip().endswith("NOFLASK 0"), res.stdout + res.stderr
    html = page.read_text(encoding="utf-8")
    # The layer control's icon is in leaflet.css as a relative image: it must be inlined.
    assert "leaflet-control-layers-toggle" in html
    assert "url(images/layers.png)" not in html and "url(data:image/png;base64," in html
    # The demand layer is named by its file's name, not by the folder it sits in.
    assert "riders" in html and str(tmp_path) not in html
    assert "<script src=" not in html and "L.control.layers(" in html


def _download(client, url):
    """A download, once its plan is computed (a busy server first answers 202 with a job)."""
    r = client.get(url)
    if r.status_code == 202:
        planned(client, url)
        r = client.get(url)
    return r


@pytest.mark.slow
def test_downloads_read_well_in_a_spreadsheet(plan_client):
    import openpyxl

    q = "radius=3000&n=3&demand=riders"
    raw = planned(plan_client, f"/api/v1/suggest?{q}").json
    csv = _download(plan_client, f"/planner/download/counties.csv?{q}&lang=en")
    assert "filename*=UTF-8''Henan-" in csv.headers["Content-Disposition"]
    assert "3000m" in csv.headers["Content-Disposition"]
    df = pd.read_csv(io.BytesIO(csv.data), encoding="utf-8-sig", dtype={"County code": str})
    # Shares are percentages rounded to 0.1, people whole numbers, demo data said so.
    by_code = {r["county_adcode"]: r for r in raw["regions"]}
    for row in df.head(20).itertuples(index=False):
        want = by_code[row[0]]["area_share"] * 100
        assert abs(row[df.columns.get_loc("Area covered (%)")] - want) <= 0.05 + 1e-9
    assert (df["People not covered"] == df["People not covered"].round()).all()
    assert set(df["Data note"]) == {"Demo data: the stations are synthetic, not real"}
    zh = _download(plan_client, f"/planner/download/suggestions.csv?{q}")
    sites = pd.read_csv(io.BytesIO(zh.data), encoding="utf-8-sig")
    assert "名称" in sites.columns and sites["名称"].astype(str).str.len().gt(0).all()
    # Without a street graph a site is named by its county and a readable position.
    heads = sites["市"] + " " + sites["县（市、区）"] + " · 北纬 "
    assert all(n.startswith(h) for n, h in zip(sites["名称"], heads, strict=True))
    assert "%E6%B2%B3%E5%8D%97%E7%9C%81" in zh.headers["Content-Disposition"]  # 河南省
    xl = _download(plan_client, f"/planner/download/all.xlsx?{q}")
    assert xl.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(xl.data), read_only=True)
    assert book.sheetnames == ["说明", "县级覆盖", "缺口区域", "建议新增站点"]
    assert book["县级覆盖"].max_row == 158
    assert any("演示数据" in str(c) for r in book["说明"].iter_rows(values_only=True) for c in r)
    assert plan_client.get(f"/planner/download/all.csv?{q}").status_code == 404
