"""Which column is which, and what the free-text kind and amenity words mean.

Headers are matched after NFKC folding (full-width to half-width), lower-casing
and dropping spaces, brackets and asterisks, so ``经度（GCJ02）*`` still reads as
a longitude. A mapping file (JSON or TOML) can name any other header, kind word
or amenity word.
"""

from __future__ import annotations

import json
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from locator.domain import schema
from locator.errors import invalid

# field -> headers that mean it (already folded by :func:`fold`).
HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("id", "编号", "站点编号", "驿站编号"),
    "name": ("name", "名称", "站点名称", "驿站名称", "站名", "站点", "驿站", "书屋名称",
             "名字", "station", "stationname", "title"),
    "address": ("address", "addr", "地址", "详细地址", "站点地址", "所在地址", "位置"),
    "lon": ("lon", "lng", "long", "longitude", "x", "经度", "东经"),
    "lat": ("lat", "latitude", "y", "纬度", "北纬"),
    "coords": ("coordinates", "coords", "lnglat", "lonlat", "经纬度", "坐标", "位置坐标"),
    "kind": ("kind", "type", "类型", "站点类型", "类别", "驿站类型"),
    "opening_hours": ("opening_hours", "openinghours", "hours", "open_hours", "开放时间",
                      "服务时间", "营业时间", "开放时段"),
    "phone": ("phone", "tel", "telephone", "联系电话", "电话", "联系方式", "服务电话"),
    "operator": ("operator", "所属工会", "管理单位", "主管单位", "运营单位", "建设单位",
                 "工会"),
    "county": ("county", "district", "区县", "所属区县", "所在区县", "县区", "区", "县(市、区)",
               "县市区"),
    "city": ("city", "市", "城市", "所属城市", "地市"),
    "amenities": ("amenities", "amenity", "设施", "服务项目", "服务内容", "配套设施",
                  "服务设施", "功能"),
    "status": ("status", "状态", "运行状态"),
    "access": ("access", "开放对象"),
    "verified_at": ("verified_at", "核实日期", "更新日期"),
    "approximate": ("approximate", "近似位置"),
    "datum": ("datum", "坐标系"),
    # Written by exports; the import derives them again (or, for the feedback flags,
    # they live in the write path's database), so they are read and set aside.
    "ignore": ("source", "demo", "county_adcode", "reported", "last_verified"),
}
_DATUM_SUFFIX = re.compile(r"^(lon|lng|lat)_?(wgs84|gcj02|bd09|cgcs2000)$")
_STRIP = re.compile(r"[\s()\[\]{}*:：（）【】]")

KIND_WORDS: dict[str, str] = {
    "rest_station": "rest_station", "driver_home": "driver_home", "reading_room": "reading_room",
    "户外劳动者爱心驿站": "rest_station", "户外劳动者驿站": "rest_station",
    "爱心驿站": "rest_station",
    "工会驿站": "rest_station", "驿站": "rest_station", "户外劳动者服务站点": "rest_station",
    "司机之家": "driver_home", "货车司机之家": "driver_home",
    "职工书屋": "reading_room", "书屋": "reading_room", "职工书屋示范点": "reading_room",
}
# Words in a station's own name that give its kind when no kind column exists.
_KIND_IN_NAME = (("司机之家", "driver_home"), ("书屋", "reading_room"), ("驿站", "rest_station"))

AMENITY_WORDS: dict[str, str] = {
    **{code: code for code in schema.AMENITY_CODES},
    **{t.zh: t.code for t in schema.AMENITIES},
    "饮水": "drinking_water", "饮用水": "drinking_water", "直饮水": "drinking_water",
    "茶水": "drinking_water", "饮水机": "drinking_water", "免费饮水": "drinking_water",
    "热水": "hot_water", "开水": "hot_water", "热饭": "microwave", "加热": "microwave",
    "微波炉": "microwave", "卫生间": "toilet", "厕所": "toilet", "洗手间": "toilet",
    "公厕": "toilet", "如厕": "toilet", "休息": "seating", "座椅": "seating", "桌椅": "seating",
    "休息座椅": "seating", "歇脚": "seating", "充电": "phone_charging",
    "手机充电": "phone_charging",
    "充电宝": "phone_charging", "药箱": "first_aid", "急救箱": "first_aid",
    "医药箱": "first_aid", "急救药箱": "first_aid", "常用药品": "first_aid", "药品": "first_aid",
    "空调": "air_conditioning", "取暖": "air_conditioning", "纳凉": "air_conditioning",
    "暖气": "air_conditioning", "wifi": "wifi", "无线网络": "wifi", "无线网": "wifi",
    "网络": "wifi", "储物柜": "lockers", "存包": "lockers", "雨伞": "umbrella",
    "爱心雨伞": "umbrella", "借伞": "umbrella", "维修工具": "repair_kit", "打气筒": "repair_kit",
    "维修": "repair_kit", "工具箱": "repair_kit", "停车": "truck_parking",
    "货车停车": "truck_parking",
    "淋浴": "shower", "洗澡": "shower", "洗浴": "shower", "洗衣": "laundry", "洗衣机": "laundry",
    "餐食": "meals", "就餐": "meals", "餐饮": "meals", "用餐": "meals", "住宿": "lodging",
    "休息室": "seating", "图书借阅": "book_lending", "借阅": "book_lending",
    "图书": "book_lending", "阅读": "reading_seats", "阅读座位": "reading_seats",
}
_AMENITY_SPLIT = re.compile(r"[、,，;；/|｜+＋\s]+|和|及|与")


