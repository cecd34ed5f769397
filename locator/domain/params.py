"""The public parameters, declared once, and the parsers that read them.

:data:`TABLE` declares each public parameter (name, type, bounds, default, enum,
help, zh/en label, repeatable). The request parsers, the OpenAPI document
(:meth:`Param.schema`), the HTML form attributes (:meth:`Param.html_attrs`) and
the CLI options (``locator.cli.options``) all read it, so a bound such as the
radius minimum is written here and nowhere else.

Each parser takes the raw value (a string, or ``None`` when absent) and either
returns a clean Python value or raises a 400 :class:`LocatorError` that names
the parameter and says what was expected.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from locator.domain import i18n, presets, schema
from locator.errors import invalid
from locator.geo import datum

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def number(field: str, raw: str | None, *, lo: float, hi: float,
           default: float | None = None) -> float:
    if raw is None or raw == "":
        if default is None:
            raise invalid(field, f"{field} is required")
        return default
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise invalid(field, f"{field} must be a number, got {raw!r}") from None
    if not math.isfinite(value):
        raise invalid(field, f"{field} must be a finite number, got {raw!r}")
    if not lo <= value <= hi:
        raise invalid(field, f"{field} must be between {lo:g} and {hi:g}, got {value:g}")
    return value


def integer(field: str, raw: str | None, *, lo: float, hi: float, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise invalid(field, f"{field} must be a whole number, got {raw!r}") from None
    if not lo <= value <= hi:
        raise invalid(field, f"{field} must be between {lo:g} and {hi:g}, got {value}")
    return value


def boolean(field: str, raw: str | None, *, default: bool = False) -> bool:
    if raw is None or raw == "":
        return default
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise invalid(field, f"{field} must be true or false, got {raw!r}")


def choice(field: str, raw: str | None, options: Sequence[str], *, default: str) -> str:
    if raw is None or raw == "":
        return default
    if raw not in options:
        raise invalid(field, f"{field} must be one of {', '.join(options)}, got {raw!r}")
    return raw


def kinds(raw: Sequence[str]) -> list[str]:
    """Repeated or comma-separated kinds; empty means every kind."""
    return TABLE["kind"].parse_list(raw)


def amenities(raw: Sequence[str]) -> int:
    """Repeated or comma-separated amenity codes -> the required bit mask."""
    return schema.parse_amenities(TABLE["amenity"].parse_list(raw), field="amenity")


def crs(raw: str | None, *, field: str = "crs") -> str:
    """A datum name, exactly as the document lists it (``wgs84``, ``gcj02``, ``bd09``)."""
    p = TABLE["crs"]
    return choice(field, raw, p.enum, default=p.default)


def lang(raw: str | None, *, default: str = "zh") -> str:
    """The ``lang`` of a JSON answer: one of the supported languages, else a 400."""
    return choice("lang", raw, TABLE["lang"].enum, default=default)


def bbox(raw: str | None, *, field: str = "bbox") -> tuple[float, float, float, float]:
    if not raw:
        raise invalid(field, f"{field} is required as minlon,minlat,maxlon,maxlat")
    parts = raw.split(",")
    if len(parts) != 4:
        raise invalid(field, f"{field} must have 4 numbers minlon,minlat,maxlon,maxlat")
    x0 = number(field, parts[0], lo=-180, hi=180)
    y0 = number(field, parts[1], lo=-90, hi=90)
    x1 = number(field, parts[2], lo=-180, hi=180)
    y1 = number(field, parts[3], lo=-90, hi=90)
    # Two opposite corners in either order name the same box.
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


# Patterns of the text forms, for the OpenAPI document: a longitude, a latitude, and
# the comma-separated box and centre built from them.
LON_RE = r"[-+]?(180(\.0*)?|(1[0-7][0-9]|[0-9]{1,2})(\.[0-9]*)?)"
LAT_RE = r"[-+]?(90(\.0*)?|[1-8]?[0-9](\.[0-9]*)?)"
NUM_RE = r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"
BBOX_RE = f"^{LON_RE},{LAT_RE},{LON_RE},{LAT_RE}$"
BBOX6_RE = (f"^({LON_RE},{LAT_RE},{LON_RE},{LAT_RE}"
            f"|{LON_RE},{LAT_RE},{NUM_RE},{LON_RE},{LAT_RE},{NUM_RE})$")
CENTER_RE = f"^{LAT_RE},{LON_RE}$"
_DAY = (r"([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])-(0[1-9]|1[0-2])"
        r"-(0[1-9]|[12][0-9]|3[01])")
_TIME = (r"[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?"
         r"([Zz]|[-+]([01][0-9]|2[0-3]):[0-5][0-9])")
_INSTANT = f"{_DAY}({_TIME})?"
DATETIME_RE = f"^({_INSTANT}|({_INSTANT}|\\.\\.)?/({_INSTANT}|\\.\\.)?)$"

_MISSING: Any = object()


@dataclass(frozen=True)
class Param:
    """One public parameter.

    ``hi`` may be ``None`` when the upper bound is a setting (``hi_setting``);
    callers then pass the configured value to :meth:`parse` and :meth:`schema`.
    """

    name: str
    type: str  # "number", "integer", "boolean" or "string"
    help: str
    zh: str
    en: str
    lo: float | None = None
    hi: float | None = None
    default: Any = None
    enum: tuple[str, ...] = ()
    repeatable: bool = False
    step: float | None = None
    hi_setting: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # The table's key when two parameters share a query name (``limit`` of the map
    # viewport and of the OGC items); empty means the name.
    key: str = ""

    def label(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en

    def cap(self, cfg: Mapping[str, Any] | None) -> float | None:
        """The upper bound, read from the settings when the table names one."""
        if self.hi_setting and cfg is not None:
            return float(cfg[self.hi_setting])
        return self.hi

    def bounds(self, hi: float | None = None) -> tuple[float, float]:
        top = hi if hi is not None else self.hi
        return (-math.inf if self.lo is None else self.lo,
                math.inf if top is None else top)

    def parse(self, raw: str | None, *, default: Any = _MISSING, hi: float | None = None,
              cfg: Mapping[str, Any] | None = None) -> Any:
        """Parse one raw value by this declaration.

        ``default`` overrides the table's default; ``hi`` (or ``cfg``, for a bound
        that is a setting) gives the upper bound.
        """
        dflt = self.default if default is _MISSING else default
        lo, top = self.bounds(hi if hi is not None else self.cap(cfg))
        if self.type == "number":
            return number(self.name, raw, lo=lo, hi=top, default=dflt)
        if self.type == "integer":
            return integer(self.name, raw, lo=lo, hi=top, default=dflt)
        if self.type == "boolean":
            return boolean(self.name, raw, default=bool(dflt))
        if self.enum:
            return choice(self.name, raw, self.enum, default=dflt)
        return raw if raw not in (None, "") else dflt

    def parse_list(self, raw: Sequence[str]) -> list[str]:
        """The values of a repeatable parameter (repeated or comma-separated), in order.

        Each must be one of the table's enumeration; empty values are skipped.
        """
        out: list[str] = []
        for item in raw:
            for part in item.split(","):
                part = part.strip()
                if part and part not in self.enum:
                    raise invalid(self.name, f"unknown {self.name} {part!r}; expected one of: "
                                  f"{', '.join(self.enum)}")
                if part:
                    out.append(part)
        return list(dict.fromkeys(out))

    def schema(self, *, hi: float | None = None, default: Any = _MISSING) -> dict[str, Any]:
        """The OpenAPI 3.0 schema of this parameter."""
        item: dict[str, Any] = {"type": self.type}
        if self.enum:
            item["enum"] = list(self.enum)
        top = hi if hi is not None else self.hi
        if self.lo is not None:
            item["minimum"] = self.lo
        if top is not None:
            item["maximum"] = top
        item.update(self.extra)
        dflt = self.default if default is _MISSING else default
        if self.repeatable:
            return {"type": "array", "items": item}
        if dflt is not None:
            item["default"] = dflt
        return item

    def html_attrs(self, *, hi: float | None = None) -> dict[str, str]:
        """``min``/``max``/``step`` attributes for an ``<input>`` of this parameter."""
        out: dict[str, str] = {}
        top = hi if hi is not None else self.hi
        if self.lo is not None:
            out["min"] = f"{self.lo:g}"
        if top is not None:
            out["max"] = f"{top:g}"
        if self.step is not None:
            out["step"] = f"{self.step:g}"
        elif self.type == "integer":
            out["step"] = "1"
        return out


MAX_RADIUS_M = 100_000.0
OGC_DEFAULT_LIMIT = 100
OGC_MAX_LIMIT = 10_000
BY = ("county", "city", "province")
DISTANCES = ("network", "straight")

_PARAMS = (
    Param("lat", "number", "Latitude of the query point.", "纬度", "Latitude", lo=-90, hi=90),
    Param("lon", "number", "Longitude of the query point.", "经度", "Longitude",
          lo=-180, hi=180),
    Param("k", "integer", "How many stations.", "数量", "Count", lo=1, default=10,
          hi_setting="MAX_K"),
    Param("max_distance_m", "number", "Farthest distance in metres.", "最远距离（米）",
          "Farthest distance (m)", lo=1, hi_setting="MAX_DISTANCE_M"),
    Param("limit", "integer", "Most stations before clustering.", "聚合前最多站点数",
          "Most stations before clustering", lo=1, hi_setting="BBOX_LIMIT"),
    Param("grid", "integer", "Clusters per side of the box when clustering.", "聚合网格",
          "Cluster grid", lo=2, hi=32, default=12),
    Param("radius", "number", "Service radius in metres.", "服务半径（米）",
          "Service radius (m)", lo=50, hi=MAX_RADIUS_M, step=50),
    Param("detour", "number",
          "Detour factor: covered when straight-line distance x detour <= radius.",
          "绕行系数", "Detour factor", lo=1, hi=3, step=0.05),
    Param("n", "integer", "New sites to suggest.", "新增站点数", "New sites", lo=0,
          hi_setting="MAX_SUGGEST_N"),
    Param("wait", "number", "Seconds to wait for the result before answering 202 with a job; "
          "capped to the JOBS_MAX_WAIT setting (2 s by default).",
          "等待秒数", "Wait (s)", lo=0, hi=60, default=2),
    Param("by", "string", "Regions to report.", "统计单元", "Regions", enum=BY,
          default="county"),
    Param("demand", "string",
          "Demand layer name: none, population, or a file stem from DEMAND_DIR.",
          "需求图层", "Demand layer"),
    Param("zoom", "integer", "Map zoom level.", "缩放", "Zoom", lo=3, hi=18),
    Param("width", "integer", "Frame width in pixels.", "宽", "Width", lo=200, hi=2000),
    Param("height", "integer", "Frame height in pixels.", "高", "Height", lo=200, hi=2000),
    Param("distance", "string", "network (along the street graph; the default when one is "
          "configured) or straight.", "距离算法", "Distance", enum=DISTANCES),
    Param("region", "string", "Limit the run to one city or county: its 6-digit adcode "
          "(410000, or none, for the whole province). Stations just outside still cover "
          "demand inside.", "统计范围", "Area", extra={"pattern": "^[0-9]{6}$"}),
    Param("kind", "string", "Station kinds (repeat or comma-separate); none means every kind.",
          "站点类型", "Kinds", enum=schema.KIND_CODES, repeatable=True),
    Param("amenity", "string", "Amenities a station must all have (repeat or comma-separate).",
          "服务设施", "Amenities", enum=schema.AMENITY_CODES, repeatable=True),
    Param("crs", "string", "Datum of the coordinates.", "坐标系", "Datum",
          enum=datum.DATUMS, default="wgs84"),
    Param("out_crs", "string", "Datum of the returned coordinates.", "返回坐标系",
          "Datum of the answer", enum=datum.DATUMS, default="wgs84"),
    Param("lang", "string", "Language of readable labels and messages.", "语言", "Language",
          enum=i18n.LANGS, default="zh"),
    Param("f", "string", "Representation; without it the Accept header decides.", "格式",
          "Format", enum=("json", "html")),
    Param("preset", "string", "Job preset: sets the kinds and radius unless given.",
          "任务预设", "Preset", enum=presets.PRESET_CODES),
    Param("limit", "integer", f"Page size; values over {OGC_MAX_LIMIT} are capped to it, as "
          "OGC API – Features asks of a server.", "每页数量", "Page size", lo=1,
          default=OGC_DEFAULT_LIMIT, key="ogc_limit"),
    Param("offset", "integer", "Stations to skip; follow the `next` link instead of counting.",
          "跳过数量", "Offset", lo=0, default=0),
    Param("bbox", "string", "minlon,minlat,maxlon,maxlat in CRS84 (6 numbers with heights "
          "also accepted); a west edge east of the east edge crosses the antimeridian.",
          "范围", "Bounding box", key="ogc_bbox", extra={"pattern": BBOX6_RE}),
    Param("datetime", "string", "Instant or interval (`start/end`, `../end`, `start/..`) over "
          "`verified_at`; a start after the end matches nothing.", "时间", "Date or interval",
          extra={"pattern": DATETIME_RE}),
)
TABLE: dict[str, Param] = {p.key or p.name: p for p in _PARAMS}



def distance(raw: str | None, *, default: str) -> str:
    """How planning measures distance: ``network`` (along streets) or ``straight``."""
    return str(TABLE["distance"].parse(raw, default=default))


def text(field: str, raw: str | None, *, max_chars: int) -> str:
    """A required free-text value, stripped, at most ``max_chars`` characters."""
    value = (raw or "").strip()
    if not value:
        raise invalid(field, f"{field} is required and must not be blank")
    if len(value) > max_chars:
        raise invalid(field, f"{field} must be at most {max_chars} characters, got {len(value)}")
    return value
