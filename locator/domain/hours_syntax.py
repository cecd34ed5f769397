"""The grammar of the ``opening_hours`` subset :mod:`locator.domain.hours` reads.

A value is split on ``;`` into rule groups; each group is tokenised and read
into :class:`Rule` objects. Errors are raised as :class:`ValueError` with an
English message naming the character where reading stopped, which
:func:`locator.domain.hours.validate` hands to importers. What the rules mean
at a given moment is the business of :mod:`locator.domain.hours`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, NamedTuple

OPEN: Final = "open"
CLOSED: Final = "closed"
UNKNOWN: Final = "unknown"

DAY: Final = 24 * 60
_WEEKDAYS: Final = ("mo", "tu", "we", "th", "fr", "sa", "su")
_MODIFIERS: Final = {"open": OPEN, "off": CLOSED, "closed": CLOSED, "unknown": UNKNOWN}
_EXPECTED: Final = "expected weekdays (Mo-Su), PH, HH:MM-HH:MM spans, 24/7 or off/closed/unknown"
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


class _Token(NamedTuple):
    kind: str
    value: str
    pos: int
    match: re.Match[str]


# --- parsing -----------------------------------------------------------------------------

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
               else "the start must be before 24:00" if start >= DAY
               else "the end must not be after 48:00" if end > 2 * DAY
               else "it is empty" if end == start
               else None)
    if end < start:
        end += DAY
    if problem is None and end - start > DAY:
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


def parse_group(rule_text: str, offset: int) -> list[Rule]:
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
