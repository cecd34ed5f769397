"""Importing realistic Chinese station lists built from the 82 real Zhengzhou stations."""

from __future__ import annotations

import numpy as np
import pytest

from locator.ingest import pipeline
from tests import stationfiles as sf
from tests.conftest import ROOT

BOUNDARIES = ROOT / "data" / "boundaries"


@pytest.fixture(scope="module")
def real():
    return sf.real_stations()


def _run(path, **opts):
    return pipeline.read_stations(path, pipeline.ImportOptions(**opts), boundaries_dir=BOUNDARIES,
                                progress=False)


def _check_all_82(result, real, first_data_row):
    st = result.stations
    assert len(st) == 82 and result.rejected == 0
    by_name = st.set_index("name")
    got = by_name.loc[real["name"]]
    d = sf.metres(got.geometry.x.to_numpy(), got.geometry.y.to_numpy(), real["lon"], real["lat"])
    assert d.max() < 1.0, f"worst station is {d.max():.3f} m from its WGS-84 truth"
    # Independent point-in-polygon: every point lies in a county of Zhengzhou (410100).
    cities = {sf.point_county(x, y)[1] for x, y in zip(got.geometry.x, got.geometry.y,
                                                        strict=True)}
    assert cities == {"410100"}
    assert set(st["city"]) == {"郑州市"}
    hours = dict(zip(real["hours"], got["opening_hours"], strict=True))
    assert hours["24小时"] == "24/7"
    assert hours["08:00-20:00"] == "08:00-20:00"
    assert hours["周一至周五 09:00-17:00"] == "Mo-Fr 09:00-17:00"
    assert hours["工作日开放"] == "工作日开放"  # kept as text: unknown, never guessed open
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from locator.domain import hours as oh

    noon = datetime(2026, 3, 4, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a working Wednesday
    assert oh.state(hours["24小时"], noon) == "open"
    assert oh.state(hours["08:00-20:00"], noon) == "open"
    assert oh.state(hours["工作日开放"], noon) == "unknown"
    rep = result.report.frame()
    flagged = rep[rep["code"] == "county_mismatch"]
    flagged_names = set(real["name"].iloc[flagged["row"].to_numpy() - first_data_row])
    expected = sf.expected_mismatch(real)
    assert expected and flagged_names == expected
    unparsed = rep[rep["code"] == "hours_unparsed"]
    assert set(unparsed["value"]) == {"工作日开放"}
    return got


def test_xlsx_with_chinese_headers_and_gcj02(tmp_path, real):
    path = sf.xlsx_gcj02(real, tmp_path / "郑州驿站.xlsx")
    res = _run(path, crs="gcj02")
    assert res.sheet == "驿站名录" and res.fmt == "xlsx"
    got = _check_all_82(res, real, first_data_row=3)
    assert set(got["amenities"]) == {"drinking_water;microwave;toilet;phone_charging"}
    assert set(got["operator"]) == {"郑州市总工会"} and set(got["phone"]) == {"0371-67890000"}
    assert res.source == "郑州驿站"


def test_gbk_csv_with_bd09(tmp_path, real):
    path = sf.csv_bd09_gbk(real, tmp_path / "bd.csv")
    res = _run(path, crs="bd09", source="zz")
    assert res.encoding == "gb18030"
    _check_all_82(res, real, first_data_row=2)


def test_swapped_and_dms_coordinates(tmp_path, real):
    path = sf.csv_swapped_dms(real, tmp_path / "mixed.csv")
    res = _run(path, crs="gcj02")
    _check_all_82(res, real, first_data_row=2)
    rep = res.report.frame()
    swapped = rep.loc[rep["code"] == "coords_swapped", "row"].to_numpy() - 2
    assert sorted(swapped) == sorted(sf.SWAPPED)
    assert rep.loc[rep["code"] == "coords_swapped", "reason_zh"].str.contains("对调").all()


def test_plain_coordinates_need_a_declared_datum(tmp_path, real):
    path = sf.csv_bd09_gbk(real, tmp_path / "bd.csv")
    with pytest.raises(pipeline.ImportRefusedError, match="--crs"):
        _run(path)


def test_rows_are_rejected_one_by_one_with_reasons(tmp_path, real):
    t = sf.chinese_frame(real.head(8), real["gcj_lon"].head(8).to_numpy().astype(object),
                         real["gcj_lat"].head(8).to_numpy().astype(object))
    t.loc[0, "经度"] = ""                              # missing
    t.loc[1, "纬度"] = "北纬三十四度"                   # unreadable
    t.loc[2, "经度"], t.loc[2, "纬度"] = 121.47, 31.23  # Shanghai: outside Henan
    t.loc[3, "站点名称"] = "=HYPERLINK(\"http://x\",\"点我\")"
    t.loc[4, "站点名称"] = ""
    t.loc[5, "服务项目"] = "饮水、按摩椅、WiFi"
    t.loc[6, "开放时间"] = "早8点至晚8点，节假日休息"
    t.to_csv(tmp_path / "rows.csv", index=False, encoding="utf-8")
    res = _run(tmp_path / "rows.csv", crs="gcj02")
    rep = res.report.frame()
    errors = rep[rep["severity"] == "error"].groupby("row")["code"].agg(set).to_dict()
    assert set(errors) == {2, 3, 4, 5, 6}
    for row, code in {2: "coords_missing", 3: "coords_unreadable", 4: "outside_region",
                      5: "formula", 6: "name_missing"}.items():
        assert code in errors[row]
    assert len(res.stations) == 3
    amen = rep[rep["code"] == "amenity_unknown"]
    assert list(amen["row"]) == [7] and "按摩椅" in amen["reason_zh"].iloc[0]
    row7 = res.stations[res.stations["_row"] == 7].iloc[0]
    assert row7["amenities"] == "drinking_water;wifi"
    row8 = res.stations[res.stations["_row"] == 8].iloc[0]
    assert row8["opening_hours"] == "08:00-20:00; PH off"
    assert rep["reason_en"].str.len().min() > 0 and rep["reason_zh"].str.len().min() > 0


def test_approximate_places_rows_at_the_county_centre(tmp_path, real):
    t = sf.chinese_frame(real.head(3), real["gcj_lon"].head(3).to_numpy().astype(object),
                         real["gcj_lat"].head(3).to_numpy().astype(object))
    t.loc[0, "经度"] = t.loc[0, "纬度"] = ""
    t.loc[0, "所属区县"] = "金水区"
    t.to_csv(tmp_path / "a.csv", index=False)
    plain = _run(tmp_path / "a.csv", crs="gcj02")
    assert len(plain.stations) == 2
    res = _run(tmp_path / "a.csv", crs="gcj02", approximate=True)
    st = res.stations.set_index("_row")
    assert len(st) == 3 and bool(st.loc[2, "approximate"]) and not st.loc[3, "approximate"]
    assert st.loc[2, "county"] == "金水区"
    assert sf.point_county(st.loc[2].geometry.x, st.loc[2].geometry.y)[0] == "金水区"


def test_near_duplicates_are_flagged_or_merged(tmp_path, real):
    t = sf.chinese_frame(real.head(4), real["gcj_lon"].head(4).to_numpy(),
                         real["gcj_lat"].head(4).to_numpy())
    dup = t.iloc[[1]].copy()
    dup["站点名称"] = dup["站点名称"] + "（新）"
    dup["经度"] = dup["经度"] + 0.0002  # about 18 m east
    t = pd_concat(t, dup)
    far = t.iloc[[2]].copy()
    far["经度"] = far["经度"] + 0.002  # about 180 m: not a duplicate
    t = pd_concat(t, far)
    t.to_csv(tmp_path / "d.csv", index=False)
    res = _run(tmp_path / "d.csv", crs="gcj02")
    rep = res.report.frame()
    near = rep[rep["code"] == "duplicate_near"]
    assert sorted(near["row"]) == [3, 6]
    assert len(res.stations) == 6
    merged = _run(tmp_path / "d.csv", crs="gcj02", merge_duplicates=True)
    assert len(merged.stations) == 5 and 6 not in set(merged.stations["_row"])


def pd_concat(a, b):
    import pandas as pd

    return pd.concat([a, b], ignore_index=True)


def test_stable_ids_survive_reordering_and_small_moves(tmp_path, real):
    first = _run(sf.csv_bd09_gbk(real, tmp_path / "a.csv"), crs="bd09", source="zz")
    moved = real.sample(frac=1.0, random_state=3).reset_index(drop=True)
    moved["gcj_lon"] = moved["gcj_lon"] + 0.00005
    second = _run(sf.csv_bd09_gbk(moved, tmp_path / "b.csv"), crs="bd09", source="zz")
    a = first.stations.set_index("name")["id"]
    b = second.stations.set_index("name")["id"]
    assert a.is_unique and (a.loc[b.index] == b).all()
    other = _run(sf.csv_bd09_gbk(real, tmp_path / "c.csv"), crs="bd09", source="kaifeng")
    assert not set(other.stations["id"]) & set(a)


def test_mapping_file_names_other_headers_and_words(tmp_path, real):
    t = real.head(5)[["name", "gcj_lon", "gcj_lat"]].rename(
        columns={"name": "驿站全称", "gcj_lon": "东经度数", "gcj_lat": "北纬度数"})
    t["配备"] = "热饭神器、饮水"
    t.to_csv(tmp_path / "m.csv", index=False)
    (tmp_path / "map.toml").write_text(
        '[columns]\n"驿站全称" = "name"\n"东经度数" = "lon"\n"北纬度数" = "lat"\n'
        '"配备" = "amenities"\n[amenities]\n"热饭神器" = "microwave"\n', encoding="utf-8")
    res = _run(tmp_path / "m.csv", crs="gcj02", mapping=tmp_path / "map.toml",
               kind="rest_station")
    assert len(res.stations) == 5
    assert set(res.stations["amenities"]) == {"microwave;drinking_water"}
    assert np.all(res.stations["kind"] == "rest_station")
    # The mapping also finds the header of a sheet below its title row.
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["名录"])
    wb.active.append(list(t.columns))
    for row in t.itertuples(index=False):
        wb.active.append(list(row))
    wb.save(tmp_path / "m.xlsx")
    res = _run(tmp_path / "m.xlsx", crs="gcj02", mapping=tmp_path / "map.toml",
               kind="rest_station")
    assert len(res.stations) == 5 and list(res.stations["_row"]) == [3, 4, 5, 6, 7]


