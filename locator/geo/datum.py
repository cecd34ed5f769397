"""Conversions between WGS-84 and the Chinese web-map datums GCJ-02 and BD-09.

Chinese map services publish coordinates in deliberately offset systems:

* **GCJ-02** ("Mars coordinates") is used by Amap (Gaode), Tencent Maps and
  most Chinese tile servers. It shifts WGS-84 positions by a smooth,
  non-linear function of longitude and latitude, a few hundred metres in
  Henan.
* **BD-09** is Baidu's further transform of GCJ-02.

The GCJ-02 offset is only applied inside a rough rectangle around China,
``lon 72.004..137.8347, lat 0.8293..55.8271`` (:data:`CHINA_BBOX`). Outside
it GCJ-02 coordinates are identical to WGS-84, and so are BD-09 ones. The
rectangle is the conventional test used by published implementations; it
also contains parts of neighbouring countries, where real Chinese services
may behave differently.

CGCS2000, China's official geodetic datum, differs from WGS-84 by a few
centimetres, so ``"cgcs2000"`` is accepted as an alias of ``"wgs84"``.

Every public conversion accepts scalars or array-likes (broadcast against
each other) and returns a ``(lon, lat)`` pair: Python floats for scalar
input, otherwise float64 arrays of the broadcast shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "CHINA_BBOX",
    "DATUMS",
    "HENAN_BBOX",
    "METRIC_CRS",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "normalize_crs",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

DATUMS: Final = ("wgs84", "gcj02", "bd09")
"""Datums understood by :func:`to_wgs84` and :func:`from_wgs84`."""

METRIC_CRS: Final = "EPSG:4547"
"""CGCS2000 / 3-degree Gauss-Kruger CM 114E, the metric CRS for Henan.

