"""English names of Henan's areas: every county and city of the shipped boundaries,
checked against the romanisations in official use, and on the English planner."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest

from locator import config, create_app
from locator.geo import names_en, regions

# Official English forms (government and postal usage), written out by hand: the
# polyphonic characters are the ones a plain pinyin lookup reads wrongly.
OFFICIAL = {"金水区": "Jinshui District", "管城回族区": "Guancheng Hui District",
            "中牟县": "Zhongmu County", "巩义市": "Gongyi City", "浚县": "Xun County",
            "长垣市": "Changyuan City", "长葛市": "Changge City", "殷都区": "Yindu District",
            "魏都区": "Weidu District", "召陵区": "Shaoling District", "南乐县": "Nanle County",
            "新安县": "Xin'an County", "博爱县": "Bo'ai County", "龙安区": "Long'an District",
            "渑池县": "Mianchi County", "荥阳市": "Xingyang City", "叶县": "Ye County"}
CITIES = {"郑州市": "Zhengzhou", "漯河市": "Luohe", "平顶山市": "Pingdingshan",
          "三门峡市": "Sanmenxia", "驻马店市": "Zhumadian"}


def test_official_forms():
    for zh, en in OFFICIAL.items():
        assert names_en.english(zh) == en, zh
    for zh, en in CITIES.items():
        assert names_en.english(zh, city=True) == en, zh


def test_every_area_of_the_boundaries_has_a_readable_english_name():
    cfg = config.load()
    counties = regions.counties(str(cfg["BOUNDARIES_DIR"]))
    en = counties["county"].map(names_en.english)
    assert en.str.fullmatch(r"[A-Z][a-z']+( Hui)? (District|County|City)").all(), \
        en[~en.str.fullmatch(r"[A-Z][a-z']+( Hui)? (District|County|City)")].tolist()
    # Two counties sharing an English name must share the Chinese one's sound too:
    # only 淇县 and 杞县 (both Qi) do.
    dup = counties[en.duplicated(keep=False)]
    assert set(dup["county"]) <= {"淇县", "杞县"}
    cities = counties["city"].drop_duplicates().map(lambda n: names_en.english(n, city=True))
    assert cities.str.fullmatch(r"[A-Z][a-z']+").all()


@pytest.mark.slow
def test_the_english_planner_and_its_downloads_name_areas_in_english():
    app = create_app({"TILES": "osm", "GRID_CELL_M": 5000.0, "SUGGEST_TIME_LIMIT": 3.0})
    client = app.test_client()
    q = "region=410100&n=3"
    for _ in range(120):
        page = client.get(f"/planner?{q}&lang=en")
        html = page.get_data(as_text=True)
        if "data-poll=" not in html and "data-refine=" not in html:
            break
    assert "Jinshui District" in html and "Zhengzhou" in html
    table = html[html.index("<table"):]
    assert "金水区" not in table[: table.index("</table>")]
    csv = client.get(f"/planner/download/counties.csv?{q}&lang=en")
    df = pd.read_csv(io.BytesIO(csv.data), encoding="utf-8-sig")
    county_col = next(c for c in df.columns if c == "County")
    assert set(df[county_col]) == {names_en.english(n) for n in regions.counties(
        str(app.config["BOUNDARIES_DIR"])).query("city_adcode == '410100'")["county"]}
    zh = pd.read_csv(io.BytesIO(client.get(f"/planner/download/counties.csv?{q}").data),
                     encoding="utf-8-sig")
    assert "金水区" in set(zh.iloc[:, 1]) or any(re.search("金水区", str(v)) for v in
                                               zh.to_numpy().ravel())
