"""Walking- and driving-navigation deep links for Amap, Baidu Maps, Tencent Maps and OpenStreetMap.

Each service gets its coordinates in its own datum: GCJ-02 for Amap and
Tencent, BD-09 (``bd09ll``) for Baidu and WGS-84 for OpenStreetMap.

For every service :func:`links` returns

``app``
    A scheme URL that opens the installed app (``amapuri://``,
    ``baidumap://``, ``qqmap://``, ``geo:``). WeChat's built-in browser
    blocks these, and they do nothing when the app is missing.
``web``
    An ``https`` URL of the service's public URI API that works in any
    browser, including inside WeChat.
``wechat_safe``
    The link to use inside WeChat: the same as ``web``.
``marker``
    An ``https`` URL that only shows the place on the service's map.

URL formats follow the services' public URI documentation: Amap
``uri.amap.com/navigation`` and ``/marker`` (lbs.amap.com/api/uri-api) and
its Android route-plan scheme ``amapuri://route/plan/`` (``t=2`` walking,
``dev=0`` meaning the coordinates are already GCJ-02); Baidu
``api.map.baidu.com/direction`` and ``/marker`` and ``baidumap://map/direction``
(lbsyun.baidu.com URI API); Tencent ``apis.map.qq.com/uri/v1/routeplan`` and
``/marker`` and ``qqmap://map/routeplan`` (lbs.qq.com URI API). Without
``origin`` Baidu's ``web`` link is still its direction page, with only the
destination (BD-09), so that Baidu plans the route from the user's position
instead of showing a marker.

Station names are untrusted. They only ever appear percent-encoded inside
query values or the ``geo:`` label (commas, harmless there, are left as is),
so they cannot add parameters or a fragment. Control and formatting
characters are dropped, whitespace is collapsed and the length is capped.
Where a service packs several pieces into one value (Amap's
``lon,lat,name``, Baidu's ``latlng:..|name:..``, Tencent's
``coord:..;title:..``, the ``geo:`` label in parentheses), the separator
characters of that format are replaced by their full-width forms in the
name, because those services decode the value before splitting it.
"""

from __future__ import annotations

import math
import unicodedata
from functools import lru_cache
from typing import Final
from urllib.parse import quote

from locator.geo import datum

__all__ = ["APP_ID", "MAX_NAME_LENGTH", "SERVICES", "links"]

APP_ID: Final = "locator"
"""Caller identification sent as ``src``/``sourceApplication``/``referer``."""

SERVICES: Final = ("amap", "baidu", "tencent", "osm")
MODES: Final = ("walk", "drive")
"""Trip modes: walking for rest stations and reading rooms, driving for driver homes."""
# Each service's own word for a mode.
_AMAP_WEB: Final = {"walk": "walk", "drive": "car"}
_AMAP_APP: Final = {"walk": "2", "drive": "0"}
_BAIDU: Final = {"walk": "walking", "drive": "driving"}
_TENCENT: Final = {"walk": "walk", "drive": "drive"}
_OSRM: Final = {"walk": "fossgis_osrm_foot", "drive": "fossgis_osrm_car"}

MAX_NAME_LENGTH: Final = 80
_DEFAULT_NAME: Final = "目的地"
_ORIGIN_NAME: Final = "我的位置"
# Baidu asks for src in the form "webapp.<company>.<app>"; it is only used for statistics.
_BAIDU_SRC: Final = f"webapp.{APP_ID}.{APP_ID}"
_FULL_WIDTH: Final = {",": "，", "|": "｜", ";": "；", "(": "（", ")": "）"}


def _clean_name(name: str) -> str:
    if not isinstance(name, str):
        msg = f"name must be a string, not {type(name).__name__}"
        raise ValueError(msg)
    # Line breaks and tabs become spaces; the rest of category C (controls,
    # bidi overrides and other format characters, unassigned code points)
    # has no place in a label and is dropped.
    kept = "".join(" " if ch.isspace() else ch for ch in name
                   if ch.isspace() or not unicodedata.category(ch).startswith("C"))
    return " ".join(kept.split())[:MAX_NAME_LENGTH] or _DEFAULT_NAME


