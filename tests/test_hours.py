"""opening_hours parsing and evaluation in China Standard Time."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import chinese_calendar
import numpy as np
import pytest

from locator.domain import hours

CST = timezone(timedelta(hours=8))


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """An instant given as Henan wall-clock time."""
    return datetime(y, mo, d, h, mi, tzinfo=CST)


def detail(day: date) -> tuple[bool, str | None]:
    return chinese_calendar.get_holiday_detail(day)


@pytest.fixture(scope="module", autouse=True)
def ordinary_week():
    # The week of 2025-03-10 (Mon) .. 2025-03-16 (Sun) has no holidays or make-up
    # days; most tests below rely on that, so check it rather than assume it.
    for k in range(7):
        day = date(2025, 3, 10) + timedelta(days=k)
        assert detail(day) == (k >= 5, None)


# --- parsing ------------------------------------------------------------------------------

def test_parse_returns_schedules_and_caches():
    sched = hours.parse("Mo-Fr 08:00-18:00; PH off")
    assert sched is not None and len(sched.rules) == 2
    assert hours.parse("Mo-Fr 08:00-18:00; PH off") is sched
    assert hours.parse(None) is None
    assert hours.parse("") is None
    assert hours.parse("by appointment") is None
    assert hours.parse("24/7").always_open
    assert hours.parse("Mo-Su 00:00-24:00").always_open
    assert not hours.parse("Mo-Sa 00:00-24:00").always_open


def test_day_selectors():
    rule = hours.parse("Sa-Mo 10:00-12:00").rules[0]
    assert rule.weekdays == {5, 6, 0}
    assert hours.parse("Mo,We,Fr 10:00-12:00").rules[0].weekdays == {0, 2, 4}
    rule = hours.parse("Mo-Fr,PH 10:00-12:00").rules[0]
    assert rule.weekdays == {0, 1, 2, 3, 4} and rule.holidays
    every = hours.parse("08:00-20:00").rules[0]
    assert not every.weekdays and not every.holidays
    assert hours.parse("mo-fr 08:00-18:00") is not None  # case is forgiven


# --- evaluation at chosen instants ---------------------------------------------------------

@pytest.mark.parametrize(("text", "when", "expected"), [
    ("24/7", at(2025, 3, 12, 3, 0), "open"),
    ("Mo-Fr 08:00-18:00", at(2025, 3, 12, 7, 59), "closed"),
    ("Mo-Fr 08:00-18:00", at(2025, 3, 12, 8, 0), "open"),
    ("Mo-Fr 08:00-18:00", at(2025, 3, 12, 18, 0), "closed"),
    ("Mo-Fr 08:00-18:00", at(2025, 3, 15, 10, 0), "closed"),
    ("08:00-20:00", at(2025, 3, 16, 12, 0), "open"),
    ("Mo-Fr 08:00-12:00,14:00-18:00", at(2025, 3, 12, 13, 0), "closed"),
    ("Mo-Fr 08:00-12:00, 14:00-18:00", at(2025, 3, 12, 15, 0), "open"),
    ("Mo,We,Fr 10:00-12:00", at(2025, 3, 11, 11, 0), "closed"),
    ("Mo,We,Fr 10:00-12:00", at(2025, 3, 14, 11, 0), "open"),
    ("Sa-Mo 10:00-12:00", at(2025, 3, 16, 11, 0), "open"),
    ("Sa-Mo 10:00-12:00", at(2025, 3, 10, 11, 0), "open"),
    ("Sa-Mo 10:00-12:00", at(2025, 3, 11, 11, 0), "closed"),
    # Across midnight, written both ways.
    ("22:00-06:00", at(2025, 3, 12, 23, 0), "open"),
    ("22:00-06:00", at(2025, 3, 13, 5, 59), "open"),
    ("22:00-06:00", at(2025, 3, 13, 6, 0), "closed"),
    ("22:00-06:00", at(2025, 3, 13, 12, 0), "closed"),
    ("Mo-Fr 18:00-26:00", at(2025, 3, 15, 1, 30), "open"),   # Friday's evening, Saturday 01:30
    ("Mo-Fr 18:00-26:00", at(2025, 3, 16, 1, 30), "closed"),  # nothing started on Saturday
    ("Mo-Fr 18:00-26:00", at(2025, 3, 15, 2, 0), "closed"),
    ("Fr 20:00-02:00; Sa off", at(2025, 3, 15, 1, 0), "open"),  # spill-over stays with Friday
    ("Fr 20:00-02:00; Sa off", at(2025, 3, 15, 20, 30), "closed"),
    ("Mo-Fr 08:00-24:00", at(2025, 3, 12, 23, 59), "open"),
    ("Mo-Fr 08:00-24:00", at(2025, 3, 15, 0, 0), "closed"),
    # Later rules replace earlier ones for the days they select.
    ("Mo-Su 08:00-20:00; Su off", at(2025, 3, 16, 10, 0), "closed"),
    ("Mo-Su 08:00-20:00; Su off", at(2025, 3, 15, 10, 0), "open"),
    ("Mo-Fr 08:00-18:00; We 10:00-12:00", at(2025, 3, 12, 9, 0), "closed"),
    ("Mo-Fr 08:00-18:00; We 10:00-12:00", at(2025, 3, 12, 11, 0), "open"),
    ("Mo-Fr 08:00-18:00; Mo-Fr 12:00-13:00 off", at(2025, 3, 12, 10, 0), "closed"),
    # Comma-joined additional rules add to the day or cut pieces out.
    ("Mo-Fr 08:00-12:00, Sa 09:00-11:00", at(2025, 3, 15, 10, 0), "open"),
    ("Mo-Fr 08:00-18:00, We 12:00-13:00 off", at(2025, 3, 12, 12, 30), "closed"),
    ("Mo-Fr 08:00-18:00, We 12:00-13:00 off", at(2025, 3, 12, 13, 0), "open"),
    # Whole-day rules and modifiers.
    ("Mo-Fr", at(2025, 3, 12, 3, 0), "open"),
    ("Mo-Fr 08:00-18:00 unknown", at(2025, 3, 12, 9, 0), "unknown"),
    ("Mo-Fr 08:00-18:00 unknown", at(2025, 3, 12, 19, 0), "closed"),
    ("Mo-Su closed", at(2025, 3, 12, 9, 0), "closed"),
])
def test_state_at_instants(text, when, expected):
    assert hours.state(text, when) == expected
    assert hours.is_open(text, when) is {"open": True, "closed": False}.get(expected)


# --- Chinese public holidays and make-up workdays --------------------------------------------

def test_ph_off_on_national_day():
    day = date(2025, 10, 1)
    assert detail(day) == (True, "National Day")
    assert hours.public_holiday(day) is True
    text = "Mo-Fr 08:00-18:00; PH off"
    assert hours.state(text, at(2025, 10, 1, 10)) == "closed"
    assert hours.state(text, at(2025, 9, 30, 10)) == "open"  # the Tuesday before is a workday
    assert hours.state("PH 09:00-12:00", at(2025, 10, 1, 10)) == "open"
    assert hours.state("PH 09:00-12:00", at(2025, 9, 30, 10)) == "closed"


def test_ph_off_on_spring_festival_2026():
    day = date(2026, 2, 17)
    try:
        known = detail(day)
    except NotImplementedError:
        pytest.skip("installed chinese_calendar has no 2026 data")
    assert known == (True, "Spring Festival")
    assert day.weekday() == 1
    assert hours.state("Mo-Fr 08:00-18:00; PH off", at(2026, 2, 17, 10)) == "closed"
    assert hours.state("Mo-Fr 08:00-18:00", at(2026, 2, 17, 10)) == "open"


def test_ordinary_weekend_is_not_ph():
    assert hours.public_holiday(date(2025, 3, 15)) is False
    assert hours.state("PH off; Sa 09:00-12:00", at(2025, 3, 15, 10)) == "open"


def test_make_up_workday_counts_as_monday():
    day = date(2025, 9, 28)
    assert day.weekday() == 6
    assert chinese_calendar.is_workday(day), "2025-09-28 should be a make-up workday"
    assert hours.selector_weekday(day) == 0
    assert hours.public_holiday(day) is False
    when = at(2025, 9, 28, 10)
    assert hours.state("Mo-Fr 08:00-18:00; Sa,Su off", when) == "open"
    assert hours.state("Mo-Fr 08:00-18:00; PH off", when) == "open"
    assert hours.state("Sa,Su 09:00-17:00", when) == "closed"
    assert hours.state("Mo-Fr 08:00-18:00; Sa,Su 09:00-12:00", at(2025, 9, 28, 17)) == "open"


def test_dates_outside_calendar_range_do_not_crash():
    year = 2099
    with pytest.raises(NotImplementedError):
        detail(date(year, 1, 1))
    assert hours.public_holiday(date(year, 1, 1)) is None
    # 2099-01-01 is a Thursday: weekday rules still work, PH rules never match.
    assert hours.state("Mo-Fr 08:00-18:00; PH off", at(year, 1, 1, 10)) == "open"
    assert hours.state("PH 09:00-12:00", at(year, 1, 1, 10)) == "closed"
    assert hours.selector_weekday(date(year, 1, 3)) == 5


# --- time zones ------------------------------------------------------------------------------

def test_naive_is_utc_and_aware_is_converted():
    text = "Mo-Fr 08:00-18:00"
    assert hours.state(text, datetime(2025, 3, 12, 1, 0)) == "open"  # 09:00 in Henan
    assert hours.state(text, datetime(2025, 3, 12, 11, 0)) == "closed"  # 19:00 in Henan
    ny = datetime(2025, 3, 11, 21, 30, tzinfo=ZoneInfo("America/New_York"))  # 09:30 CST next day
    assert hours.state(text, ny) == "open"
    assert hours.state(text, datetime(2025, 3, 12, 1, 30, tzinfo=UTC)) == "open"


def evaluations() -> list[str]:
    texts = ["Mo-Fr 08:00-18:00; PH off", "22:00-06:00", "Sa,Su 09:00-17:00", "24/7"]
    instants = [datetime(2025, 3, 12, 1, 0), datetime(2025, 3, 14, 15, 30),
                datetime(2025, 9, 30, 16, 30), at(2025, 10, 1, 10), at(2025, 9, 28, 10)]
    return [hours.state(t, w) for t in texts for w in instants]


def test_server_timezone_does_not_matter(monkeypatch):
    results, midnight_hours = {}, {}
    try:
        for tz in ("America/New_York", "UTC", "Asia/Shanghai"):
            monkeypatch.setenv("TZ", tz)
            time.tzset()
            midnight_hours[tz] = time.localtime(0).tm_hour
            results[tz] = evaluations()
    finally:
        monkeypatch.undo()
        time.tzset()
    # The process time zone really changed between runs ...
    assert midnight_hours == {"America/New_York": 19, "UTC": 0, "Asia/Shanghai": 8}
    # ... and the answers did not.
    assert results["America/New_York"] == results["UTC"] == results["Asia/Shanghai"]
    assert results["UTC"][:5] == ["open", "closed", "closed", "closed", "open"]


def test_default_instant_is_now_in_shanghai():
    local = hours._to_local(None)
    assert local.utcoffset() == timedelta(hours=8)
    assert abs(local - datetime.now(UTC)) < timedelta(seconds=5)


# --- unknown values ---------------------------------------------------------------------------

UNPARSEABLE = ["24小时", "周一至周五 09:00-20:00", "工作日开放", "Mo-Fr 08:00-18:00 || PH off",
               "Jan-Mar 08:00-12:00", "Mo-Fr 08:00+", 'Mo-Fr 08:00-18:00 "call first"',
               "sunrise-sunset", "Mo-Fr 25:00-26:00", "", "   ", ";", "Mo-", "08:00"]


@pytest.mark.parametrize("text", UNPARSEABLE)
def test_unparseable_values_are_never_open(text):
    assert hours.parse(text) is None
    assert hours.validate(text)
    for k in range(0, 24 * 14, 5):
        when = at(2025, 9, 25) + timedelta(hours=k)
        assert hours.state(text, when) == "unknown"
        assert hours.is_open(text, when) is None


def test_missing_hours_are_unknown():
    assert hours.state(None, at(2025, 3, 12, 10)) == "unknown"
    assert hours.is_open(None) is None
    assert hours.validate(None) is None


# --- bulk evaluation ---------------------------------------------------------------------------

def test_bulk_helpers_evaluate_each_distinct_value_once(monkeypatch):
    texts = ["24/7", None, "Mo-Fr 08:00-18:00", "24/7", "bad value", None, "Mo-Fr 08:00-18:00"]
    when = at(2025, 3, 15, 10)  # Saturday
    calls: list[object] = []
    real = hours._state_local
    monkeypatch.setattr(hours, "_state_local", lambda t, w: calls.append(t) or real(t, w))
    states = hours.evaluate_unique(texts, when)
    assert states == {"24/7": "open", None: "unknown", "Mo-Fr 08:00-18:00": "closed",
                      "bad value": "unknown"}
    assert len(calls) == 4
    codes = hours.state_codes(texts, when)
    assert codes.dtype == np.int8 and codes.tolist() == [1, -1, 0, 1, -1, -1, 0]
    mask = hours.open_mask(texts, when)
    assert mask.dtype == np.bool_ and mask.tolist() == [True, False, False, True, False,
                                                        False, False]
    assert hours.open_mask([], when).shape == (0,)


# --- validation messages and labels -------------------------------------------------------------

@pytest.mark.parametrize(("text", "fragment"), [
    ("Mo-Fr 08:00-18:00 || PH off", "fallback rules ('||') are not supported"),
    ('Mo-Fr 08:00-18:00 "call"', "comments in quotes are not supported"),
    ("Jan 08:00-12:00", "unsupported 'Jan' at character 1"),
    ("24小时", "unexpected '24小时' at character 1"),
    ("Mo-Fr 25:00-26:00", "the start must be before 24:00"),
    ("Mo 08:60-09:00", "minutes must be 00-59"),
    ("Mo 08:00-08:00", "it is empty"),
    ("Mo 00:00-49:00", "the end must not be after 48:00"),
    ("Mo 20:00-45:00", "longer than 24 hours"),
    ("Mo-Fr 08:00", "time at character 7 is not part of an HH:MM-HH:MM span"),
    ("Mo- 08:00-09:00", "weekday range starting at character 1 needs an end day"),
    ("Mo-Fr 08:00-18:00; Sa 09:00-12:00 maybe", "unexpected 'maybe' at character 35"),
    ("", "value is empty"),
    (" ; ", "value has no rules"),
])
def test_validate_messages(text, fragment):
    message = hours.validate(text)
    assert message is not None and fragment in message
    assert message.isascii() or "24小时" in message


@pytest.mark.parametrize("text", ["24/7", "Mo-Fr 08:00-18:00; PH off", "Mo-Su 18:00-26:00",
                                  "Mo-Fr 08:00-12:00,14:00-18:00; Sa 09:00-12:00; Su,PH off",
                                  "Sa-Mo 10:00-16:00", "PH unknown", "Mo-Fr 8:00-18:00;"])
def test_validate_accepts_supported_values(text):
    assert hours.validate(text) is None


def test_describe():
    assert hours.describe("24/7") == "全天开放"
    assert hours.describe("24/7", lang="en") == "Open 24 hours"
    assert hours.describe("Mo-Su 00:00-24:00", lang="en") == "Open 24 hours"
    assert hours.describe(None) == "营业时间未知"
    assert hours.describe("  ", lang="en") == "Hours unknown"
    assert hours.describe(" Mo-Fr 08:00-18:00 ") == "周一至周五 08:00-18:00"
    with pytest.raises(ValueError, match="unsupported language"):
        hours.describe("24/7", lang="fr")
