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
import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final, NamedTuple
from zoneinfo import ZoneInfo

import chinese_calendar
import numpy as np

from locator.domain.hours_text import translate

__all__ = [
    "CLOSED", "OPEN", "STATE_CODES", "TIMEZONE", "UNKNOWN", "Rule", "Schedule", "describe",
    "evaluate_unique", "is_open", "open_mask", "parse", "public_holiday", "selector_weekday",
    "state", "state_codes", "validate",
]

TIMEZONE: Final = ZoneInfo("Asia/Shanghai")
OPEN: Final = "open"
CLOSED: Final = "closed"
UNKNOWN: Final = "unknown"
STATE_CODES: Final = {OPEN: 1, CLOSED: 0, UNKNOWN: -1}
"""Integer codes used by :func:`state_codes` (fits in ``int8``)."""

_DAY: Final = 24 * 60
_WEEKDAYS: Final = ("mo", "tu", "we", "th", "fr", "sa", "su")
_MODIFIERS: Final = {"open": OPEN, "off": CLOSED, "closed": CLOSED, "unknown": UNKNOWN}
_EXPECTED: Final = "expected weekdays (Mo-Su), PH, HH:MM-HH:MM spans, 24/7 or off/closed/unknown"
_LABELS: Final = {
    "zh": {"always": "全天开放", "none": "营业时间未知"},
    "en": {"always": "Open 24 hours", "none": "Hours unknown"},
}

