"""English names of Henan's cities and counties, for pages and files read in English.

The romanisation is Hanyu Pinyin without tones (pypinyin), syllables joined and
an apostrophe before one that begins with a, o or e (新安 → Xin'an), followed
by the kind of area: 金水区 → Jinshui District, 中牟县 → Zhongmu County,
巩义市 → Gongyi City, 管城回族区 → Guancheng Hui District. A prefecture-level
city is its name alone (郑州市 → Zhengzhou). Names whose characters read
differently as place names than pypinyin guesses are listed in :data:`READINGS`.
"""

from __future__ import annotations

import functools

import pandas as pd

# Place-name readings pypinyin gets wrong, as space-separated syllables.
READINGS = {"殷都": "yin du", "浚": "xun", "长垣": "chang yuan", "魏都": "wei du",
            "长葛": "chang ge", "召陵": "shao ling", "南乐": "nan le", "漯河": "luo he"}
_KINDS = (("回族区", "Hui District"), ("区", "District"), ("县", "County"), ("市", "City"))


def _pinyin(stem: str) -> str:
    from pypinyin import lazy_pinyin

    syllables = READINGS[stem].split() if stem in READINGS else lazy_pinyin(stem)
    word = syllables[0] + "".join(("'" + s) if s[:1] in "aoe" else s for s in syllables[1:])
    return word[:1].upper() + word[1:]


@functools.lru_cache(maxsize=512)
def english(name: str, *, city: bool = False) -> str:
    """The English name of the area ``name``; ``city`` for a prefecture-level city."""
    name = name.strip()
    if not name:
        return name
    for suffix, kind in _KINDS:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = name[: -len(suffix)]
            return _pinyin(stem) if city and suffix == "市" else f"{_pinyin(stem)} {kind}"
    return _pinyin(name)


def translate(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its ``city`` and ``county`` columns in English (a copy)."""
    out = frame.copy()
    for col, city in (("city", True), ("county", False)):
        if col in out:
            names = out[col]
            known = names.notna() & (names.astype(str) != "")
            # A few hundred distinct areas however long the table: name each once.
            distinct = names[known].astype(str).unique()
            table = {n: english(n, city=city) for n in distinct}
            out[col] = names.where(~known, names[known].astype(str).map(table))
    return out
