"""Readable opening-hours labels."""

from __future__ import annotations

import pytest

from locator.domain import hours


@pytest.mark.parametrize(
    ("text", "zh", "en"),
    [
        ("24/7", "全天开放", "Open 24 hours"),
        ("Mo-Fr 08:30-17:30; PH off", "周一至周五 08:30-17:30；法定节假日休息",
         "Mon–Fri 08:30-17:30; public holidays closed"),
        ("Sa,Su 09:00-17:00", "周六、周日 09:00-17:00", "Sat, Sun 09:00-17:00"),
        ("Mo,We,Fr 08:00-12:00,14:00-18:00", "周一、周三、周五 08:00-12:00, 14:00-18:00",
         "Mon, Wed, Fri 08:00-12:00, 14:00-18:00"),
        (None, "营业时间未知", "Hours unknown"),
        ("早8点至晚8点", "早8点至晚8点", "早8点至晚8点"),
    ],
)
def test_describe(text, zh, en):
    assert hours.describe(text, lang="zh") == zh
    assert hours.describe(text, lang="en") == en


def test_api_carries_label_in_requested_language(small_client):
    fc = small_client.get("/api/v1/nearest?lat=34.7536&lon=113.6645&k=10&kind=reading_room"
                          "&lang=en").get_json()
    assert fc["features"][0]["properties"]["opening_hours_text"] == \
        "Mon–Fri 09:00-17:00; public holidays closed"
    r = small_client.get("/api/v1/nearest?lat=34.7536&lon=113.6645&lang=fr")
    assert r.status_code == 400 and r.get_json()["field"] == "lang"
