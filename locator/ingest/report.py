"""The import report: every rejected or flagged row, with reasons in Chinese and English.

Problems are collected in bulk (one call per check, carrying arrays of row
positions) so that a file where every row is wrong still costs one vectorised
pass per check, not one Python call per row.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from locator.domain.spreadsheet import neutralise_text
from locator.errors import LocatorError

ERROR = "error"
WARNING = "warning"

# code -> (severity, Chinese, English). ``{detail}`` is filled per problem.
REASONS: dict[str, tuple[str, str, str]] = {
    "file_refused": (ERROR, "文件被拒绝：{detail}", "file refused: {detail}"),
    "column_ignored": (WARNING, "未识别的列，已忽略", "column not recognised, ignored"),
    "column_repeated": (WARNING, "与另一列含义相同，本列已忽略：{detail}",
                        "same meaning as another column, this one ignored: {detail}"),
    "name_missing": (ERROR, "缺少名称", "name is missing"),
    "coords_missing": (ERROR, "缺少经纬度", "longitude/latitude missing"),
    "coords_unreadable": (ERROR, "无法识别的坐标：{detail}", "coordinate not understood: {detail}"),
    "coords_swapped": (WARNING, "经纬度写反了，已自动对调", "latitude and longitude were swapped; "
                       "fixed"),
    "outside_region": (ERROR, "坐标不在河南省范围内", "point lies outside Henan"),
    "not_a_point": (ERROR, "几何类型不是点：{detail}", "geometry is not a point: {detail}"),
    "approximate": (WARNING, "缺少坐标，已放在{detail}的中心（近似位置）",
                    "no coordinates; placed at the centre of {detail} (approximate)"),
    "county_unknown_for_approx": (ERROR, "缺少坐标，且区县“{detail}”无法定位",
                                  "no coordinates and county {detail} cannot be located"),
    "county_mismatch": (WARNING, "填写的区县与坐标所在区县不一致（坐标在{detail}）",
                        "stated county differs from the county of the point ({detail})"),
    "county_not_checked": (WARNING, "“{detail}”不是县级行政区，无法核对",
                           "{detail} is not a county-level unit; not checked"),
    "kind_unknown": (ERROR, "无法识别的站点类型", "station kind not recognised"),
    "kind_missing": (ERROR, "无法判断站点类型，请用 --kind 指定",
                     "station kind unknown; give it with --kind"),
    "amenity_unknown": (WARNING, "未识别的设施词：{detail}（未导入）",
                        "amenity word not recognised: {detail} (not imported)"),
    "hours_unparsed": (WARNING, "开放时间无法解析，保留原文，按“未知”处理",
                       "opening hours not understood; text kept, treated as unknown"),
    "formula": (ERROR, "单元格像电子表格公式，已拒绝", "cell looks like a spreadsheet formula; "
                "refused"),
    "text_too_long": (ERROR, "文字过长（{detail} 字，上限 500）",
                      "text too long ({detail} characters, limit 500)"),
    "control_chars": (ERROR, "含有控制字符", "contains control characters"),
    "bad_value": (ERROR, "取值无效：{detail}", "invalid value: {detail}"),
    "duplicate_id": (ERROR, "编号与第 {detail} 行重复", "same id as row {detail}"),
    "phone_unusable": (WARNING, "电话号码格式无效，未导入", "phone number not valid; not imported"),
    "id_of_other_source": (ERROR, "编号已被来源“{detail}”使用", "id already used by source "
                           "{detail}"),
    "duplicate_near": (WARNING, "与第 {detail} 行疑似重复（同类、名称相近、距离很近）",
                       "possible duplicate of row {detail} (same kind, similar name, close by)"),
    "duplicate_other_source": (WARNING, "疑似与另一来源的站点重复：{detail}",
                               "possible duplicate of another source's station: {detail}"),
    "outside_subtree": (ERROR, "不在本工会辖区内（{detail}），未导入",
                        "outside your union's area ({detail}); not imported"),
    "merged": (WARNING, "与第 {detail} 行是同一站点，已合并",
               "same station as row {detail}; merged"),
}

REPORT_COLUMNS = ("row", "column", "value", "reason_zh", "reason_en", "severity", "code")
_MAX_VALUE = 200


@dataclass
class Report:
    """Problems found in one import; rows are the file's own row numbers."""

    parts: list[pd.DataFrame] = field(default_factory=list)

    def add(self, code: str, rows: Any, column: str | None = None, values: Any = None,
            detail: Any = "") -> None:
        """Record ``code`` for each of ``rows`` (scalars broadcast)."""
        r = np.atleast_1d(np.asarray(rows))
        if r.size == 0:
            return
        n = r.size
        vals = values if values is not None else [""] * n
        det = detail
        part = pd.DataFrame({
            "row": r.astype(np.int64),
            "column": column or "",
            "value": pd.Series(np.broadcast_to(np.asarray(vals, dtype=object), (n,))),
            "detail": pd.Series(np.broadcast_to(np.asarray(det, dtype=object), (n,))),
            "code": code,
        })
        self.parts.append(part)

    def frame(self) -> pd.DataFrame:
        """All problems in row order, with both reasons written out."""
        if not self.parts:
            return pd.DataFrame(columns=list(REPORT_COLUMNS))
        f = pd.concat(self.parts, ignore_index=True)
        f = f.sort_values(["row", "code"], kind="stable").reset_index(drop=True)
        keys = list(zip(f["code"], f["detail"].astype(str), strict=True))
        texts = {k: _reason(*k) for k in dict.fromkeys(keys)}
        f["severity"] = [texts[k][0] for k in keys]
        f["reason_zh"] = [texts[k][1] for k in keys]
        f["reason_en"] = [texts[k][2] for k in keys]
        f["value"] = f["value"].map(_clip)
        return f[list(REPORT_COLUMNS)]

    def rejected_rows(self) -> set[int]:
        if not self.parts:
            return set()
        f = pd.concat(self.parts, ignore_index=True)
        err = f["code"].map(lambda c: REASONS[c][0] == ERROR)
        return set(f.loc[err, "row"].tolist())

    def counts(self) -> dict[str, int]:
        if not self.parts:
            return {}
        f = pd.concat(self.parts, ignore_index=True)
        return {str(k): int(v) for k, v in f["code"].value_counts().items()}


