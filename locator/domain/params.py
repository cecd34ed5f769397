"""Parsing and validation of query parameters, shared by the API and the CLI.

Each parser takes the raw value (a string, or ``None`` when absent) and either
returns a clean Python value or raises a 400 :class:`LocatorError` that names
the parameter and says what was expected.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from locator.domain import schema
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


def integer(field: str, raw: str | None, *, lo: int, hi: int, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise invalid(field, f"{field} must be a whole number, got {raw!r}") from None
    if not lo <= value <= hi:
        raise invalid(field, f"{field} must be between {lo} and {hi}, got {value}")
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
    out: list[str] = []
    for item in raw:
        for part in item.split(","):
            part = part.strip()
            if not part:
                continue
            if part not in schema.KIND_CODES:
                raise invalid("kind", f"unknown kind {part!r}; expected one of: "
                              f"{', '.join(schema.KIND_CODES)}")
            out.append(part)
    return list(dict.fromkeys(out))


def amenities(raw: Sequence[str]) -> int:
    """Repeated or comma-separated amenity codes -> the required bit mask."""
    codes = [p.strip() for item in raw for p in item.split(",") if p.strip()]
    return schema.parse_amenities(codes, field="amenity")


def crs(raw: str | None, *, field: str = "crs") -> str:
    return choice(field, raw.lower() if raw else raw, datum.DATUMS, default="wgs84")


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
    if x0 > x1 or y0 > y1:
        raise invalid(field, f"{field} minimum must not exceed maximum")
    return (x0, y0, x1, y1)


def text(field: str, raw: str | None, *, max_chars: int) -> str:
    """A required free-text value, stripped, at most ``max_chars`` characters."""
    value = (raw or "").strip()
    if not value:
        raise invalid(field, f"{field} is required and must not be blank")
    if len(value) > max_chars:
        raise invalid(field, f"{field} must be at most {max_chars} characters, got {len(value)}")
    return value