Its official zone is 112.5E-115.5E; over the whole province (110.35E-116.65E)
the scale error stays below 0.15 %, which is negligible for walking distances.
"""

HENAN_BBOX: Final = (110.35, 31.38, 116.65, 36.37)
"""Henan province as ``(west, south, east, north)`` in WGS-84 degrees."""

CHINA_BBOX: Final = (72.004, 0.8293, 137.8347, 55.8271)
"""``(west, south, east, north)`` of the rectangle where GCJ-02 is offset."""

# Aliases that are the same as WGS-84 at the sub-metre level this module works at.
_WGS84_ALIASES: Final = frozenset({"wgs84", "cgcs2000"})

# GCJ-02 expresses its offset in metres on the Krasovsky 1940 ellipsoid.
_KRASOVSKY_A: Final = 6378245.0
_KRASOVSKY_E2: Final = 0.00669342162296594323

# BD-09 perturbs the polar form of a GCJ-02 coordinate with this angular rate.
_BD_RATE: Final = np.pi * 3000.0 / 180.0
_BD_SHIFT_LON: Final = 0.0065
_BD_SHIFT_LAT: Final = 0.006

# Iterative inverses stop once the forward image is this close to the target;
# 1e-10 degrees is about 0.01 mm, far below any map's resolution.
_INVERSE_TOL_DEG: Final = 1e-10
_INVERSE_MAX_STEPS: Final = 50

_Arr = NDArray[np.float64]


def _prepare(lon: ArrayLike, lat: ArrayLike) -> tuple[_Arr, _Arr, bool]:
    """Broadcast inputs to float64 arrays and note whether both were scalars."""
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=np.float64),
                               np.asarray(lat, dtype=np.float64))
    # broadcast_arrays returns read-only views; callers may write into results.
    return np.array(x, dtype=np.float64), np.array(y, dtype=np.float64), scalar


def _finish(x: _Arr, y: _Arr, scalar: bool) -> tuple[Any, Any]:
    if scalar:
        return float(x), float(y)
    return x, y


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_] | bool:
    """Whether points fall inside the rectangle where GCJ-02 applies an offset.

    Parameters
    ----------
    lon, lat
        Longitude and latitude in degrees (scalars or array-likes).

    Returns
    -------
    bool or numpy.ndarray of bool
        ``True`` inside :data:`CHINA_BBOX` (edges included).
    """
    x, y, scalar = _prepare(lon, lat)
    west, south, east, north = CHINA_BBOX
    inside = (x >= west) & (x <= east) & (y >= south) & (y <= north)
    return bool(inside) if scalar else inside


def _gcj_shift(x: _Arr, y: _Arr) -> tuple[_Arr, _Arr]:
    """GCJ-02 minus WGS-84 in degrees, evaluated at WGS-84 positions ``(x, y)``.

    The published obfuscation is a fixed polynomial-plus-sines surface in
    metres around the anchor (105E, 35N); it is turned into degrees with
    the meridian and parallel radii of the Krasovsky ellipsoid.
    """
    u = x - 105.0
    v = y - 35.0
    two_thirds = 2.0 / 3.0
    ripple = two_thirds * (20.0 * np.sin(6.0 * np.pi * u) + 20.0 * np.sin(2.0 * np.pi * u))

    north_m = (-100.0 + 2.0 * u + 3.0 * v + 0.2 * v * v + 0.1 * u * v
               + 0.2 * np.sqrt(np.abs(u)) + ripple
               + two_thirds * (20.0 * np.sin(np.pi * v) + 40.0 * np.sin(np.pi * v / 3.0))
               + two_thirds * (160.0 * np.sin(np.pi * v / 12.0)
                               + 320.0 * np.sin(np.pi * v / 30.0)))
    east_m = (300.0 + u + 2.0 * v + 0.1 * u * u + 0.1 * u * v
              + 0.1 * np.sqrt(np.abs(u)) + ripple
              + two_thirds * (20.0 * np.sin(np.pi * u) + 40.0 * np.sin(np.pi * u / 3.0))
              + two_thirds * (150.0 * np.sin(np.pi * u / 12.0)
                              + 300.0 * np.sin(np.pi * u / 30.0)))

    phi = np.radians(y)
    w = 1.0 - _KRASOVSKY_E2 * np.sin(phi) ** 2
    meridian_radius = _KRASOVSKY_A * (1.0 - _KRASOVSKY_E2) / (w * np.sqrt(w))
    parallel_radius = _KRASOVSKY_A / np.sqrt(w) * np.cos(phi)
    dlat = np.degrees(north_m / meridian_radius)
    dlon = np.degrees(east_m / parallel_radius)

    outside = ~np.asarray(in_china(x, y))
    dlon = np.where(outside, 0.0, dlon)
    dlat = np.where(outside, 0.0, dlat)
    return dlon, dlat


def _wgs_to_gcj(x: _Arr, y: _Arr) -> tuple[_Arr, _Arr]:
    dlon, dlat = _gcj_shift(x, y)
    return x + dlon, y + dlat


def _invert(forward: Callable[[_Arr, _Arr], tuple[_Arr, _Arr]], tx: _Arr, ty: _Arr,
            x: _Arr, y: _Arr) -> tuple[_Arr, _Arr]:
    """Solve ``forward(x, y) == (tx, ty)`` starting from the guess ``(x, y)``.

    Both Chinese transforms are the identity plus a perturbation whose
    gradient is ~1e-3, so the fixed-point step ``p <- p - (forward(p) - t)``
    contracts by about that factor per step: two or three steps reach the
    tolerance.
    """
    for _ in range(_INVERSE_MAX_STEPS):
        fx, fy = forward(x, y)
        ex, ey = fx - tx, fy - ty
        x, y = x - ex, y - ey
        worst = max(np.nanmax(np.abs(ex), initial=0.0), np.nanmax(np.abs(ey), initial=0.0))
        if worst < _INVERSE_TOL_DEG:
            break
    return x, y


def _gcj_to_wgs(gx: _Arr, gy: _Arr) -> tuple[_Arr, _Arr]:
    # The widely copied one-step inverse "g - shift(g)" is the first guess
    # only: on its own it is off by up to ~3 m in Henan, ~5 m across China.
    dlon, dlat = _gcj_shift(gx, gy)
    return _invert(_wgs_to_gcj, gx, gy, gx - dlon, gy - dlat)


def _gcj_to_bd(x: _Arr, y: _Arr) -> tuple[_Arr, _Arr]:
    radius = np.hypot(x, y) + 2e-5 * np.sin(y * _BD_RATE)
    angle = np.arctan2(y, x) + 3e-6 * np.cos(x * _BD_RATE)
    bx = radius * np.cos(angle) + _BD_SHIFT_LON
    by = radius * np.sin(angle) + _BD_SHIFT_LAT
    outside = ~np.asarray(in_china(x, y))
    return np.where(outside, x, bx), np.where(outside, y, by)


def _bd_to_gcj(bx: _Arr, by: _Arr) -> tuple[_Arr, _Arr]:
    # The usual closed form subtracts the perturbations evaluated at the BD-09
    # point instead of the GCJ-02 one, which leaves up to ~0.2 m of error;
    # it serves as the starting guess.
    u, v = bx - _BD_SHIFT_LON, by - _BD_SHIFT_LAT
    radius = np.hypot(u, v) - 2e-5 * np.sin(v * _BD_RATE)
    angle = np.arctan2(v, u) - 3e-6 * np.cos(u * _BD_RATE)
    return _invert(_gcj_to_bd, bx, by, radius * np.cos(angle), radius * np.sin(angle))


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Convert WGS-84 coordinates to GCJ-02.

    Parameters
    ----------
    lon, lat
        WGS-84 longitude and latitude in degrees; scalars or array-likes.

    Returns
    -------
    tuple
        ``(lon, lat)`` in GCJ-02: floats for scalar input, else float64 arrays.
        Points outside :data:`CHINA_BBOX` are returned unchanged.
    """
    x, y, scalar = _prepare(lon, lat)
    return _finish(*_wgs_to_gcj(x, y), scalar)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Convert GCJ-02 coordinates back to WGS-84.

    GCJ-02 has no closed-form inverse, so the forward transform is inverted
    by fixed-point iteration until it reproduces the input to better than
    1e-10 degrees (about 0.01 mm).

    Parameters
    ----------
    lon, lat
        GCJ-02 longitude and latitude in degrees; scalars or array-likes.

    Returns
    -------
    tuple
        ``(lon, lat)`` in WGS-84: floats for scalar input, else float64 arrays.
        Points outside :data:`CHINA_BBOX` are returned unchanged.
    """
    x, y, scalar = _prepare(lon, lat)
    return _finish(*_gcj_to_wgs(x, y), scalar)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Convert GCJ-02 coordinates to Baidu's BD-09 (``bd09ll``).

    Parameters
    ----------
    lon, lat
        GCJ-02 longitude and latitude in degrees; scalars or array-likes.

    Returns
    -------
    tuple
        ``(lon, lat)`` in BD-09. Outside :data:`CHINA_BBOX` points are
        returned unchanged, matching the convention that the Chinese offsets
        apply only within China.
    """
    x, y, scalar = _prepare(lon, lat)
    return _finish(*_gcj_to_bd(x, y), scalar)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Convert BD-09 coordinates to GCJ-02 (iterative exact inverse).

    Parameters
    ----------
    lon, lat
        BD-09 longitude and latitude in degrees; scalars or array-likes.

    Returns
    -------
    tuple
        ``(lon, lat)`` in GCJ-02, accurate to better than 1e-10 degrees with
        respect to :func:`gcj02_to_bd09`.
    """
    x, y, scalar = _prepare(lon, lat)
    return _finish(*_bd_to_gcj(x, y), scalar)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Convert WGS-84 coordinates to BD-09 (via GCJ-02).

    See Also
    --------
    wgs84_to_gcj02, gcj02_to_bd09
    """
    x, y, scalar = _prepare(lon, lat)
    return _finish(*_gcj_to_bd(*_wgs_to_gcj(x, y)), scalar)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Convert BD-09 coordinates to WGS-84 (via GCJ-02).

    See Also
    --------
    bd09_to_gcj02, gcj02_to_wgs84
    """
    x, y, scalar = _prepare(lon, lat)
    return _finish(*_gcj_to_wgs(*_bd_to_gcj(x, y)), scalar)


def normalize_crs(crs: str) -> str:
    """Canonical datum name for ``crs``.

    Parameters
    ----------
    crs
        One of :data:`DATUMS` or ``"cgcs2000"``; case and surrounding
        whitespace are ignored.

    Returns
    -------
    str
        ``"wgs84"``, ``"gcj02"`` or ``"bd09"`` (``"cgcs2000"`` maps to
        ``"wgs84"``).

    Raises
    ------
    ValueError
        If ``crs`` is not a supported datum name.
    """
    key = crs.strip().lower() if isinstance(crs, str) else crs
    if key in _WGS84_ALIASES:
        return "wgs84"
    if key in DATUMS:
        return str(key)
    msg = f"unsupported datum {crs!r}; expected one of: {', '.join((*DATUMS, 'cgcs2000'))}"
    raise ValueError(msg)


def to_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str) -> tuple[Any, Any]:
    """Convert coordinates given in ``crs`` to WGS-84.

    Parameters
    ----------
    lon, lat
        Coordinates in degrees; scalars or array-likes.
    crs
        Source datum: ``"wgs84"``, ``"cgcs2000"``, ``"gcj02"`` or ``"bd09"``.

    Returns
    -------
    tuple
        ``(lon, lat)`` in WGS-84 (floats for scalar input, else arrays).

    Raises
    ------
    ValueError
        If ``crs`` is not supported.
    """
    name = normalize_crs(crs)
    if name == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if name == "bd09":
        return bd09_to_wgs84(lon, lat)
    x, y, scalar = _prepare(lon, lat)
    return _finish(x, y, scalar)


def from_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str) -> tuple[Any, Any]:
    """Convert WGS-84 coordinates to ``crs``.

    Parameters
    ----------
    lon, lat
        WGS-84 coordinates in degrees; scalars or array-likes.
    crs
        Target datum: ``"wgs84"``, ``"cgcs2000"``, ``"gcj02"`` or ``"bd09"``.

    Returns
    -------
    tuple
        ``(lon, lat)`` in the target datum (floats for scalar input).

    Raises
    ------
    ValueError
        If ``crs`` is not supported.
    """
    name = normalize_crs(crs)
    if name == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if name == "bd09":
        return wgs84_to_bd09(lon, lat)
    x, y, scalar = _prepare(lon, lat)
    return _finish(x, y, scalar)