def _reason(code: str, detail: str) -> tuple[str, str, str]:
    sev, zh, en = REASONS[code]
    return sev, zh.format(detail=detail), en.format(detail=detail)


def _clip(value: Any) -> str:
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    return text if len(text) <= _MAX_VALUE else text[:_MAX_VALUE] + "…"


class ImportRefusedError(LocatorError):
    """The whole file was refused; nothing was read into the dataset."""

    def __init__(self, en: str, zh: str, *, column: str | None = None,
                 report: Report | None = None) -> None:
        super().__init__(422, "import_refused", en, column)
        self.zh = zh
        self.report = report if report is not None else Report()


def refusal_row(zh: str, en: str, column: str | None = None) -> dict[str, Any]:
    """The line a refused file's report starts with: row 0, code ``file_refused``.

    The CLI's report CSV and the web import's 422 answer both lead with it, so that
    the reason the whole file was refused reads like any row's, in both languages.
    """
    return {"row": 0, "column": column or "", "value": "", "reason_zh": zh, "reason_en": en,
            "severity": ERROR, "code": "file_refused"}


def write_csv(frame: pd.DataFrame, path: Path, *, refusal: Sequence[str] | None = None) -> None:
    """Write the report as UTF-8 CSV with a BOM, which Excel opens as Chinese text."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(REPORT_COLUMNS)
        if refusal is not None:
            head = refusal_row(refusal[0], refusal[1])
            w.writerow(neutralise_text([head[c] for c in REPORT_COLUMNS]))
        for rec in frame.itertuples(index=False):
            w.writerow(neutralise_text(list(rec)))
