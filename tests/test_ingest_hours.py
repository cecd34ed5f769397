"""Chinese opening hours -> OSM opening_hours, and DMS/number coordinate cells."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from locator.domain import hours
from locator.ingest import coords
from locator.ingest.hours import convert_unique, to_osm

CST = ZoneInfo("Asia/Shanghai")
CASES = {
    "24小时": "24/7",
    "全天": "24/7",
    "全天24小时开放": "24/7",
    "0:00-24:00": "24/7",
    "08:00-20:00": "08:00-20:00",
    "8:00—20:00": "08:00-20:00",
    "8:00至20:00": "08:00-20:00",
    "８：００－２０：００": "08:00-20:00",
    "早8点至晚8点": "08:00-20:00",
    "早上8点到晚上10点": "08:00-22:00",
    "上午8:30-下午5:30": "08:30-17:30",
    "8点半-17点": "08:30-17:00",
    "周一至周五 9:00-17:00": "Mo-Fr 09:00-17:00",
    "星期一到星期六 8:00-18:00": "Mo-Sa 08:00-18:00",
    "工作日 8:30-17:30": "Mo-Fr 08:30-17:30",
    "每天 7:30-22:30": "07:30-22:30",
    "周一至周日 8:00-20:00": "08:00-20:00",
    "8:00-12:00，14:00-18:00": "08:00-12:00,14:00-18:00",
    "周一至周五 09:00-17:00，节假日休息": "Mo-Fr 09:00-17:00; PH off",
    "8:00-20:00（法定节假日除外）": "08:00-20:00; PH off",
    "周一至周五8:00-18:00 周六9:00-12:00": "Mo-Fr 08:00-18:00; Sa 09:00-12:00",
    "8:00-18:00，周末休息": "08:00-18:00; Sa,Su off",
    "Mo-Fr 09:00-17:00; PH off": "Mo-Fr 09:00-17:00; PH off",
}
UNPARSED = ["工作日开放", "随时", "电话预约", "周一至周五", "早上开门", "9:61-10:00",
            "24/7 maybe"]


@pytest.mark.parametrize(("text", "osm"), CASES.items())
def test_common_chinese_forms(text, osm):
    assert to_osm(text) == osm
    assert hours.validate(osm) is None


@pytest.mark.parametrize("text", UNPARSED)
def test_anything_else_is_not_guessed(text):
    assert to_osm(text) is None
    # What the importer keeps for these is shown as unknown, never as open.
    assert hours.state(text, datetime(2026, 3, 4, 12, 0, tzinfo=CST)) == "unknown"


def test_conversion_runs_once_per_distinct_text():
    got = convert_unique(["24小时", "24小时", None, "工作日开放"])
    assert got == {"24小时": "24/7", "工作日开放": None}


def test_hours_that_mean_evening_are_evening():
    sched = to_osm("早8点至晚8点")
    assert hours.state(sched, datetime(2026, 3, 4, 19, 30, tzinfo=CST)) == "open"
    assert hours.state(sched, datetime(2026, 3, 4, 20, 30, tzinfo=CST)) == "closed"


@pytest.mark.parametrize(("text", "deg"), [
    ("113°39'27\"", 113 + 39 / 60 + 27 / 3600),
    ("113度39分27秒", 113 + 39 / 60 + 27 / 3600),
    ("N34°45'12.5\"", 34 + 45 / 60 + 12.5 / 3600),
    ("34°45′12.5″N", 34 + 45 / 60 + 12.5 / 3600),
    ("113°39.5'", 113 + 39.5 / 60),
    ("113.6575°", 113.6575),
])
def test_dms(text, deg):
    assert coords.parse_dms(text) == pytest.approx(deg, abs=1e-12)


def test_coordinate_columns_keep_numbers_and_mark_the_rest():
    cells = pd.Series(["113.5", "", "113°30'", "东边", " 34.1 "])
    values, missing, bad = coords.parse_column(cells)
    assert np.allclose(values[[0, 2, 4]], [113.5, 113.5, 34.1])
    assert list(missing) == [False, True, False, False, False]
    assert list(bad) == [False, False, False, True, False]
    assert coords.parse_dms("113°75'") is None  # 75 minutes is not a DMS value


def test_swapped_pairs_are_found_by_range():
    lon = np.array([113.6, 34.7, 113.6])
    lat = np.array([34.7, 113.6, 34.7])
    x, y, swapped = coords.fix_swapped(lon, lat, (110.35, 31.38, 116.65, 36.37))
    assert list(swapped) == [False, True, False]
    assert np.allclose(x, 113.6) and np.allclose(y, 34.7)
