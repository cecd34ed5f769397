"""Readable labels for OSM ``opening_hours`` values, in Chinese or English.

``Mo-Fr 08:00-18:00; PH off`` means little to a sanitation worker; the label
``周一至周五 08:00-18:00；法定节假日休息`` does. Only values the parser in
:mod:`locator.domain.hours` accepts are translated, token by token; anything else is
shown as written.
"""

from __future__ import annotations

import re

_DAYS = {
    "zh": {"Mo": "周一", "Tu": "周二", "We": "周三", "Th": "周四", "Fr": "周五", "Sa": "周六",
           "Su": "周日", "PH": "法定节假日"},
    "en": {"Mo": "Mon", "Tu": "Tue", "We": "Wed", "Th": "Thu", "Fr": "Fri", "Sa": "Sat",
           "Su": "Sun", "PH": "public holidays"},
}
_WORDS = {
    "zh": {"off": "休息", "closed": "休息", "open": "开放", "unknown": "时间未定",
           "range": "至", "list": "、", "rules": "；", "days_then_time": " "},
    "en": {"off": "closed", "closed": "closed", "open": "open", "unknown": "hours unknown",
           "range": "–", "list": ", ", "rules": "; ", "days_then_time": " "},
}
_TOKEN = re.compile(r"\s*(Mo|Tu|We|Th|Fr|Sa|Su|PH|off|closed|open|unknown|"
                    r"\d{1,2}:\d{2}-\d{1,2}:\d{2}(?:\+)?|[-,;]|\S+)\s*")
_DAY_SET = set(_DAYS["zh"])


def translate(text: str, lang: str) -> str:
    """Token-by-token rendering of a valid ``opening_hours`` value."""
    days, words = _DAYS[lang], _WORDS[lang]
    tokens = _TOKEN.findall(text)
    out: list[str] = []
    prev = ""
    for i, tok in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if tok in _DAY_SET:
            out.append(days[tok])
        elif tok == "-" and prev in _DAY_SET and nxt in _DAY_SET:
            out.append(words["range"])
        elif tok == "," and prev in _DAY_SET and nxt in _DAY_SET:
            out.append(words["list"])
        elif tok == ",":
            out.append(", ")
        elif tok == ";":
            out.append(words["rules"])
        elif tok in ("off", "closed", "open", "unknown"):
            if lang == "zh" and prev in _DAY_SET:
                out.append(words[tok])
            else:
                out.append((" " if out else "") + words[tok])
        else:
            sep = words["days_then_time"] if prev in _DAY_SET else ""
            out.append(sep + tok)
        prev = tok
    return "".join(out).strip()
