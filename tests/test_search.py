"""GET /api/v1/search over HTTP on the demo data and the real boundaries."""

from __future__ import annotations

import geopandas as gpd
import pytest

from tests.conftest import DEMO, ROOT

COUNTIES = gpd.read_file(ROOT / "data" / "boundaries" / "henan_county.geojson")


def _get(client, **q):
    return client.get("/api/v1/search", query_string=q)


@pytest.mark.parametrize("q", ["", "   "])
def test_blank_query_is_a_400_in_the_standard_shape(client, q):
    r = _get(client, q=q)
    assert r.status_code == 400
    assert set(r.json) == {"status", "code", "message", "field"}
    assert r.json["field"] == "q"


def test_over_long_query_is_a_400(client):
    r = _get(client, q="郑" * 65)
    assert r.status_code == 400 and r.json["field"] == "q"


@pytest.mark.slow
def test_every_county_is_found_first_by_its_full_name(client):
    for name in COUNTIES["district_name"].tolist()[:40]:
        top = _get(client, q=name).json["results"][0]
        assert top["label"] == name and top["type"] == "county", name


def test_traditional_and_full_width_fold_to_the_same_answer(client):
    simp = _get(client, q="郑州").json["results"][0]
    for variant in ("鄭州", "郑州 ", "鄭州"):
        assert _get(client, q=variant).json["results"][0]["label"] == simp["label"] == "郑州市"
    assert _get(client, q="ＫＦ").json["results"][0]["label"] == "开封市"


def test_pinyin_initials_find_the_city(client):
    assert _get(client, q="zz").json["results"][0]["label"] == "郑州市"
    assert _get(client, q="ly").json["results"][0]["label"] in ("洛阳市", "洛阳县")


def test_one_typo_still_finds_the_county(client):
    labels = [h["label"] for h in _get(client, q="管成回族区").json["results"]]
    assert labels[0] == "管城回族区"


def test_station_name_substring_matches_a_brute_force_scan(client):
    ds = gpd.read_file(DEMO)
    live = ds[ds["status"] != "closed"]
    name = live["name"].iloc[123]
    q = name[3:9]
    expect = set(live.loc[live["name"].str.contains(q, regex=False), "id"])
    got = _get(client, q=q, limit=50).json["results"]
    ids = {h["ref"] for h in got if h["type"] == "station"}
    assert ids and ids <= expect | set(live.loc[live["address"].str.contains(q, regex=False), "id"])
    assert len(ids) == min(50, len(expect)) or len(expect) > 50


def test_permanently_closed_stations_never_appear(client):
    ds = gpd.read_file(DEMO)
    closed = ds[ds["status"] == "closed"]
    if closed.empty:
        pytest.skip("the demo data has no permanently closed station")
    name = closed["name"].iloc[0]
    refs = {h["ref"] for h in _get(client, q=name, limit=50).json["results"]}
    assert not refs & set(closed["id"])
