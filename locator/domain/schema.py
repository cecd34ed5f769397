"""Station kinds, the amenity vocabulary and record validation.

All three kinds share one schema. Amenities are a controlled vocabulary; in
memory a station's amenities are also held as a bit mask so that "must have
water and a toilet" is one vectorised ``&`` over candidate stations.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from locator.domain import hours
from locator.errors import LocatorError, invalid


@dataclass(frozen=True)
class Term:
    code: str
    zh: str
    en: str
    group: str = "shared"


KINDS: tuple[Term, ...] = (
    Term("rest_station", "户外劳动者爱心驿站", "Outdoor workers' rest station"),
    Term("driver_home", "司机之家", "Driver home"),
    Term("reading_room", "职工书屋", "Workers' reading room"),
)
KIND_CODES = tuple(k.code for k in KINDS)
KIND_INDEX = {code: i for i, code in enumerate(KIND_CODES)}

AMENITIES: tuple[Term, ...] = (
    Term("drinking_water", "饮用水", "Drinking water"),
    Term("hot_water", "热水", "Hot water"),
    Term("microwave", "微波炉", "Microwave"),
    Term("toilet", "卫生间", "Toilet"),
    Term("seating", "休息座椅", "Seating / rest"),
    Term("phone_charging", "手机充电", "Phone charging"),
    Term("first_aid", "急救药箱", "First-aid kit"),
    Term("air_conditioning", "空调/取暖", "Air conditioning / heating"),
    Term("wifi", "无线网络", "Wi-Fi"),
    Term("lockers", "储物柜", "Lockers"),
    Term("umbrella", "爱心雨伞", "Umbrella"),
    Term("repair_kit", "维修工具", "Repair kit"),
    Term("truck_parking", "货车停车", "Truck parking", "driver_home"),
    Term("shower", "淋浴", "Shower", "driver_home"),
    Term("laundry", "洗衣", "Laundry", "driver_home"),
    Term("meals", "餐食", "Meals", "driver_home"),
    Term("lodging", "住宿", "Lodging", "driver_home"),
    Term("book_lending", "图书借阅", "Book lending", "reading_room"),
    Term("reading_seats", "阅读座位", "Reading seats", "reading_room"),
)
AMENITY_CODES = tuple(a.code for a in AMENITIES)
AMENITY_BIT = {code: 1 << i for i, code in enumerate(AMENITY_CODES)}

STATUSES: tuple[Term, ...] = (
    Term("open", "正常开放", "Open"),
    Term("temporarily_closed", "暂停开放", "Temporarily closed"),
    Term("closed", "已关闭", "Closed"),
)
STATUS_CODES = tuple(s.code for s in STATUSES)

ACCESS: tuple[Term, ...] = (
    Term("public", "对外开放", "Open to the public"),
    Term("members", "仅限会员", "Union members only"),
)
ACCESS_CODES = tuple(a.code for a in ACCESS)

FIELDS: tuple[str, ...] = (
    "id", "kind", "name", "address", "county_adcode", "county", "city", "opening_hours",
    "amenities", "phone", "operator", "access", "status", "verified_at", "source", "demo",
    "approximate", "reopens_on", "closed_reason",
)
MAX_TEXT = 500
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
_PHONE_RE = re.compile(r"^[0-9+()\- ,/转]{3,40}$")
#: A phone number as an edit stores it (trimmed): 3-40 of the characters above, or empty.
PHONE_PATTERN = r"^([0-9+()\-,/转][0-9+()\- ,/转]{1,38}[0-9+()\-,/转])?$"
#: Text with at least one character to read (not only spaces or control characters).
SOME_TEXT_PATTERN = r"[^\s\x00-\x1f\x7f-\x9f]"
DEMO_LABEL = {"zh": "演示数据", "en": "Demo data (synthetic)"}


def label(terms: Iterable[Term], code: str, lang: str = "zh") -> str:
    for t in terms:
        if t.code == code:
            return t.zh if lang == "zh" else t.en
    return code


def vocabulary(lang: str | None = None) -> dict[str, list[dict[str, str]]]:
    """The controlled vocabularies, for documentation and the UI."""
    def rows(terms: Sequence[Term]) -> list[dict[str, str]]:
        return [{"code": t.code, "zh": t.zh, "en": t.en, "group": t.group} for t in terms]

    return {"kinds": rows(KINDS), "amenities": rows(AMENITIES),
            "statuses": rows(STATUSES), "access": rows(ACCESS)}


def split_amenities(value: Any) -> list[str]:
    """Amenities as stored (``"a;b"``), as a list, or missing -> list of codes."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        return [p for p in (s.strip() for s in value.split(";")) if p]
    return [str(v) for v in value]