def _gdf(real, crs):
    import geopandas as gpd

    g = gpd.GeoDataFrame({"name": real["name"], "address": real["address"],
                          "district": real["district"], "hours": real["hours"]},
                         geometry=gpd.points_from_xy(real["lon"], real["lat"]), crs="EPSG:4326")
    return g.to_crs(crs)


def test_zipped_shapefile_in_a_projected_crs(tmp_path, real):
    import zipfile

    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    # CGCS2000 / Gauss-Kruger CM 114E, as provincial surveying offices deliver.
    _gdf(real, "EPSG:4547").to_file(shp_dir / "stations.shp", encoding="utf-8")
    with zipfile.ZipFile(tmp_path / "stations.zip", "w") as z:
        for p in shp_dir.iterdir():
            z.write(p, p.name)
    res = _run(tmp_path / "stations.zip", kind="rest_station")
    assert res.fmt == "vector" and res.crs == "EPSG:4547"
    _check_all_82(res, real, first_data_row=1)


def test_geopackage_and_geojson(tmp_path, real):
    _gdf(real, "EPSG:4326").to_file(tmp_path / "s.gpkg", layer="驿站", driver="GPKG")
    _check_all_82(_run(tmp_path / "s.gpkg", kind="rest_station"), real, first_data_row=1)
    _gdf(real, "EPSG:4326").to_file(tmp_path / "s.geojson", driver="GeoJSON")
    _check_all_82(_run(tmp_path / "s.geojson"), real, first_data_row=1)


