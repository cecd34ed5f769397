"""Open-data benchmark: OGC item filtering and pages, and what revalidation saves.

1. ``ogc.select`` (one NumPy mask over the dataset's arrays) against the same
   filter written with pandas over the GeoDataFrame, on the 14,250 demo stations.
2. ``GET /ogc/collections/stations/items?limit=1000`` (full answer) against the
   same request revalidated with ``If-None-Match`` (304), through the Flask
   test client, in the same process.
3. What the security, validator, CORS and rate-limit hooks add to a small API
   answer (``/api/v1/nearest``): the same app with and without them.

Run: ``.venv/bin/python bench/open_data.py`` (``--quick`` for a shorter run).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _util import fmt_us, median_seconds

from locator import create_app
from locator.domain import schema
from locator.services import ogc

DEMO = ROOT / "data" / "stations" / "demo_stations.gpkg"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    repeat = 5 if ap.parse_args().quick else 21
    app = create_app({"TESTING": True, "DATA_PATH": str(DEMO)})
    ds = app.extensions["locator.store"].current
    f = ds.frame
    q = ogc.ItemsQuery(kinds=("rest_station",), amenity_mask=schema.AMENITY_BIT["toilet"],
                       county_adcodes=("410100",), bbox=(112.0, 34.0, 115.0, 35.5))

    def with_numpy() -> np.ndarray:
        return ogc.select(ds, "stations", q)

    def with_pandas() -> np.ndarray:
        x, y = f.geometry.x, f.geometry.y
        keep = ((f["kind"] == "rest_station")
                & f["amenities"].str.split(";").map(lambda a: "toilet" in a)
                & f["county_adcode"].str.startswith("4101")
                & (x >= 112.0) & (x <= 115.0) & (y >= 34.0) & (y <= 35.5))
        return np.flatnonzero(pd.Series(keep).to_numpy())

    assert np.array_equal(with_numpy(), with_pandas())
    t_np = median_seconds(with_numpy, repeat=repeat, inner=5)
    t_pd = median_seconds(with_pandas, repeat=repeat, inner=1)
    print(f"select over {len(ds)} stations ({len(with_numpy())} match)")
    print(f"  ogc.select (NumPy mask)   {fmt_us(t_np)}")
    print(f"  pandas baseline           {fmt_us(t_pd)}   ratio {t_pd / t_np:5.1f}x")

    c = app.test_client()
    url = "/ogc/collections/stations/items?limit=1000"
    first = c.get(url)
    tag = first.headers["ETag"]

    def full() -> None:
        assert c.get(url).status_code == 200

    def revalidate() -> None:
        assert c.get(url, headers={"If-None-Match": tag}).status_code == 304

    t_full = median_seconds(full, repeat=repeat)
    t_304 = median_seconds(revalidate, repeat=repeat)
    print(f"items page of 1000 ({len(first.data) / 1e6:.2f} MB)")
    print(f"  200 full answer           {fmt_us(t_full)}")
    print(f"  304 with If-None-Match    {fmt_us(t_304)}   ratio {t_full / t_304:5.1f}x")
    bench_hooks(repeat)


def bench_hooks(repeat: int) -> None:
    url = "/api/v1/nearest?lat=34.7536&lon=113.6645&k=10"
    limited = create_app({"TESTING": True, "DATA_PATH": str(DEMO),
                          "RATE_LIMIT_ENABLED": True, "RATE_LIMIT": "1000000/minute"})
    headers = create_app({"TESTING": True, "DATA_PATH": str(DEMO)})  # limiter off
    bare = create_app({"TESTING": True, "DATA_PATH": str(DEMO)})
    # The bare app keeps only the core's hooks: drop this feature's before/after hooks.
    ours = ("security", "consumers", "flask_limiter")
    for table in (bare.before_request_funcs, bare.after_request_funcs):
        for key, funcs in table.items():
            table[key] = [f for f in funcs if not any(m in f.__module__ for m in ours)]
    a, h, b = limited.test_client(), headers.test_client(), bare.test_client()
    assert "ETag" in a.get(url).headers and "ETag" not in b.get(url).headers
    t_a = median_seconds(lambda: a.get(url), repeat=repeat, inner=20)
    t_h = median_seconds(lambda: h.get(url), repeat=repeat, inner=20)
    t_b = median_seconds(lambda: b.get(url), repeat=repeat, inner=20)
    print("GET /api/v1/nearest through the test client")
    print(f"  without this feature's hooks  {fmt_us(t_b)}")
    print(f"  security + caching headers    {fmt_us(t_h)}   ratio {t_h / t_b:5.2f}x")
    print(f"  ... and the rate limiter      {fmt_us(t_a)}   ratio {t_a / t_b:5.2f}x")


if __name__ == "__main__":
    main()