def fold(text: str) -> str:
    return _STRIP.sub("", unicodedata.normalize("NFKC", str(text)).lower())


@dataclass
class ColumnMapping:
    """What a mapping file adds: header -> field, kind words, amenity words."""

    columns: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    amenities: dict[str, str] = field(default_factory=dict)


_FIELDS = (*HEADERS, "lon_wgs84", "lat_wgs84", "lon_gcj02", "lat_gcj02", "lon_bd09", "lat_bd09",
           "ignore")


def load_mapping(path: str | Path | None) -> ColumnMapping:
    """Read a ``--mapping`` file: JSON or TOML with optional ``columns``, ``kinds``,
    ``amenities`` tables (a flat table is taken as ``columns``)."""
    if path is None:
        return ColumnMapping()
    p = Path(path)
    try:
        raw = p.read_text(encoding="utf-8-sig")
        data: Any = tomllib.loads(raw) if p.suffix.lower() == ".toml" else json.loads(raw)
    except (OSError, ValueError, tomllib.TOMLDecodeError) as exc:
        raise invalid("mapping", f"cannot read mapping file {p}: {exc}") from None
    if not isinstance(data, dict):
        raise invalid("mapping", "the mapping file must hold a table/object")
    sections = {"columns", "kinds", "amenities"}
    cols = data.get("columns", {} if sections & data.keys() else data)
    out = ColumnMapping({str(k): str(v) for k, v in cols.items()},
                   {fold(k): str(v) for k, v in data.get("kinds", {}).items()},
                   {fold(k): str(v) for k, v in data.get("amenities", {}).items()})
    for header, target in out.columns.items():
        if target not in _FIELDS:
            raise invalid("mapping", f"column {header!r} maps to unknown field {target!r}; "
                          f"fields: {', '.join(_FIELDS)}")
    for word, code in out.kinds.items():
        if code not in schema.KIND_CODES:
            raise invalid("mapping", f"kind word {word!r} maps to unknown kind {code!r}")
    for word, code in out.amenities.items():
        if code not in schema.AMENITY_BIT:
            raise invalid("mapping", f"amenity word {word!r} maps to unknown code {code!r}")
    return out


_LOOKUP = {fold(alias): name for name, aliases in HEADERS.items() for alias in aliases}


def field_of(header: str, mapping: ColumnMapping | None = None) -> str | None:
    """The schema field a header stands for, or None."""
    if mapping and header in mapping.columns:
        return mapping.columns[header]
    key = fold(header)
    m = _DATUM_SUFFIX.match(key)
    if m:
        axis = "lat" if m.group(1) == "lat" else "lon"
        datum = "wgs84" if m.group(2) == "cgcs2000" else m.group(2)
        return f"{axis}_{datum}"
    return _LOOKUP.get(key)


@dataclass
class Columns:
    """The recognised columns of one file."""

    by_field: dict[str, str]
    ignored: list[str]
    repeated: list[tuple[str, str]]


def recognise(headers: Iterable[str], mapping: ColumnMapping | None = None) -> Columns:
    by_field: dict[str, str] = {}
    ignored: list[str] = []
    repeated: list[tuple[str, str]] = []
    for h in headers:
        f = field_of(h, mapping)
        if f is None:
            ignored.append(h)
        elif f == "ignore":
            continue
        elif f in by_field:
            repeated.append((h, by_field[f]))
        else:
            by_field[f] = h
    return Columns(by_field, ignored, repeated)


def header_score(cells: list[str], mapping: ColumnMapping | None = None) -> int:
    """How header-like a row is: recognised distinct fields, zero without a name column."""
    fields = {field_of(c, mapping) for c in cells if c}
    fields.discard(None)
    return len(fields) if "name" in fields else 0


def kind_of(text: str, mapping: ColumnMapping | None = None) -> str | None:
    key = fold(text)
    if mapping and key in mapping.kinds:
        return mapping.kinds[key]
    return KIND_WORDS.get(key) or KIND_WORDS.get(str(text).strip())


def kind_from_name(name: str) -> str | None:
    for word, code in _KIND_IN_NAME:
        if word in name:
            return code
    return None


def amenities_of(text: str, mapping: ColumnMapping | None = None) -> tuple[str, list[str]]:
    """Free text like ``饮水、微波炉、卫生间`` -> (``"drinking_water;microwave;toilet"``,
    unrecognised words)."""
    codes: list[str] = []
    unknown: list[str] = []
    extra: Mapping[str, str] = mapping.amenities if mapping else {}
    for word in _AMENITY_SPLIT.split(unicodedata.normalize("NFKC", str(text))):
        w = word.strip().strip("等。.")
        if not w:
            continue
        key = fold(w)
        code = extra.get(key) or AMENITY_WORDS.get(key) or AMENITY_WORDS.get(w)
        if code is None:
            unknown.append(w)
        elif code not in codes:
            codes.append(code)
    return ";".join(codes), unknown