def test_bad_crs_is_a_parameter_error(tmp_path, real):
    from locator.errors import LocatorError

    path = sf.csv_bd09_gbk(real, tmp_path / "bd.csv")
    with pytest.raises(LocatorError) as err:
        _run(path, crs="mars")
    assert err.value.field == "crs" and err.value.status == 400
    with pytest.raises(LocatorError) as err:
        _run(path, crs="bd09", kind="shop")
    assert err.value.field == "kind" and err.value.status == 400


def test_csv_with_a_title_line_blank_rows_and_empty_columns(tmp_path, real):
    t = sf.chinese_frame(real.head(4), real["gcj_lon"].head(4).to_numpy(),
                         real["gcj_lat"].head(4).to_numpy())
    body = t.to_csv(index=False).splitlines()
    lines = ["郑州市驿站名录（高德坐标）,,,", body[0] + ",", body[1] + ",", ",,,,,", body[2] + ",",
             body[3] + ",", body[4] + ","]
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n", encoding="gbk")
    res = _run(tmp_path / "t.csv", crs="gcj02")
    assert len(res.stations) == 4
    assert list(res.stations["_row"]) == [3, 5, 6, 7]  # as the spreadsheet numbers them
    assert "column_ignored" not in set(res.report.frame()["code"])


def test_json_mapping_and_bad_mappings(tmp_path, real):
    from locator.errors import LocatorError

    t = real.head(3)[["name", "gcj_lon", "gcj_lat"]].rename(
        columns={"name": "全称", "gcj_lon": "X坐标值", "gcj_lat": "Y坐标值"})
    t.to_csv(tmp_path / "j.csv", index=False)
    (tmp_path / "map.json").write_text(
        '{"全称": "name", "X坐标值": "lon_gcj02", "Y坐标值": "lat_gcj02"}', encoding="utf-8")
    res = _run(tmp_path / "j.csv", mapping=tmp_path / "map.json")  # datum from the mapping
    assert len(res.stations) == 3 and res.crs == "gcj02"
    (tmp_path / "bad.json").write_text('{"全称": "title"}', encoding="utf-8")
    with pytest.raises(LocatorError, match="unknown field"):
        _run(tmp_path / "j.csv", mapping=tmp_path / "bad.json")
    (tmp_path / "broken.toml").write_text("[columns\n", encoding="utf-8")
    with pytest.raises(LocatorError) as err:
        _run(tmp_path / "j.csv", mapping=tmp_path / "broken.toml")
    assert err.value.field == "mapping"