_TOKEN_RE: Final = re.compile(
    r"\s*(?:(?P<always>24/7)"
    r"|(?P<span>(?P<h1>\d{1,2}):(?P<m1>\d{2})\s*-\s*(?P<h2>\d{1,2}):(?P<m2>\d{2}))"
    r"|(?P<word>[A-Za-z]+)|(?P<dash>-)|(?P<comma>,))"
)


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of an ``opening_hours`` value.

    ``weekdays`` (Monday = 0) and ``holidays`` (``PH``) select days; both
    empty means every day. ``spans`` are ``(start, end)`` minutes after the
    selected day's midnight, ``end`` up to 2880 for spans past midnight; no
    spans means the whole day. ``status`` is :data:`OPEN`, :data:`CLOSED` or
    :data:`UNKNOWN`; ``additional`` marks comma-joined rules.
    """

    weekdays: frozenset[int]
    holidays: bool
    spans: tuple[tuple[int, int], ...]
    status: str
    additional: bool = False

    def selects(self, weekday: int, holiday: bool | None) -> bool:
        """Whether the rule applies to a day with this selector weekday/holiday flag."""
        if not self.weekdays and not self.holidays:
            return True
        return weekday in self.weekdays or (self.holidays and holiday is True)


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
        whole_day = rule.spans in ((), ((0, _DAY),))
        return every_day and whole_day and rule.status == OPEN

    def state_at(self, when: datetime | None = None) -> str:
        """``"open"``, ``"closed"`` or ``"unknown"`` at ``when`` (default: now)."""
        local = _to_local(when)
        day = local.date()
        minute = (local.hour * 60 + local.minute + local.second / 60
                  + local.microsecond / 60e6)
        found = [s for a, b, s in _day_plan(self, day) if a <= minute < b]
        yesterday = day - timedelta(days=1)
        found += [s for a, b, s in _day_plan(self, yesterday) if a <= minute + _DAY < b]
        if OPEN in found:
            return OPEN
        return UNKNOWN if UNKNOWN in found else CLOSED


class _Token(NamedTuple):
    kind: str
    value: str
    pos: int
    match: re.Match[str]


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


# --- parsing -------------------------------------------------------------------------------

def _tokenize(rule: str, offset: int) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(rule):
        if rule[pos:].strip() == "":
            break
        m = _TOKEN_RE.match(rule, pos)
        if m is None:
            start = pos + len(rule[pos:]) - len(rule[pos:].lstrip())
            snippet = rule[start:start + 12]
            if re.match(r"\d{1,2}:\d{2}", snippet):
                msg = (f"time at character {offset + start + 1} is not part of an"
                       " HH:MM-HH:MM span")
            else:
                msg = f"unexpected {snippet!r} at character {offset + start + 1}; {_EXPECTED}"
            raise ValueError(msg)
        kind = m.lastgroup if m.lastgroup in ("always", "word", "dash", "comma") else "span"
        value = m.group(kind).lower() if kind == "word" else m.group(kind)
        tokens.append(_Token(kind, value, offset + m.start(kind) + 1, m))
        pos = m.end()
    return tokens


def _is_day(tok: _Token | None) -> bool:
    return tok is not None and tok.kind == "word" and (tok.value in _WEEKDAYS or tok.value == "ph")


def _span(tok: _Token) -> tuple[int, int]:
    m = tok.match
    start = int(m["h1"]) * 60 + int(m["m1"])
    end = int(m["h2"]) * 60 + int(m["m2"])
    problem = ("minutes must be 00-59" if max(int(m["m1"]), int(m["m2"])) > 59
               else "the start must be before 24:00" if start >= _DAY
               else "the end must not be after 48:00" if end > 2 * _DAY
               else "it is empty" if end == start
               else None)
    if end < start:
        end += _DAY
    if problem is None and end - start > _DAY:
        problem = "it is longer than 24 hours"
    if problem:
        msg = f"invalid time span {tok.value!r}: {problem}"
        raise ValueError(msg)
    return start, end


def _parse_days(tokens: list[_Token], i: int) -> tuple[set[int], bool, int]:
    days: set[int] = set()
    holidays = False
    while True:
        tok = tokens[i]
        if tok.value == "ph":
            holidays = True
            i += 1
        else:
            first = _WEEKDAYS.index(tok.value)
            i += 1
            if i < len(tokens) and tokens[i].kind == "dash":
                nxt = tokens[i + 1] if i + 1 < len(tokens) else None
                if nxt is None or nxt.value not in _WEEKDAYS:
                    msg = f"weekday range starting at character {tok.pos} needs an end day"
                    raise ValueError(msg)
                last = _WEEKDAYS.index(nxt.value)
                # Ranges such as Sa-Mo wrap over the end of the week.
                days.update((first + k) % 7 for k in range((last - first) % 7 + 1))
                i += 2
            else:
                days.add(first)
        more = i + 1 < len(tokens) and tokens[i].kind == "comma" and _is_day(tokens[i + 1])
        if not more:
            return days, holidays, i
        i += 1


def _parse_rule(tokens: list[_Token], i: int, additional: bool) -> tuple[Rule, int]:
    start = i
    days: set[int] = set()
    holidays = False
    spans: list[tuple[int, int]] = []
    if tokens[i].kind == "always":
        i += 1
    else:
        if _is_day(tokens[i]):
            days, holidays, i = _parse_days(tokens, i)
        while i < len(tokens) and tokens[i].kind == "span":
            spans.append(_span(tokens[i]))
            i += 1
            if i + 1 < len(tokens) and tokens[i].kind == "comma" and tokens[i + 1].kind == "span":
                i += 1
    status = OPEN
    if i < len(tokens) and tokens[i].kind == "word" and tokens[i].value in _MODIFIERS:
        status = _MODIFIERS[tokens[i].value]
        i += 1
    if i == start:
        tok = tokens[i]
        msg = f"unsupported {tok.match.group(tok.kind)!r} at character {tok.pos}; {_EXPECTED}"
        raise ValueError(msg)
    return Rule(frozenset(days), holidays, tuple(spans), status, additional), i


def _parse_group(rule_text: str, offset: int) -> list[Rule]:
    tokens = _tokenize(rule_text, offset)
    rules: list[Rule] = []
    i, additional = 0, False
    while True:
        rule, i = _parse_rule(tokens, i, additional)
        rules.append(rule)
        if i == len(tokens):
            return rules
        tok = tokens[i]
        if tok.kind == "comma" and _is_day(tokens[i + 1] if i + 1 < len(tokens) else None):
            i, additional = i + 1, True
            continue
        msg = f"unexpected {tok.match.group(tok.kind)!r} at character {tok.pos}"
        raise ValueError(msg)


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
                rules.extend(_parse_group(piece, offset))
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
        spans = rule.spans or ((0, _DAY),)
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
