"""Realistic station-list files built at test time from the 82 real Zhengzhou stations
in ../shared (never committed), plus independent reference answers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

from locator.geo import datum
from tests.conftest import ROOT, shared_file

COUNTIES = ROOT / "data" / "boundaries" / "henan_county.geojson"
GEOD = Geod(ellps="WGS84")


def real_stations() -> pd.DataFrame:
    """name, address, district, open_hours, gcj lon/lat and the WGS-84 truth."""
    data = json.loads(shared_file("stations", "zhengzhou_rest_stations_82.geojson")
                      .read_text(encoding="utf-8"))
    rows = []
    for f in data["features"]:
        p = f["properties"]
        x, y = f["geometry"]["coordinates"]
        rows.append({"name": p["name"], "address": p["address"], "district": p["district"],
                     "hours": p["open_hours"], "gcj_lon": p["lng_gcj02"],
                     "gcj_lat": p["lat_gcj02"], "lon": x, "lat": y})
    return pd.DataFrame(rows)


def county_polygons() -> list[tuple[str, str, shapely.Geometry]]:
    """(name, city adcode, polygon) read straight from the GeoJSON with shapely."""
    data = json.loads(COUNTIES.read_text(encoding="utf-8"))
    return [(f["properties"]["district_name"], str(f["properties"]["city_adcode"]),
             shapely.geometry.shape(f["geometry"]).buffer(0)) for f in data["features"]]


def point_county(lon: float, lat: float) -> tuple[str | None, str | None]:
    pt = shapely.Point(lon, lat)
    for name, city, poly in county_polygons_cached():
        if poly.contains(pt):
            return name, city
    return None, None


_CACHE: list = []


def county_polygons_cached() -> list[tuple[str, str, shapely.Geometry]]:
    if not _CACHE:
        _CACHE.extend(county_polygons())
    return _CACHE


def expected_mismatch(df: pd.DataFrame) -> set[str]:
    """Names of stations whose stated district is a real county other than the point's."""
    names = {n for n, _, _ in county_polygons_cached()}
    out = set()
    for r in df.itertuples():
        actual, _ = point_county(r.lon, r.lat)
        if r.district in names and actual != r.district:
            out.add(r.name)
    return out


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    _, _, d = GEOD.inv(np.asarray(lon1), np.asarray(lat1), np.asarray(lon2), np.asarray(lat2))
    return np.asarray(d)


def chinese_frame(df: pd.DataFrame, lon: np.ndarray, lat: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"站点名称": df["name"], "详细地址": df["address"],
                         "所属区县": df["district"], "开放时间": df["hours"],
                         "经度": lon, "纬度": lat, "联系电话": "0371-67890000",
                         "所属工会": "郑州市总工会", "服务项目": "饮水、微波炉、卫生间、充电"})


def xlsx_gcj02(df: pd.DataFrame, path: Path) -> Path:
    """An Excel list with a title row above Chinese headers, GCJ-02 coordinates."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "驿站名录"
    ws.append(["郑州市户外劳动者爱心驿站名录（高德坐标）"])
    t = chinese_frame(df, df["gcj_lon"].to_numpy(), df["gcj_lat"].to_numpy())
    ws.append(list(t.columns))
    for row in t.itertuples(index=False):
        ws.append(list(row))
    notes = wb.create_sheet("说明")
    notes.append(["本表由各区总工会汇总"])
    wb.save(path)
    return path


def csv_bd09_gbk(df: pd.DataFrame, path: Path) -> Path:
    bx, by = datum.gcj02_to_bd09(df["gcj_lon"].to_numpy(), df["gcj_lat"].to_numpy())
    t = chinese_frame(df, np.round(bx, 7), np.round(by, 7))
    t.to_csv(path, index=False, encoding="gbk")
    return path


def to_dms(value: float) -> str:
    d = int(value)
    m = int((value - d) * 60)
    s = (value - d - m / 60) * 3600
    return f"{d}°{m}'{s:.4f}\""


SWAPPED = (3, 17, 40)
DMS = (5, 22, 61, 70)


def csv_swapped_dms(df: pd.DataFrame, path: Path) -> Path:
    """UTF-8 (BOM) CSV in GCJ-02 with a few swapped and a few DMS coordinates."""
    lon = np.array([f"{v:.6f}" for v in df["gcj_lon"]], dtype=object)
    lat = np.array([f"{v:.6f}" for v in df["gcj_lat"]], dtype=object)
    for i in SWAPPED:
        lon[i], lat[i] = lat[i], lon[i]
    for i in DMS:
        lon[i], lat[i] = to_dms(df["gcj_lon"][i]), to_dms(df["gcj_lat"][i])
    t = pd.DataFrame({"name": df["name"], "address": df["address"], "district": df["district"],
                      "hours": df["hours"], "lng": lon, "lat": lat, "kind": "户外劳动者爱心驿站"})
    t.to_csv(path, index=False, encoding="utf-8-sig")
    return path
