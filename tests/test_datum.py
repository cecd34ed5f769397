"""WGS-84 / GCJ-02 / BD-09 conversions: round trips, published vectors, real data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pyproj import Geod

from locator.geo import datum

GEOD = Geod(ellps="WGS84")
STATIONS = (Path(__file__).resolve().parents[1].parent
            / "shared/data/stations/zhengzhou_rest_stations_82.geojson")


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distance in metres, element-wise."""
    a = [np.broadcast_to(np.asarray(v, dtype=float), np.broadcast(lon1, lat1, lon2, lat2).shape)
         for v in (lon1, lat1, lon2, lat2)]
    return np.asarray(GEOD.inv(*a)[2])


@pytest.fixture(scope="module")
def henan_points() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20240601)
    west, south, east, north = datum.HENAN_BBOX
    n = 20_000
    return rng.uniform(west, east, n), rng.uniform(south, north, n)


# --- (a) round trips -----------------------------------------------------------------------

def test_gcj02_round_trip_across_henan(henan_points):
    lon, lat = henan_points
    back = datum.gcj02_to_wgs84(*datum.wgs84_to_gcj02(lon, lat))
    assert metres(lon, lat, *back).max() < 0.5
    # The iterative inverse is far better than the half-metre requirement.
    assert metres(lon, lat, *back).max() < 1e-3


def test_bd09_round_trip_across_henan(henan_points):
    lon, lat = henan_points
    back = datum.bd09_to_wgs84(*datum.wgs84_to_bd09(lon, lat))
    assert metres(lon, lat, *back).max() < 0.5
    assert metres(lon, lat, *back).max() < 1e-3


def test_inverse_converges_to_1e9_degrees(henan_points):
    lon, lat = henan_points
    gx, gy = datum.wgs84_to_gcj02(lon, lat)
    wx, wy = datum.gcj02_to_wgs84(gx, gy)
    fx, fy = datum.wgs84_to_gcj02(wx, wy)
    assert np.abs(fx - gx).max() < 1e-9 and np.abs(fy - gy).max() < 1e-9
    bx, by = datum.gcj02_to_bd09(gx, gy)
    cx, cy = datum.gcj02_to_bd09(*datum.bd09_to_gcj02(bx, by))
    assert np.abs(cx - bx).max() < 1e-9 and np.abs(cy - by).max() < 1e-9


# --- (b) vectors published by independent implementations and vendors ----------------------

# (wgs lon, wgs lat, gcj lon, gcj lat)
WGS_TO_GCJ = [
    # googollee/eviltransform, python/test.py and go/transform_test.go ("shanghai",
    # "shenzhen", "beijing"); the files list them as (lat, lng) pairs.
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),
    # wandergis/coordtransform, test/app.js: wgs84togcj02(116.404, 39.915).
    (116.404, 39.915, 116.41024449916938, 39.91640428150164),
    # Amap web-service coordinate conversion docs (lbs.amap.com/api/webservice/guide/api/convert,
    # example request locations=116.481499,39.990475|116.481499,39.990375&coordsys=gps).
    (116.481499, 39.990475, 116.487585177952, 39.991754014757),
    (116.481499, 39.990375, 116.487585177952, 39.991653917101),
]

# (gcj lon, gcj lat, bd lon, bd lat)
GCJ_TO_BD = [
    # wandergis/coordtransform, test/app.js: gcj02tobd09(116.404, 39.915).
    (116.404, 39.915, 116.41036949371029, 39.92133699351021),
    # wandergis/coordtransform, test/app.js: bd09togcj02(116.404, 39.915) read backwards.
    (116.39762729119315, 39.90865673957631, 116.404, 39.915),
    # Alibaba Cloud address purification TransferCoord docs
    # (help.aliyun.com/zh/address-purification/.../coordinate-system-conversion),
    # sample response: GCJ02 120.026268,30.279164 -> BD09 120.032768,30.285238.
    (120.026268, 30.279164, 120.032768, 30.285238),
]
# Not used: the two BD-09 -> WGS-84 pairs in googollee/eviltransform python/test.py
# (bd 29.199786,120.019809 -> wgs 29.196131605295484,120.00877901149691 and
# bd 29.210504,120.036455 -> wgs 29.206795749156136,120.0253853970846) are 10.5 m and
# 41 m from what the published formulas give, eviltransform's own bd2wgs included; they
# are not outputs of those formulas, so they cannot check this implementation.


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), WGS_TO_GCJ)
def test_published_wgs_gcj_vectors(wlon, wlat, glon, glat):
    assert metres(*datum.wgs84_to_gcj02(wlon, wlat), glon, glat) < 0.5
    assert metres(*datum.gcj02_to_wgs84(glon, glat), wlon, wlat) < 0.5


@pytest.mark.parametrize(("glon", "glat", "blon", "blat"), GCJ_TO_BD)
def test_published_gcj_bd_vectors(glon, glat, blon, blat):
    assert metres(*datum.gcj02_to_bd09(glon, glat), blon, blat) < 0.5
    assert metres(*datum.bd09_to_gcj02(blon, blat), glon, glat) < 0.5


def test_single_step_inverses_published_by_others_are_close_but_not_exact():
    # wandergis/coordtransform test/app.js gcj02towgs84(116.404, 39.915) and the
    # Alibaba Cloud TransferCoord sample (GCJ02 120.026268,30.279164 -> WGS84
    # 120.021519,30.281543) both use the one-step approximation "g - shift(g)".
    # Mapping their answer forward again misses the input by up to ~1.75 m, so
    # they are not exact inverses; ours reproduces the input exactly.
    cases = [((116.404, 39.915), (116.39775550083061, 39.91359571849836)),
             ((120.026268, 30.279164), (120.021519, 30.281543))]
    for gcj, published in cases:
        ours = datum.gcj02_to_wgs84(*gcj)
        assert metres(*datum.wgs84_to_gcj02(*ours), *gcj) < 1e-3
        assert metres(*ours, *published) < 2.5


