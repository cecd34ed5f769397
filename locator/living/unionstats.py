"""How each union is keeping up: open cases, stale stations, the median time to resolve.

For every city and county union (and the province as a whole): the cases still
open in its area, the stations of its area that had no positive check within
``STALE_DAYS``, and the median time from a case's first report to its
resolution. A city union's figures cover its whole subtree, as its role does.
Counting and grouping happen in SQL (open cases) and in grouped column
operations (durations, stale stations); nothing walks the rows one by one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

import pandas as pd
from sqlalchemy import func, select

from locator.geo import regions
from locator.living import cases, db, unions
from locator.living.models import Case

COLUMNS = ("adcode", "name", "level", "parent_adcode", "open_cases", "stale_stations",
           "resolved_cases", "median_resolve_days")


def stale_mask(frame: pd.DataFrame, confirmed: set[str] | frozenset[str], days: float,
               now: datetime | None = None) -> pd.Series:
    """Stations not closed whose ``verified_at`` is older than ``days`` (or missing) and
    with no worker confirmation in that time (``confirmed``: the ids that had one)."""
    verified = pd.to_datetime(frame["verified_at"], errors="coerce", utc=True)
    stamp = pd.Timestamp(now, tz="UTC") if now is not None else pd.Timestamp.now(tz="UTC")
    cutoff = stamp - pd.Timedelta(days=days)
    return (frame["status"] != "closed") & ~(verified >= cutoff) & ~frame["id"].isin(confirmed)


def _case_tables(cfg: Mapping[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Open cases counted per county, and every finished case's county and duration (days)."""
    with db.session(cfg) as s:
        open_rows = s.execute(select(Case.county_adcode, func.count())
                              .where(Case.state == "open").group_by(Case.county_adcode)).all()
        done_rows = s.execute(select(Case.county_adcode, Case.created_at, Case.resolved_at)
                              .where(Case.state != "open",
                                     Case.resolved_at.is_not(None))).all()
    opened = pd.DataFrame(open_rows, columns=["county_adcode", "n"])
    done = pd.DataFrame(done_rows, columns=["county_adcode", "created_at", "resolved_at"])
    done["days"] = (pd.to_datetime(done["resolved_at"]) - pd.to_datetime(done["created_at"])) \
        / pd.Timedelta(days=1)
    return opened, done[["county_adcode", "days"]]


def per_union(cfg: Mapping[str, Any], frame: pd.DataFrame, *,
              now: datetime | None = None) -> pd.DataFrame:
    """One row per union (province, cities, counties) with :data:`COLUMNS`, by adcode.

    ``frame`` holds the served stations (``id``, ``county_adcode``, ``status``,
    ``verified_at``).
    """
    days = float(cfg["STALE_DAYS"])
    tree = unions.hierarchy(cfg["BOUNDARIES_DIR"]).reset_index(drop=True)
    city_of = regions.counties(cfg["BOUNDARIES_DIR"]).set_index("county_adcode")["city_adcode"]
    opened, done = _case_tables(cfg)
    stale = frame.loc[stale_mask(frame, set(cases.confirmations_since(cfg, days)), days, now),
                      ["county_adcode"]]

    def by(level: str, table: pd.DataFrame) -> pd.Series:
        """The key each row counts under at ``level``: its county, city or the province."""
        county = table["county_adcode"].astype(str)
        if level == "county":
            return county
        if level == "city":
            return county.map(city_of)
        return pd.Series(unions.PROVINCE, index=table.index)

    parts = []
    for level in ("province", "city", "county"):  # three levels, not rows
        keyed = pd.DataFrame({
            "open_cases": opened.groupby(by(level, opened))["n"].sum(),
            "stale_stations": stale.groupby(by(level, stale)).size(),
            "resolved_cases": done.groupby(by(level, done)).size(),
            "median_resolve_days": done.groupby(by(level, done))["days"].median(),
        })
        rows = tree[tree["level"] == level]
        parts.append(rows.join(keyed, on="adcode"))
    out = pd.concat(parts, ignore_index=True)
    for col in ("open_cases", "stale_stations", "resolved_cases"):
        out[col] = out[col].fillna(0).astype(int)
    out["median_resolve_days"] = out["median_resolve_days"].astype(float).round(1)
    # Jiyuan's stations carry its city adcode as their county: it is one union, a city one.
    out = out.drop_duplicates("adcode")
    return out.sort_values("adcode", kind="stable").reset_index(drop=True)[list(COLUMNS)]


def for_page(table: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    """The table as the planner page shows it: the province, city rows and county rows."""
    recs = table.astype(object).where(table.notna(), None)
    return {level: cast(list[dict[str, Any]], recs[recs["level"] == level].to_dict("records"))
            for level in ("province", "city", "county")}
