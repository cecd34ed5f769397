"""The union hierarchy: Henan's provincial union, its 18 city unions and their county unions.

Each union is keyed by the adcode of its area. A role on a union covers the
union's whole subtree, so the Zhengzhou union (410100) acts on every county
of Zhengzhou and a county union only on its own county. Jiyuan (419001) is a
city-level unit with no counties below it, so its one union is a city union.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

import pandas as pd
from sqlalchemy import insert, select

from locator import memo
from locator.errors import LocatorError
from locator.geo import regions
from locator.living import db
from locator.living.models import Union

PROVINCE = "410000"


@memo.cached
def hierarchy(boundaries_dir: str | Path) -> pd.DataFrame:
    """Every union: ``adcode``, ``name``, ``level``, ``parent_adcode``, from the boundaries."""
    counties = regions.counties(boundaries_dir)
    cities = regions.cities(boundaries_dir)
    below = counties[counties["county_adcode"] != counties["city_adcode"]]
    frame = pd.concat([
        pd.DataFrame({"adcode": [PROVINCE], "name": ["河南省总工会"], "level": ["province"],
                      "parent_adcode": [None]}),
        pd.DataFrame({"adcode": cities["city_adcode"], "name": cities["city"] + "总工会",
                      "level": "city", "parent_adcode": PROVINCE}),
        pd.DataFrame({"adcode": below["county_adcode"], "name": below["county"] + "总工会",
                      "level": "county", "parent_adcode": below["city_adcode"]}),
    ], ignore_index=True)
    return frame.set_index("adcode", drop=False)


def counties_of(unions: Iterable[str], boundaries_dir: str | Path) -> set[str]:
    """County adcodes in the subtrees of all ``unions`` (an officer's roles)."""
    out: set[str] = set()
    for union in unions:
        out |= counties_under(union, boundaries_dir)
    return out


def counties_under(adcode: str, boundaries_dir: str | Path) -> frozenset[str]:
    """County adcodes (as stations carry them) in the subtree of the union ``adcode``."""
    counties = regions.counties(boundaries_dir)
    if adcode == PROVINCE:
        return frozenset(counties["county_adcode"])
    mask = (counties["city_adcode"] == adcode) | (counties["county_adcode"] == adcode)
    return frozenset(counties.loc[mask, "county_adcode"])


def check(adcode: str, boundaries_dir: str | Path) -> str:
    """``adcode`` if it names a union, else a 400 naming the field ``union``."""
    code = str(adcode).strip()
    if code not in hierarchy(boundaries_dir).index:
        msg = f"no union with adcode {code[:12]!r}: give a Henan province, city or county adcode"
        raise LocatorError(400, "invalid_parameter", msg, "union")
    return code


def ensure(cfg: Mapping[str, Any]) -> int:
    """Write the hierarchy into the database once; returns how many unions it holds."""
    frame = hierarchy(cfg["BOUNDARIES_DIR"])
    with db.session(cfg) as s:
        have = set(s.scalars(select(Union.adcode)))
        # Parents first, so that the foreign keys hold while inserting.
        order = frame["level"].map({"province": 0, "city": 1, "county": 2}).sort_values()
        fresh = frame.loc[order.index]
        fresh = fresh[~fresh["adcode"].isin(have)]
        if len(fresh):
            rows = fresh[["adcode", "name", "level", "parent_adcode"]].astype(object)
            records = cast(list[dict[str, Any]], rows.where(rows.notna(), None).to_dict("records"))
            s.execute(insert(Union), records)
    return len(frame)