def _in_field(name: str, separators: str) -> str:
    """``name`` with the separators of a packed value made harmless."""
    return name.translate({ord(c): _FULL_WIDTH[c] for c in separators})


def _point(lon: float, lat: float, what: str) -> tuple[float, float]:
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        msg = f"{what} coordinates must be numbers, got {lon!r}, {lat!r}"
        raise ValueError(msg) from None
    if not (math.isfinite(x) and math.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90):
        msg = f"{what} coordinates out of range: lon={lon!r}, lat={lat!r}"
        raise ValueError(msg)
    return x, y


def _num(value: float) -> str:
    # Six decimals is ~0.1 m, well inside every service's precision.
    return f"{value:.6f}"


@lru_cache(maxsize=4096)
def _quote(value: str) -> str:
    # One station's name is encoded into a dozen links; urllib's encoder is
    # slow on non-ASCII text, so each distinct value is encoded once.
    return quote(value, safe=",")


def _url(base: str, *pairs: tuple[str, str]) -> str:
    """``base?k=v&...`` with every value percent-encoded (commas kept for readability)."""
    query = "&".join(f"{key}={_quote(value)}" for key, value in pairs)
    return f"{base}?{query}"


def _amap(x: float, y: float, name: str, origin: tuple[float, float] | None,
          mode: str = "walk") -> dict[str, str]:
    """Amap links; ``x, y`` are the station in GCJ-02, ``origin`` in WGS-84."""
    label = _in_field(name, ",")
    nav: list[tuple[str, str]] = []
    app: list[tuple[str, str]] = [("sourceApplication", APP_ID)]
    if origin is not None:
        ox, oy = datum.wgs84_to_gcj02(*origin)
        nav.append(("from", f"{_num(ox)},{_num(oy)},{_ORIGIN_NAME}"))
        app += [("slat", _num(oy)), ("slon", _num(ox)), ("sname", _ORIGIN_NAME)]
    nav += [("to", f"{_num(x)},{_num(y)},{label}"), ("mode", _AMAP_WEB[mode]), ("src", APP_ID),
            ("coordinate", "gaode"), ("callnative", "1")]
    app += [("dlat", _num(y)), ("dlon", _num(x)), ("dname", name), ("dev", "0"),
            ("t", _AMAP_APP[mode])]
    web = _url("https://uri.amap.com/navigation", *nav)
    return {
        "app": _url("amapuri://route/plan/", *app),
        "web": web,
        "wechat_safe": web,
        "marker": _url("https://uri.amap.com/marker", ("position", f"{_num(x)},{_num(y)}"),
                       ("name", name), ("src", APP_ID), ("coordinate", "gaode"),
                       ("callnative", "1")),
    }


def _baidu(x: float, y: float, name: str, origin: tuple[float, float] | None,
           mode: str = "walk") -> dict[str, str]:
    """Baidu links; ``x, y`` are the station in BD-09, ``origin`` in WGS-84."""
    destination = ("destination", f"latlng:{_num(y)},{_num(x)}|name:{_in_field(name, '|')}")
    start: list[tuple[str, str]] = []
    if origin is not None:
        ox, oy = datum.wgs84_to_bd09(*origin)
        start.append(("origin", f"latlng:{_num(oy)},{_num(ox)}|name:{_ORIGIN_NAME}"))
    marker = _url("https://api.map.baidu.com/marker", ("location", f"{_num(y)},{_num(x)}"),
                  ("title", name), ("content", name), ("output", "html"),
                  ("coord_type", "bd09ll"), ("src", _BAIDU_SRC))
    web = _url("https://api.map.baidu.com/direction", *start, destination,
               ("mode", _BAIDU[mode]), ("output", "html"), ("coord_type", "bd09ll"),
               ("src", _BAIDU_SRC))
    return {
        "app": _url("baidumap://map/direction", *start, destination, ("coord_type", "bd09ll"),
                    ("mode", _BAIDU[mode]), ("src", _BAIDU_SRC)),
        "web": web,
        "wechat_safe": web,
        "marker": marker,
    }


