"""Deterministic generator of the synthetic demo dataset (演示数据).

Stations are spread over Henan's 157 counties in proportion to 2020 census
population when a population table is given (otherwise to county area), and
placed inside the real county polygons: most near the county seat, the rest
anywhere in the county. Every record is flagged ``demo`` and its name and
address say so, so that nobody mistakes a generated station for a real one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from locator.domain.schema import AMENITY_CODES
from locator.geo import regions
from locator.geo.datum import METRIC_CRS

DEFAULT_COUNTS = {"rest_station": 12_000, "reading_room": 2_100, "driver_home": 150}
SOURCE = "locator demo-data (synthetic 演示数据)"
DEMO_SUFFIX = "（演示）"
DEMO_PHONE_BLOCK = "0000"
"""The first block of every demo phone's local number: unassigned in China's numbering plan."""

_PREFIX = {"rest_station": "rs", "reading_room": "rr", "driver_home": "dh"}
_AREA_CODE = {
    "410100": "0371", "410200": "0371", "410300": "0379", "410400": "0375", "410500": "0372",
    "410600": "0392", "410700": "0373", "410800": "0391", "410900": "0393", "411000": "0374",
    "411100": "0395", "411200": "0398", "411300": "0377", "411400": "0370", "411500": "0376",
    "411600": "0394", "411700": "0396", "419001": "0391",
}
_STREETS = np.array([
    "人民路", "建设路", "解放路", "中山路", "文化路", "工业路", "新华路", "车站路", "迎宾大道",
    "黄河路", "长江路", "嵩山路", "和平路", "胜利路", "光明路", "朝阳路", "健康路", "商城路",
])
_HOSTS = {
    "rest_station": np.array(["环卫所", "社区服务中心", "银行网点", "加油站", "邮政网点",
                              "供电营业厅", "党群服务中心", "公园管理处", "快递站点"]),
    "reading_room": np.array(["总工会", "职工服务中心", "产业园区", "医院工会", "学校工会"]),
    "driver_home": np.array(["物流园", "高速服务区", "货运站", "加油站"]),
}
_LABEL = {"rest_station": "户外劳动者爱心驿站", "reading_room": "职工书屋",
          "driver_home": "司机之家"}

# (opening_hours, weight) per kind; None stands for hours nobody has recorded.
_HOURS = {
    "rest_station": [("24/7", 0.40), ("Mo-Su 07:00-20:00", 0.28),
                     ("Mo-Fr 08:00-18:00; Sa,Su 09:00-17:00", 0.14),
                     ("Mo-Fr 08:30-17:30; PH off", 0.06), (None, 0.12)],
    "reading_room": [("Mo-Fr 09:00-17:00; PH off", 0.45), ("Tu-Su 09:00-20:00; PH off", 0.35),
                     ("Mo-Su 08:00-21:00", 0.10), (None, 0.10)],
    "driver_home": [("24/7", 0.70), ("Mo-Su 06:00-23:00", 0.25), (None, 0.05)],
}
# Probability of each amenity per kind, in AMENITY_CODES order.
_AMENITY_P = {
    "rest_station": [0.95, 0.70, 0.75, 0.55, 0.95, 0.90, 0.85, 0.60, 0.40, 0.15, 0.50, 0.30,
                     0, 0, 0, 0, 0, 0, 0],
    "reading_room": [0.90, 0.60, 0.20, 0.80, 0.90, 0.70, 0.50, 0.90, 0.80, 0.30, 0.10, 0,
                     0, 0, 0, 0, 0, 0.98, 0.98],
    "driver_home": [0.98, 0.90, 0.60, 0.98, 0.90, 0.90, 0.80, 0.70, 0.70, 0.20, 0.10, 0.60,
                    0.95, 0.85, 0.70, 0.80, 0.40, 0, 0],
}


@dataclass(frozen=True)
class DemoOptions:
    seed: int = 20230501
    counts: tuple[tuple[str, int], ...] = tuple(DEFAULT_COUNTS.items())
    near_seat_share: float = 0.65


def allocate(weights: np.ndarray, total: int, *, minimum: int = 0) -> np.ndarray:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    base = np.full(len(w), minimum, dtype=int)
    rest = total - base.sum()
    if rest < 0:
        msg = f"total {total} is below minimum {minimum} for {len(w)} units"
        raise ValueError(msg)
    share = w / w.sum() * rest
    out = np.floor(share).astype(int)
    order = np.argsort(-(share - out), kind="stable")
    out[order[: rest - out.sum()]] += 1
    return base + out


def _sample_in(poly: Any, n: int, seat: tuple[float, float], spread_m: float,
               near_share: float, rng: np.random.Generator) -> np.ndarray:
    """``n`` points (metric CRS) inside ``poly``: a share around the seat, the rest uniform."""
    minx, miny, maxx, maxy = poly.bounds
    shapely.prepare(poly)
    out = np.empty((0, 2))
    n_near = round(n * near_share)
    while len(out) < n:
        need = n - len(out)
        near = min(need, max(n_near - len(out), 0))
        batch = max(4 * need, 64)
        cand_u = np.column_stack([rng.uniform(minx, maxx, batch), rng.uniform(miny, maxy, batch)])
        cand_n = rng.normal(seat, spread_m, size=(batch, 2))
        cand = np.vstack([cand_n[: 4 * near], cand_u]) if near else cand_u
        inside = shapely.contains_xy(poly, cand[:, 0], cand[:, 1])
        take_n = cand[: 4 * near][inside[: 4 * near]][:near] if near else np.empty((0, 2))
        take_u = cand[4 * near:][inside[4 * near:]][: need - len(take_n)]
        out = np.vstack([out, take_n, take_u])
    return out[:n]


def generate(
    boundaries_dir: str | Path,
    *,
    population_csv: str | Path | None = None,
    options: DemoOptions | None = None,
) -> gpd.GeoDataFrame:
    """Build the synthetic dataset; the same inputs and seed give the same rows."""
    opts = options or DemoOptions()
    rng = np.random.default_rng(opts.seed)
    cty = regions.counties(boundaries_dir).to_crs(METRIC_CRS).reset_index(drop=True)
    if population_csv is not None and Path(population_csv).is_file():
        pop = pd.read_csv(population_csv, dtype={"adcode": str})
        weights = (cty["county_adcode"].map(pop.set_index("adcode")["pop2020"])
                   .fillna(0).to_numpy(float))
        if weights.sum() <= 0:
            msg = f"{population_csv}: no population matched the county adcodes"
            raise ValueError(msg)
    else:
        weights = cty.geometry.area.to_numpy()
    seats = gpd.GeoSeries(gpd.points_from_xy(cty["label_lon"], cty["label_lat"]),
                          crs="EPSG:4326").to_crs(METRIC_CRS)
    area_km2 = cty.geometry.area.to_numpy() / 1e6
    frames = []
    for kind, total in opts.counts:
        per_county = allocate(weights, total, minimum=1 if total >= len(cty) else 0)
        xy_parts, county_idx = [], []
        for i, n in enumerate(per_county):
            if n == 0:
                continue
            # Bigger counties have their stations spread over a wider town area.
            spread = float(np.clip(np.sqrt(area_km2[i]) * 120, 2500, 9000))
            share = opts.near_seat_share if kind != "driver_home" else 0.2
            xy_parts.append(_sample_in(cty.geometry.iloc[i], int(n),
                                       (seats.x.iloc[i], seats.y.iloc[i]), spread, share, rng))
            county_idx.append(np.full(int(n), i))
        xy = np.vstack(xy_parts)
        ci = np.concatenate(county_idx)
        frames.append(_attributes(kind, xy, ci, cty, rng))
    gdf = pd.concat(frames, ignore_index=True)
    out = gpd.GeoDataFrame(gdf.drop(columns=["x", "y"]),
                           geometry=gpd.points_from_xy(gdf["x"], gdf["y"]), crs=METRIC_CRS)
    out = out.to_crs("EPSG:4326")
    # Round to ~1 cm so that the file is byte-stable across platforms.
    out.geometry = shapely.set_precision(out.geometry.array, 1e-7)
    return out


def _attributes(kind: str, xy: np.ndarray, ci: np.ndarray, cty: gpd.GeoDataFrame,
                rng: np.random.Generator) -> pd.DataFrame:
    n = len(xy)
    adcode = cty["county_adcode"].to_numpy()[ci]
    county = cty["county"].to_numpy()[ci]
    city = cty["city"].to_numpy()[ci]
    city_code = cty["city_adcode"].to_numpy()[ci]
    # Sequence number within each county keeps ids stable when other counties change.
    seq = pd.Series(adcode).groupby(adcode).cumcount().to_numpy() + 1
    ids = [f"demo-{_PREFIX[kind]}-{a}-{s:04d}" for a, s in zip(adcode, seq, strict=True)]
    street = _STREETS[rng.integers(0, len(_STREETS), n)]
    host = _HOSTS[kind][rng.integers(0, len(_HOSTS[kind]), n)]
    number = rng.integers(1, 400, n)
    names = [f"{c}{s}{h}{_LABEL[kind]}{DEMO_SUFFIX}" for c, s, h in zip(county, street, host,
                                                                     strict=True)]
    addresses = [f"河南省{ct}{c}{s}{num}号（演示地址）"
                 for ct, c, s, num in zip(city, county, street, number, strict=True)]
    choices, weights = zip(*_HOURS[kind], strict=True)
    hours_idx = rng.choice(len(choices), size=n, p=np.asarray(weights) / sum(weights))
    opening = np.asarray(choices, dtype=object)[hours_idx]
    has = rng.random((n, len(AMENITY_CODES))) < np.asarray(_AMENITY_P[kind])
    codes = np.asarray(AMENITY_CODES)
    amenities = [";".join(codes[row]) for row in has]
    area = np.asarray([_AREA_CODE.get(c, "0371") for c in city_code])
    # Local numbers in China never start with 0, so "0371-0000-1234" is visibly
    # made up and reaches nobody if someone dials it anyway.
    phones = [f"{a}-{DEMO_PHONE_BLOCK}-{p:04d}" for a, p in zip(area, rng.integers(0, 10_000, n),
                                                              strict=True)]
    status = rng.choice(["open", "temporarily_closed", "closed"], size=n, p=[0.93, 0.05, 0.02])
    members_p = 0.45 if kind == "reading_room" else 0.08
    access = np.where(rng.random(n) < members_p, "members", "public")
    days = rng.integers(0, 540, n)
    verified = (pd.Timestamp("2025-05-01") + pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d")
    operator = [f"{c}总工会" for c in county]
    return pd.DataFrame({
        "id": ids, "kind": kind, "name": names, "address": addresses,
        "county_adcode": adcode, "county": county, "city": city,
        "opening_hours": opening, "amenities": amenities, "phone": phones,
        "operator": operator, "access": access, "status": status,
        "verified_at": np.asarray(verified), "source": SOURCE, "demo": True,
        "x": xy[:, 0], "y": xy[:, 1],
    })