def parse_amenities(values: Iterable[str], *, field: str = "amenity") -> int:
    """Codes -> bit mask, raising a 400 naming ``field`` on an unknown code."""
    mask = 0
    for code in values:
        bit = AMENITY_BIT.get(code)
        if bit is None:
            msg = f"unknown amenity {code!r}; expected one of: {', '.join(AMENITY_CODES)}"
            raise invalid(field, msg)
        mask |= bit
    return mask


def amenity_masks(column: Iterable[Any]) -> np.ndarray:
    """Vector of bit masks for a column of stored amenity strings."""
    values = pd.Series(list(column) if not isinstance(column, pd.Series) else column,
                       dtype=object)
    try:
        codes, found = pd.factorize(values, use_na_sentinel=False)
        uniques: Iterable[Any] = found
    except TypeError:  # lists in an in-memory frame: no distinct-value shortcut
        codes, uniques = np.arange(len(values)), values.tolist()
    # Computed per distinct amenity string: a column has a few dozen of them.
    masks = np.array([sum(AMENITY_BIT.get(c, 0) for c in set(split_amenities(v)))
                      for v in uniques], dtype=np.int64)
    return masks[codes] if len(values) else np.zeros(0, dtype=np.int64)


def validate_record(rec: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Check one station record; return ``(field, reason)`` for every problem.

    Coordinates are checked by the caller, which knows the region.
    """
    problems: list[tuple[str, str]] = []

    def text(name: str, *, required: bool) -> None:
        v = rec.get(name)
        if v is None or (isinstance(v, float) and np.isnan(v)) or v == "":
            if required:
                problems.append((name, "is required"))
            return
        if not isinstance(v, str):
            problems.append((name, f"must be text, got {type(v).__name__}"))
        elif len(v) > MAX_TEXT:
            problems.append((name, f"is {len(v)} characters long; the limit is {MAX_TEXT}"))
        elif any(ord(ch) < 32 and ch not in "\t" for ch in v):
            problems.append((name, "contains control characters"))

    sid = rec.get("id")
    if not isinstance(sid, str) or not _ID_RE.match(sid):
        problems.append(("id", "must be 1-64 characters of letters, digits, '_', '.', ':' or '-'"))
    if rec.get("kind") not in KIND_CODES:
        problems.append(("kind", f"must be one of {', '.join(KIND_CODES)}"))
    for name in ("name", "address"):
        text(name, required=name == "name")
    for name in ("county", "city", "operator", "source"):
        text(name, required=False)
    adcode = rec.get("county_adcode")
    if adcode is not None and not re.fullmatch(r"\d{6}", str(adcode)):
        problems.append(("county_adcode", "must be a 6-digit administrative code"))
    oh = rec.get("opening_hours")
    if isinstance(oh, str) and oh:
        reason = hours.validate(oh)
        if reason:
            problems.append(("opening_hours", reason))
    bad = [c for c in split_amenities(rec.get("amenities")) if c not in AMENITY_BIT]
    if bad:
        problems.append(("amenities", f"unknown amenity codes: {', '.join(bad)}"))
    phone = rec.get("phone")
    if isinstance(phone, str) and phone and not _PHONE_RE.match(phone):
        problems.append(("phone", "must be digits, spaces, '+', '-', '(', ')' or '转'"))
    if rec.get("access", "public") not in ACCESS_CODES:
        problems.append(("access", f"must be one of {', '.join(ACCESS_CODES)}"))
    if rec.get("status", "open") not in STATUS_CODES:
        problems.append(("status", f"must be one of {', '.join(STATUS_CODES)}"))
    text("closed_reason", required=False)
    for name in ("reopens_on", "verified_at"):
        day = rec.get(name)
        if isinstance(day, str) and day:
            try:
                date.fromisoformat(day)
            except ValueError:
                problems.append((name, "must be an ISO date, YYYY-MM-DD"))
    return problems


def check_record(rec: Mapping[str, Any]) -> None:
    """Raise a 400 for the first problem :func:`validate_record` finds."""
    problems = validate_record(rec)
    if problems:
        field, reason = problems[0]
        raise LocatorError(400, "invalid_record", f"{field} {reason}", field)
