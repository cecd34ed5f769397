"""Evaluate OpenStreetMap ``opening_hours`` values in China Standard Time.

A small tokenising parser understands a practical subset of the OSM syntax.
Values outside it are *unknown*: never reported as open, and
:func:`validate` says what is wrong with them.

Supported: ``24/7``; rules separated by ``;`` where, as in the OSM
specification, a later rule replaces what earlier ones said about the days
it selects (``Mo-Fr 08:00-18:00; PH off``; stray semicolons are ignored);
additional rules joined by ``,`` before a day selector, which add to the
day instead (``Mo-Fr 08:00-12:00, Sa 09:00-11:00``; an additional ``off``
rule cuts its spans out); weekdays ``Mo``..``Su``, ranges (``Mo-Fr``),
ranges wrapping over the weekend (``Sa-Mo``), lists (``Mo,We,Fr``) and
``PH``; rules without a day selector apply every day; time spans
``HH:MM-HH:MM``, comma separated, past midnight either way (``22:00-06:00``
or ``18:00-26:00``), ``24:00`` as an end; rules without spans cover the whole
day; modifiers ``open`` (default), ``off``/``closed`` and ``unknown``.

Not supported, hence unknown: ``||`` fallback rules (rejected rather than
read as ``;``, which would change their meaning), quoted comments, months,
dates, weeks, ``SH``, sunrise/sunset and open ends (``+``).

Interpretation:

* Instants are evaluated in ``Asia/Shanghai``; naive datetimes are UTC and
  the server's own time zone never matters.
* The part of a span past midnight belongs to the day the span starts on:
  ``Fr 20:00-02:00; Sa off`` is open at 01:00 on Saturday.
* ``PH`` means China's statutory holidays and the official days off around
  them, per the ``chinese_calendar`` package (plain weekends are not
  ``PH``). For years the package does not cover, holidays are unknown and
  ``PH`` rules simply do not match.
* A make-up workday (调休: a weekend day ``chinese_calendar`` marks as a
  working day) counts as a Monday for weekday selectors, so
  ``Mo-Fr 08:00-18:00`` applies on it and ``Sa,Su`` rules do not.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import chinese_calendar
import numpy as np

from locator.domain.hours_syntax import CLOSED, DAY, OPEN, UNKNOWN, Rule, parse_group
from locator.domain.hours_text import translate

__all__ = [
    "CLOSED", "OPEN", "STATE_CODES", "TIMEZONE", "UNKNOWN", "Rule", "Schedule", "describe",
    "evaluate_unique", "is_open", "open_mask", "parse", "public_holiday", "selector_weekday",
    "state", "state_codes", "validate",
]

TIMEZONE: Final = ZoneInfo("Asia/Shanghai")
STATE_CODES: Final = {OPEN: 1, CLOSED: 0, UNKNOWN: -1}
"""Integer codes used by :func:`state_codes` (fits in ``int8``)."""

_LABELS: Final = {
    "zh": {"always": "全天开放", "none": "营业时间未知"},
    "en": {"always": "Open 24 hours", "none": "Hours unknown"},
}



@dataclass(frozen=True, slots=True)
class Schedule:
    """A parsed ``opening_hours`` value; see :func:`parse`."""

    text: str
    rules: tuple[Rule, ...]

    @property
    def always_open(self) -> bool:
        """True for ``24/7`` and equivalents such as ``Mo-Su 00:00-24:00``."""
        if len(self.rules) != 1:
            return False
        rule = self.rules[0]
        every_day = not rule.holidays and len(rule.weekdays) in (0, 7)
        whole_day = rule.spans in ((), ((0, DAY),))
        return every_day and whole_day and rule.status == OPEN

    def state_at(self, when: datetime | None = None) -> str:
        """``"open"``, ``"closed"`` or ``"unknown"`` at ``when`` (default: now)."""
        local = _to_local(when)
        day = local.date()
        minute = (local.hour * 60 + local.minute + local.second / 60
                  + local.microsecond / 60e6)
        found = [s for a, b, s in _day_plan(self, day) if a <= minute < b]
        yesterday = day - timedelta(days=1)
        found += [s for a, b, s in _day_plan(self, yesterday) if a <= minute + DAY < b]
        if OPEN in found:
            return OPEN
        return UNKNOWN if UNKNOWN in found else CLOSED


# --- calendar ------------------------------------------------------------------------------

@functools.lru_cache(maxsize=4096)
def _day_context(day: date) -> tuple[int, bool | None]:
    weekday = day.weekday()
    try:
        off_work, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        # Outside the years the package knows: no holiday information at all.
        return weekday, None
    if weekday >= 5 and not off_work:
        weekday = 0
    return weekday, bool(off_work and name is not None)


def public_holiday(day: date) -> bool | None:
    """Whether ``day`` is a Chinese statutory holiday or official day off.

    Returns ``None`` when ``chinese_calendar`` has no data for the year.
    """
    return _day_context(day)[1]


def selector_weekday(day: date) -> int:
    """Weekday (Monday = 0) used to match day selectors on ``day``.

    Equal to ``day.weekday()`` except on make-up workdays, which count as
    Mondays.
    """
    return _day_context(day)[0]


@functools.lru_cache(maxsize=4096)
def _compile(text: str) -> Schedule | str:
    """Parse ``text``; an English error message stands in for failures."""
    if not text.strip():
        return "value is empty"
    if "||" in text:
        return "fallback rules ('||') are not supported"
    if '"' in text:
        return "comments in quotes are not supported"
    rules: list[Rule] = []
    offset = 0
    try:
        for piece in text.split(";"):
            if piece.strip():
                rules.extend(parse_group(piece, offset))
            offset += len(piece) + 1
    except ValueError as exc:
        return str(exc)
    if not rules:
        return "value has no rules"
    return Schedule(text=text.strip(), rules=tuple(rules))


def parse(text: str | None) -> Schedule | None:
    """Parse an ``opening_hours`` value (``None`` when none was recorded).

    Returns ``None`` for missing, blank or unparseable values. Parsing is
    cached, so a repeated string costs one dictionary lookup.
    """
    if not isinstance(text, str):
        return None
    result = _compile(text)
    return result if isinstance(result, Schedule) else None


def validate(text: str | None) -> str | None:
    """English message saying why ``text`` cannot be evaluated, else ``None``.

    ``None`` (no value) and parseable strings pass; blank strings do not.
    """
    if text is None:
        return None
    if not isinstance(text, str):
        return "opening hours must be a string"
    result = _compile(text)
    return None if isinstance(result, Schedule) else result


# --- evaluation ----------------------------------------------------------------------------

def _to_local(when: datetime | None) -> datetime:
    if when is None:
        when = datetime.now(UTC)
    elif when.tzinfo is None or when.utcoffset() is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(TIMEZONE)


def _cut(plan: list[tuple[int, int, str]], spans: Iterable[tuple[int, int]]
         ) -> list[tuple[int, int, str]]:
    """Remove ``spans`` from ``plan``, keeping the pieces before and after each."""
    for lo, hi in spans:
        plan = [piece for a, b, s in plan
                for piece in ((a, min(b, lo), s), (max(a, hi), b, s)) if piece[0] < piece[1]]
    return plan


@functools.lru_cache(maxsize=8192)
def _day_plan(schedule: Schedule, day: date) -> tuple[tuple[int, int, str], ...]:
    """Intervals ``(start, end, status)`` that rules starting on ``day`` produce."""
    weekday, holiday = _day_context(day)
    plan: list[tuple[int, int, str]] | None = None
    for rule in schedule.rules:
        if not rule.selects(weekday, holiday):
            continue
        spans = rule.spans or ((0, DAY),)
        if rule.additional and plan is not None:
            if rule.status == CLOSED:
                plan = _cut(plan, spans)
            else:
                plan = plan + [(a, b, rule.status) for a, b in spans]
        else:
            # A normal rule replaces the whole day, even "12:00-13:00 off".
            plan = [] if rule.status == CLOSED else [(a, b, rule.status) for a, b in spans]
    return tuple(plan or ())


def _state_local(text: object, local: datetime) -> str:
    schedule = parse(text) if isinstance(text, str) else None
    return UNKNOWN if schedule is None else schedule.state_at(local)


def state(text: str | None, when: datetime | None = None) -> str:
    """``"open"``, ``"closed"`` or ``"unknown"`` for ``text`` at ``when``.

    ``when`` defaults to now; naive datetimes are UTC. Missing or unparseable
    values are always ``"unknown"``.
    """
    return _state_local(text, _to_local(when))


def is_open(text: str | None, when: datetime | None = None) -> bool | None:
    """``True``/``False`` for open/closed at ``when``; ``None`` when unknown."""
    result = state(text, when)
    return None if result == UNKNOWN else result == OPEN


def evaluate_unique(texts: Iterable[Hashable], when: datetime | None = None
                    ) -> dict[Hashable, str]:
    """Map each distinct value in ``texts`` (``None`` included) to its state at ``when``.

    Stations share few distinct hours strings, so callers evaluate each one
    once here and broadcast the result through their own codes.
    """
    local = _to_local(when)
    out: dict[Hashable, str] = {}
    for text in texts:
        if text not in out:
            out[text] = _state_local(text, local)
    return out


def state_codes(texts: Sequence[Hashable], when: datetime | None = None) -> np.ndarray:
    """Per-item ``int8`` codes: 1 open, 0 closed, -1 unknown (:data:`STATE_CODES`)."""
    states = evaluate_unique(texts, when)
    return np.fromiter((STATE_CODES[states[t]] for t in texts), dtype=np.int8, count=len(texts))


def open_mask(texts: Sequence[Hashable], when: datetime | None = None) -> np.ndarray:
    """Boolean array, ``True`` where the item is known to be open at ``when``."""
    return state_codes(texts, when) == STATE_CODES[OPEN]


def describe(text: str | None, *, lang: str = "zh") -> str:
    """Short label in ``lang`` (``"zh"`` or ``"en"``) for an ``opening_hours`` value.

    "全天开放"/"Open 24 hours" for values equivalent to ``24/7``,
    "营业时间未知"/"Hours unknown" for missing ones, a translated label for
    other valid values and the trimmed raw string for anything unparseable.
    """
    if lang not in _LABELS:
        msg = f"unsupported language {lang!r}; expected one of: {', '.join(_LABELS)}"
        raise ValueError(msg)
    labels = _LABELS[lang]
    if not isinstance(text, str) or not text.strip():
        return labels["none"]
    schedule = parse(text)
    if schedule is None:
        return text.strip()
    if schedule.always_open:
        return labels["always"]
    return translate(text.strip(), lang)
