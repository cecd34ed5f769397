"""Planning results as JSON, CSV, GeoJSON, GeoPackage and a standalone HTML report."""

from __future__ import annotations

import io
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from locator.geo import names_en
from locator.geo.regions import PROVINCE_ADCODE
from locator.planning import names
from locator.planning.runs import Plan

TABLES = ("counties", "gaps", "suggestions")
FORMATS = ("csv", "geojson", "gpkg")
MEDIA = {"csv": "text/csv; charset=utf-8", "geojson": "application/geo+json",
         "gpkg": "application/geopackage+sqlite3"}
COUNTY_COLUMNS = ["county_adcode", "county", "city_adcode", "city", "area_km2", "stations",
                  "area_share", "covered_km2", "demand", "covered_demand", "demand_share",
                  "uncovered_demand", "share_after"]


def frame(plan: Plan, what: str, *, lang: str = "zh") -> gpd.GeoDataFrame:
    """One of the downloadable tables, with geometry, WGS-84.

    Suggested sites without a given name are named in ``lang`` (see
    :func:`locator.planning.names.label`).
    """
    english = names_en.translate if lang == "en" else (lambda f: f)
    if what == "counties":
        cols = [c for c in COUNTY_COLUMNS if c in plan.counties.columns]
        return gpd.GeoDataFrame(english(plan.counties[cols]), geometry=plan.counties.geometry,
                                crs="EPSG:4326")
    if what == "gaps":
        return english(plan.gaps)
    if what == "suggestions":
        out = plan.suggestions.copy()
        out["name"] = names.label(out, lang)
        return english(out)
    msg = f"unknown table {what!r}"
    raise ValueError(msg)


def _clean(v: Any) -> Any:
    if isinstance(v, float | np.floating):
        return None if not math.isfinite(float(v)) else round(float(v), 6)
    if isinstance(v, np.integer):
        return int(v)
    return v


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    plain = pd.DataFrame(df.drop(columns="geometry", errors="ignore"))
    return [{str(k): _clean(v) for k, v in row.items()} for row in plain.to_dict("records")]


def region_code(plan: Plan) -> str:
    """Adcode of the plan's area: the city or county it is limited to, else the province."""
    return plan.params.region or PROVINCE_ADCODE


def region_name(plan: Plan) -> str:
    """Readable name of the plan's area, as its total row names it (``郑州市 金水区``)."""
    return str(plan.province.get("name") or "河南省")


def to_json(plan: Plan, *, with_geometry: bool = False) -> dict[str, Any]:
    """The whole plan as plain JSON (tables as lists of rows)."""
    p = plan.params
    out: dict[str, Any] = {
        "params": {"kinds": list(p.kinds), "radius_m": p.radius, "detour": p.detour,
                   "demand": p.demand, "by": p.by, "n": p.n, "preset": p.preset,
                   "distance": p.distance, "region": region_code(plan)},
        "region": {"adcode": region_code(plan), "name": region_name(plan)},
        "dataset": {"version": plan.version, "demo": plan.demo},
        "unit": plan.unit,
        "province": {k: _clean(v) for k, v in plan.province.items()},
        "regions": records(plan.counties if p.by == "county" else plan.cities)
        if p.by != "province" else [{k: _clean(v) for k, v in plan.province.items()}],
        "gaps": records(plan.gaps),
        "suggestions": records(plan.suggestions),
        "curve": plan.curve,
        "certificate": plan.certificate,
        "headline": plan.headline,
    }
    if with_geometry:
        out["counties_geojson"] = json.loads(frame(plan, "counties").to_json())
    return out


def to_bytes(plan: Plan, what: str, fmt: str) -> bytes:
    """A table encoded as CSV (UTF-8 with BOM, for Excel), GeoJSON or GeoPackage."""
    gdf = frame(plan, what)
    if fmt == "csv":
        buf = io.StringIO()
        pd.DataFrame(gdf.drop(columns="geometry")).to_csv(buf, index=False)
        return ("\ufeff" + buf.getvalue()).encode("utf-8")
    if fmt == "geojson":
        return gdf.to_json(drop_id=True, ensure_ascii=False).encode("utf-8")
    if fmt == "gpkg":
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{what}.gpkg"
            pyogrio.write_dataframe(gdf, path, layer=what, driver="GPKG")
            return path.read_bytes()
    msg = f"unknown format {fmt!r}"
    raise ValueError(msg)


def write(plan: Plan, path: str | Path, *, html: str | None = None) -> list[Path]:
    """Write a report by suffix: .csv/.geojson (region table), .gpkg (all layers), .html."""
    out = Path(path)
    suffix = out.suffix.lower()
    written = [out]
    if suffix == ".csv":
        table = plan.counties if plan.params.by == "county" else plan.cities
        cols = [c for c in COUNTY_COLUMNS if c in table.columns]
        out.write_bytes(("\ufeff" + pd.DataFrame(table[cols]).to_csv(index=False))
                        .encode("utf-8"))
    elif suffix == ".geojson":
        out.write_bytes(to_bytes(plan, "counties", "geojson"))
    elif suffix == ".gpkg":
        out.unlink(missing_ok=True)
        for what in TABLES:
            gdf = frame(plan, what)
            if len(gdf):
                pyogrio.write_dataframe(gdf, out, layer=what, driver="GPKG", append=out.exists())
    elif suffix == ".html":
        out.write_text(html or "", encoding="utf-8")
    else:
        msg = f"unsupported report type {suffix!r}; use .csv, .geojson, .gpkg or .html"
        raise ValueError(msg)
    return written
