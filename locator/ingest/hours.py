"""Chinese opening-hours text -> OpenStreetMap ``opening_hours``.

Understood forms include ``24小时`` / ``全天``, ``8:00-20:00``, ``早8点至晚8点``,
``周一至周五 9:00-17:00``, ``工作日 8:30-17:30，节假日休息``, several time ranges
(``8:00-12:00，14:00-18:00``) and several day groups. A text is converted only
when every part of it was understood; otherwise :func:`to_osm` returns None and
the caller keeps the text as it is, which the app shows as unknown hours. Text
that is already OSM syntax passes through unchanged.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import pandas as pd

from locator.domain import hours

_DAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_OSM_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_ALWAYS = re.compile(r"^(?:24小时|24h|全天|全天候|全天24小时|24小时全天|0?0:00-24:00|"
                     r"每天24小时|全年无休24小时|24小时全年无休)$")
_TIME = (r"(?:(早上|早晨|早|上午|中午|下午|晚上|晚|夜间|夜里)\s*)?(\d{1,2})"
         r"(?:\s*:\s*(\d{2})|\s*[点时]\s*(?:(半)|(\d{1,2})\s*分?)?)")
_RANGE = re.compile(_TIME + r"\s*-\s*" + _TIME)
_WD = r"(?:周|星期|礼拜)"
_DAYS = re.compile(rf"{_WD}([一二三四五六日天七])(?:\s*-\s*{_WD}?([一二三四五六日天七]))?"
                   r"|(工作日)|(双休日|周末|周六日|周六、周日|周六和周日)|(每天|每日|天天|全年|全周)")
_HOLIDAY_OFF = re.compile(r"(?:法定)?(?:节假日|假日|节日)(?:除外|休息|不开放|闭馆|关闭|闭站|休)")
_WEEKEND_OFF = re.compile(r"(?:双休日|周末|周六日|周六、周日)(?:除外|休息|不开放|闭馆|关闭|休)")
_FILLER = re.compile(r"开放|营业|服务|时间|时段|全年|无休|均|正常|对外|[\s,，;；、。.:：()（）]")
_OSM_TOKEN = re.compile(r"^(?:24/7|off|closed|PH|SH|(?:Mo|Tu|We|Th|Fr|Sa|Su)"
                        r"(?:-(?:Mo|Tu|We|Th|Fr|Sa|Su))?|\d{2}:\d{2}-\d{2}:\d{2})$")


def _clean(text: str) -> str:
    t = unicodedata.normalize("NFKC", text).strip()
    t = re.sub(r"[~〜—–－至到]|-{1,2}", "-", t)
    return re.sub(r"\s+", " ", t)


def _minutes(part: str | None, hour: str, mm: str | None, half: str | None,
             mins: str | None) -> int | None:
    h = int(hour)
    m = int(mm) if mm else 30 if half else int(mins) if mins else 0
    if part in ("下午", "晚上", "晚", "夜间", "夜里") and h < 12:
        h += 12
    if part == "中午" and h < 6:
        h += 12
    if h > 24 or m > 59 or (h == 24 and m):
        return None
    return h * 60 + m


def _hhmm(total: int) -> str:
    return f"{total // 60:02d}:{total % 60:02d}"


def _looks_osm(text: str) -> bool:
    parts = [p for p in re.split(r"[;,\s]+", text.strip()) if p]
    return bool(parts) and all(_OSM_TOKEN.match(p) for p in parts)


def to_osm(text: str | None) -> str | None:
    """OSM ``opening_hours`` for a Chinese hours text, or None when not understood."""
    if text is None or not str(text).strip():
        return None
    raw = str(text).strip()
    if raw.isascii() and _looks_osm(raw):
        return raw if hours.validate(raw) is None else None
    t = _clean(raw)
    holidays_off = bool(_HOLIDAY_OFF.search(t))
    weekend_off = bool(_WEEKEND_OFF.search(t))
    t = _WEEKEND_OFF.sub(" ", _HOLIDAY_OFF.sub(" ", t))
    core = re.sub(r"开放|营业|服务|[\s,，。;；]", "", t)
    if _ALWAYS.match(core):
        rules = ["24/7"]
    else:
        found = _rules(t)
        if found is None:
            return None
        rules = found
    if weekend_off:
        rules.append("Sa,Su off")
    if holidays_off:
        rules.append("PH off")
    out = "; ".join(rules)
    return out if hours.validate(out) is None else None


def _rules(t: str) -> list[str] | None:
    """Day groups each followed by time ranges; None if anything is left over."""
    tokens: list[tuple[int, int, str, str]] = []
    for m in _DAYS.finditer(t):
        tokens.append((m.start(), m.end(), "days", _days_text(m)))
    for m in _RANGE.finditer(t):
        a = _minutes(m.group(1), m.group(2), m.group(3), m.group(4), m.group(5))
        b = _minutes(m.group(6), m.group(7), m.group(8), m.group(9), m.group(10))
        if a is None or b is None or a == b:
            return None
        if m.group(6) is None and b < a and b < 12 * 60 and a < 12 * 60:
            b += 12 * 60  # "8点-6点" means until six in the evening
        tokens.append((m.start(), m.end(), "time", f"{_hhmm(a)}-{_hhmm(b)}"))
    tokens.sort()
    rest, pos = [], 0
    for start, end, _, _ in tokens:
        if start < pos:
            return None
        rest.append(t[pos:start])
        pos = end
    rest.append(t[pos:])
    if _FILLER.sub("", "".join(rest)):
        return None
    groups: list[tuple[str, list[str]]] = []
    for _, _, kind, value in tokens:
        if kind == "days":
            if groups and not groups[-1][1]:
                return None
            groups.append((value, []))
        else:
            if not groups:
                groups.append(("", []))
            groups[-1][1].append(value)
    if not groups or any(not times for _, times in groups):
        return None
    return [f"{days} {','.join(times)}".strip() for days, times in groups]


def _days_text(m: re.Match[str]) -> str:
    if m.group(3):
        return "Mo-Fr"
    if m.group(4):
        return "Sa,Su"
    if m.group(5):
        return ""
    a = _DAY[m.group(1)]
    b = _DAY[m.group(2)] if m.group(2) else a
    if (a, b) == (0, 6):
        return ""
    return _OSM_DAYS[a] if a == b else f"{_OSM_DAYS[a]}-{_OSM_DAYS[b]}"


def convert_unique(texts: Iterable[str | None]) -> dict[str, str | None]:
    """:func:`to_osm` once per distinct text."""
    uniq = pd.unique(pd.Series(list(texts), dtype=object).dropna())
    return {str(u): to_osm(str(u)) for u in uniq}