def _tencent(x: float, y: float, name: str, origin: tuple[float, float] | None,
             mode: str = "walk") -> dict[str, str]:
    """Tencent links; ``x, y`` are the station in GCJ-02, ``origin`` in WGS-84."""
    target = [("to", name), ("tocoord", f"{_num(y)},{_num(x)}")]
    if origin is not None:
        ox, oy = datum.wgs84_to_gcj02(*origin)
        start = [("from", _ORIGIN_NAME), ("fromcoord", f"{_num(oy)},{_num(ox)}")]
        app_start = start
    else:
        start = []
        # The app scheme requires fromcoord; this keyword means "current location".
        app_start = [("from", _ORIGIN_NAME), ("fromcoord", "CurrentLocation")]
    web = _url("https://apis.map.qq.com/uri/v1/routeplan", ("type", _TENCENT[mode]), *start,
               *target,
               ("referer", APP_ID))
    title = _in_field(name, ";")
    return {
        "app": _url("qqmap://map/routeplan", ("type", _TENCENT[mode]), *app_start, *target,
                    ("referer", APP_ID)),
        "web": web,
        "wechat_safe": web,
        "marker": _url("https://apis.map.qq.com/uri/v1/marker",
                       ("marker", f"coord:{_num(y)},{_num(x)};title:{title}"),
                       ("referer", APP_ID)),
    }


def _osm(lon: float, lat: float, name: str, origin: tuple[float, float] | None,
         mode: str = "walk") -> dict[str, str]:
    here = f"{_num(lat)},{_num(lon)}"
    start = "" if origin is None else f"{_num(origin[1])},{_num(origin[0])}"
    web = _url("https://www.openstreetmap.org/directions", ("engine", _OSRM[mode]),
               ("route", f"{start};{here}"))
    label = quote(_in_field(name, "()"), safe="")
    return {
        "app": f"geo:{here}?q={here}({label})",
        "web": web,
        "wechat_safe": web,
        "marker": (_url("https://www.openstreetmap.org/", ("mlat", _num(lat)),
                        ("mlon", _num(lon))) + f"#map=18/{_num(lat)}/{_num(lon)}"),
    }


def links(lon: float, lat: float, *, name: str, origin: tuple[float, float] | None = None,
          gcj02: tuple[float, float] | None = None, bd09: tuple[float, float] | None = None,
          mode: str = "walk") -> dict[str, dict[str, str]]:
    """Deep links that start walking or driving navigation to a station.

    Parameters
    ----------
    lon, lat
        Station position in WGS-84 degrees.
    name
        Station name shown by the map service (untrusted; cleaned and
        encoded, see the module docstring).
    origin
        Optional start point ``(lon, lat)`` in WGS-84. Without it the apps
        start from the user's current location.
    gcj02, bd09
        The station already converted to those datums, when the caller has
        converted many stations at once; computed here otherwise.
    mode
        ``"walk"`` or ``"drive"`` (see :data:`MODES`).

    Returns
    -------
    dict
        ``{service: {"app": ..., "web": ..., "wechat_safe": ..., "marker": ...}}``
        for each service in :data:`SERVICES`.

    Raises
    ------
    ValueError
        If coordinates are not finite numbers within range, or ``name`` is
        not a string.
    """
    x, y = _point(lon, lat, "station")
    start = None
    if origin is not None:
        if len(origin) != 2:
            msg = f"origin must be a (lon, lat) pair, got {origin!r}"
            raise ValueError(msg)
        start = _point(origin[0], origin[1], "origin")
    if mode not in MODES:
        msg = f"mode must be one of {', '.join(MODES)}, got {mode!r}"
        raise ValueError(msg)
    label = _clean_name(name)
    gx, gy = gcj02 if gcj02 is not None else datum.wgs84_to_gcj02(x, y)
    bx, by = bd09 if bd09 is not None else datum.wgs84_to_bd09(x, y)
    return {
        "amap": _amap(gx, gy, label, start, mode),
        "baidu": _baidu(bx, by, label, start, mode),
        "tencent": _tencent(gx, gy, label, start, mode),
        "osm": _osm(x, y, label, start, mode),
    }