# --- (c) independent real data --------------------------------------------------------------

def test_agrees_with_82_real_zhengzhou_stations():
    if not STATIONS.is_file():
        pytest.skip(f"reference stations not available at {STATIONS}")
    features = json.loads(STATIONS.read_text(encoding="utf-8"))["features"]
    assert len(features) == 82
    wlon = np.array([f["geometry"]["coordinates"][0] for f in features], dtype=float)
    wlat = np.array([f["geometry"]["coordinates"][1] for f in features], dtype=float)
    glon = np.array([f["properties"]["lng_gcj02"] for f in features], dtype=float)
    glat = np.array([f["properties"]["lat_gcj02"] for f in features], dtype=float)

    forward = metres(*datum.wgs84_to_gcj02(wlon, wlat), glon, glat)
    backward = metres(*datum.gcj02_to_wgs84(glon, glat), wlon, wlat)
    assert forward.max() < 1.0, f"worst forward mismatch {forward.max():.3f} m"
    assert backward.max() < 1.0, f"worst inverse mismatch {backward.max():.3f} m"


# --- (d) sanity, shapes and errors -----------------------------------------------------------

def test_offsets_in_henan_are_hundreds_of_metres(henan_points):
    lon, lat = henan_points
    shift = metres(lon, lat, *datum.wgs84_to_gcj02(lon, lat))
    assert shift.min() > 300 and shift.max() < 700
    bd_shift = metres(*datum.wgs84_to_gcj02(lon, lat), *datum.wgs84_to_bd09(lon, lat))
    assert bd_shift.min() > 500 and bd_shift.max() < 1500


@pytest.mark.parametrize(("lon", "lat"), [(2.3522, 48.8566), (-74.006, 40.7128),
                                         (151.2093, -33.8688), (139.6917, 56.5)])
def test_points_outside_china_are_unchanged(lon, lat):
    assert datum.in_china(lon, lat) is False
    for func in (datum.wgs84_to_gcj02, datum.gcj02_to_wgs84, datum.wgs84_to_bd09,
                 datum.bd09_to_wgs84, datum.gcj02_to_bd09, datum.bd09_to_gcj02):
        assert func(lon, lat) == (lon, lat)


def test_scalar_and_array_shapes():
    x, y = datum.wgs84_to_gcj02(113.6254, 34.7466)
    assert type(x) is float and type(y) is float
    ax, ay = datum.wgs84_to_gcj02(np.array([113.6254]), np.array([34.7466]))
    assert ax.shape == (1,) and ax.dtype == np.float64
    assert ax[0] == x and ay[0] == y
    grid = np.full((2, 3), 113.6254), np.full((2, 3), 34.7466)
    for func in (datum.wgs84_to_gcj02, datum.gcj02_to_wgs84, datum.wgs84_to_bd09,
                 datum.bd09_to_wgs84):
        gx, gy = func(*grid)
        assert gx.shape == gy.shape == (2, 3)
    bx, by = datum.wgs84_to_bd09([113.0, 114.0], 34.5)  # lists broadcast against scalars
    assert bx.shape == by.shape == (2,)
    ex, ey = datum.gcj02_to_wgs84(np.array([]), np.array([]))
    assert ex.shape == ey.shape == (0,)


def test_to_and_from_wgs84_dispatch():
    lon, lat = 113.6254, 34.7466
    assert datum.from_wgs84(lon, lat, "gcj02") == datum.wgs84_to_gcj02(lon, lat)
    assert datum.from_wgs84(lon, lat, "bd09") == datum.wgs84_to_bd09(lon, lat)
    assert datum.from_wgs84(lon, lat, "wgs84") == (lon, lat)
    assert datum.from_wgs84(lon, lat, "cgcs2000") == (lon, lat)
    assert datum.to_wgs84(*datum.wgs84_to_bd09(lon, lat), "bd09") == pytest.approx((lon, lat),
                                                                                    abs=1e-9)
    assert datum.to_wgs84(lon, lat, "CGCS2000") == (lon, lat)
    assert datum.DATUMS == ("wgs84", "gcj02", "bd09")


@pytest.mark.parametrize("bad", ["epsg:4326", "gcj-02", "", "bd09mc", None, 4326])
def test_bad_crs_raises(bad):
    with pytest.raises(ValueError, match="unsupported datum"):
        datum.to_wgs84(113.0, 34.0, bad)
    with pytest.raises(ValueError, match="unsupported datum"):
        datum.from_wgs84(113.0, 34.0, bad)


def test_metric_crs_distortion_over_henan_is_small():
    # EPSG:4547's official zone is 112.5E-115.5E; Henan spills ~2 degrees west of
    # it, where Gauss-Kruger scale error grows to ~1.5 per mille. That is fine
    # for walking distances, and this pins it down.
    from pyproj import Proj

    proj = Proj(datum.METRIC_CRS)
    west, south, east, north = datum.HENAN_BBOX
    lon, lat = np.meshgrid(np.linspace(west, east, 7), np.linspace(south, north, 7))
    factors = proj.get_factors(lon.ravel(), lat.ravel())
    scale = np.asarray(factors.meridional_scale)
    assert np.all(np.isfinite(scale))
    assert np.abs(scale - 1.0).max() < 2e-3
