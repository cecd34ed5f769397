"""Planning tables for people who open them in a spreadsheet.

Headers in the reader's language, shares as rounded percentages, whole
numbers of people, every suggested site named, demo data said so, and a file
name that tells what is inside. GIS formats keep the machine columns of
:mod:`locator.planning.reports`.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pandas as pd

from locator.domain import schema
from locator.planning import reports
from locator.planning.runs import Plan

SHARES = ("area_share", "demand_share", "share_after")
PEOPLE = ("demand", "covered_demand", "uncovered_demand", "adds", "cumulative")
KM2 = ("area_km2", "covered_km2", "gap_km2")
HEADERS: dict[str, dict[str, str]] = {
    "zh": {"county_adcode": "县级区划代码", "county": "县（市、区）", "city_adcode": "市级区划代码",
           "city": "市", "area_km2": "面积（平方公里）", "stations": "站点数",
           "area_share": "面积覆盖率（%）", "covered_km2": "已覆盖面积（平方公里）",
           "demand": "人口", "covered_demand": "已覆盖人口", "demand_share": "人口覆盖率（%）",
           "uncovered_demand": "未覆盖人口", "share_after": "新增站点后覆盖率（%）",
           "rank": "序号", "lon": "经度（WGS-84）", "lat": "纬度（WGS-84）",
           "adds": "新增覆盖", "cumulative": "累计覆盖", "name": "名称",
           "gap_km2": "缺口面积（平方公里）", "mean_distance_m": "到最近站点平均距离（米）",
           "demo": "数据说明", "scope": "统计范围", "road": "最近道路", "cross_road": "交叉道路",
           "place": "最近地名"},
    "en": {"county_adcode": "County code", "county": "County", "city_adcode": "City code",
           "city": "City", "area_km2": "Area (km²)", "stations": "Stations",
           "area_share": "Area covered (%)", "covered_km2": "Area covered (km²)",
           "demand": "People", "covered_demand": "People covered",
           "demand_share": "People covered (%)", "uncovered_demand": "People not covered",
           "share_after": "Covered after new sites (%)", "rank": "#",
           "lon": "Longitude (WGS-84)", "lat": "Latitude (WGS-84)", "adds": "Adds",
           "cumulative": "Cumulative", "name": "Name", "gap_km2": "Gap (km²)",
           "mean_distance_m": "Mean distance to nearest station (m)", "demo": "Data note",
           "scope": "Area", "road": "Nearest road", "cross_road": "Cross road",
           "place": "Nearest place"},
}
SHEETS = {"zh": {"counties": "县级覆盖", "gaps": "缺口区域", "suggestions": "建议新增站点",
                 "about": "说明"},
          "en": {"counties": "Counties", "gaps": "Gaps", "suggestions": "Suggested sites",
                 "about": "About"}}
DEMO_NOTE = {"zh": "演示数据：站点为程序生成的合成数据，并非真实站点",
             "en": "Demo data: the stations are synthetic, not real"}


def readable(plan: Plan, what: str, *, lang: str = "zh") -> pd.DataFrame:
    """Table ``what`` with headers in ``lang``, percentages and whole numbers."""
    df = pd.DataFrame(reports.frame(plan, what, lang=lang).drop(columns="geometry",
                                                               errors="ignore"))
    for col in SHARES:
        if col in df:
            df[col] = (df[col].astype(float) * 100).round(1)
    for col in PEOPLE:
        if col in df:
            df[col] = df[col].astype(float).round().astype("Int64")
    for col in KM2:
        if col in df:
            df[col] = df[col].astype(float).round(1)
    if "mean_distance_m" in df:
        df["mean_distance_m"] = df["mean_distance_m"].astype(float).round().astype("Int64")
    # Every row says the area the figures are for, so that a table cut and pasted
    # out of its file (or sorted with the rest of a workbook) still says it.
    df["scope"] = scope_label(plan)
    if plan.demo:
        df["demo"] = DEMO_NOTE[lang]
    return df.rename(columns=HEADERS[lang])


def scope_label(plan: Plan) -> str:
    """The plan's area with its adcode, e.g. ``郑州市 金水区（410105）``."""
    return f"{reports.region_name(plan)}（{reports.region_code(plan)}）"


def csv_bytes(plan: Plan, what: str, *, lang: str = "zh") -> bytes:
    """CSV with a byte-order mark, so that Excel opens the Chinese text correctly."""
    return ("\ufeff" + readable(plan, what, lang=lang).to_csv(index=False)).encode("utf-8")


def xlsx_bytes(plan: Plan, *, lang: str = "zh") -> bytes:
    """One workbook: a sheet per table and a sheet saying what the figures are."""
    p = plan.params
    kinds = "、".join(schema.label(schema.KINDS, k, lang) for k in p.kinds)
    about = pd.DataFrame({
        ("项目" if lang == "zh" else "Item"):
            ["统计范围", "站点类型", "服务半径（米）", "需求图层", "数据版本", "数据说明"]
            if lang == "zh" else ["Area", "Station kinds", "Service radius (m)", "Demand layer",
                                  "Dataset version", "Data note"],
        ("内容" if lang == "zh" else "Value"):
            [scope_label(plan), kinds, f"{p.radius:g}", p.demand, plan.version,
             DEMO_NOTE[lang] if plan.demo else ""]})
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        about.to_excel(xl, sheet_name=SHEETS[lang]["about"], index=False)
        for what in reports.TABLES:
            readable(plan, what, lang=lang).to_excel(xl, sheet_name=SHEETS[lang][what],
                                                     index=False)
    return buf.getvalue()


def file_name(plan: Plan, what: str, fmt: str, *, lang: str = "zh",
              today: dt.date | None = None) -> str:
    """A name saying area, kind, radius, table and date.

    For example ``河南省-户外劳动者爱心驿站-1000m-县级覆盖-2026-12-01.csv``, or
    ``郑州市金水区-410105-…`` for a run limited to one county.
    """
    p = plan.params
    if p.region:
        area = reports.region_name(plan).replace(" ", "") + "-" + p.region
    else:
        area = "河南省" if lang == "zh" else "Henan"
    kinds = "+".join(schema.label(schema.KINDS, k, lang) for k in p.kinds)
    table = SHEETS[lang].get(what, what)
    day = (today or dt.date.today()).isoformat()
    demo = ("-演示数据" if lang == "zh" else "-demo") if plan.demo else ""
    name = f"{area}-{kinds}-{p.radius:g}m-{table}{demo}-{day}.{fmt}"
    return re.sub(r'[\\/:*?"<>|\s]+', "_", name)
