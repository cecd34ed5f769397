"""Place search latency in process on the demo data, with and without OSM names.

Prints the median and 90th percentile per query kind, and the ratio of the
median against a plain substring scan over the same names (the baseline).
Goal: p50 <= 5 ms.

``--osm-names N`` adds an OpenStreetMap names index of N entries: the real
names of pyrosm's test extract plus synthetic Chinese street, place and POI
names (a county name, a common word, perhaps an ordinal, and a suffix, as
in 管城建设二路) up to N, at random points in Henan, and times queries
against both indexes together.

Usage: ``python bench/search.py [--osm-names 200000]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from locator.geo import osmnames, regions
from locator.stations import dataset, osm_search, search

ROOT = Path(__file__).resolve().parents[1]
QUERIES = {"exact": ["郑州市", "洛阳市", "管城回族区"], "prefix": ["郑州", "管城", "开封"],
           "traditional": ["鄭州", "開封", "濮陽"], "full-width": ["ＺＺ", "ＫＦ"],
           "initials": ["zz", "kf", "ly"], "typo": ["管成回族区", "落阳市", "工叶路"],
           "address": ["工业路", "解放路"]}
OSM_QUERIES = {"osm exact": ["Suntionkatu", "管城建设路"], "osm prefix": ["Suntion", "金水文化"],
               "osm substring": ["加油站", "kallio"], "osm typo": ["Suntoinkatu", "管城建设璐"]}
ROUNDS = 30
WORDS = ("建设", "人民", "文化", "解放", "中原", "黄河", "友谊", "和平", "工业", "花园",
         "农业", "新华", "长江", "嵩山", "伏牛", "商都", "金水", "紫荆", "红旗", "幸福",
         "光明", "胜利", "民主", "未来", "大学", "经三", "纬五", "朝阳", "东风", "青年")
ORDINALS = ("", "一", "二", "三")
SUFFIXES = ("路", "街", "大道", "巷", "东路", "西路", "南街", "北街", "小区", "社区", "村",
            "超市", "加油站", "医院", "学校", "广场", "公园", "饭店", "菜市场", "停车场")


def osm_names(n: int) -> osmnames.OsmNames:
    """pyrosm's test extract, padded with synthetic Chinese names to ``n`` entries."""
    import pyrosm

    real = osmnames.read(pyrosm.get_data("test_pbf"))
    counties = regions.counties(ROOT / "data" / "boundaries")["county"].str.replace(
        r"(市|县|区)$", "", regex=True).to_numpy(str)
    # County, word, an ordinal as in 建设二路 (or none), suffix.
    stems = np.char.add(counties[:, None], np.array(WORDS)[None, :]).ravel()
    stems = np.char.add(stems[:, None], np.array(ORDINALS)[None, :]).ravel()
    grid = np.char.add(stems[:, None], np.array(SUFFIXES)[None, :]).ravel()
    rng = np.random.default_rng(7)
    extra = rng.choice(grid, size=min(n - len(real.name), len(grid)), replace=False)
    k = len(extra)
    return osmnames.OsmNames(
        name=np.concatenate([real.name.astype(str), extra]),
        kind=np.concatenate([real.kind, rng.integers(0, 3, k).astype(np.int8)]),
        lon=np.concatenate([real.lon, rng.uniform(110.4, 116.6, k)]),
        lat=np.concatenate([real.lat, rng.uniform(31.4, 36.4, k)]), source="bench")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--osm-names", type=int, default=0)
    args = ap.parse_args()
    ds = dataset.read(ROOT / "data" / "stations" / "demo_stations.gpkg")
    bdir = ROOT / "data" / "boundaries"
    t0 = time.perf_counter()
    idx = search.index_for(ds, bdir)
    build_s = time.perf_counter() - t0
    print(f"stations {len(ds)}, entries {len(idx.name)}, index build {build_s:.2f} s")
    names = idx.name.tolist()
    osm = None
    queries = dict(QUERIES)
    if args.osm_names:
        table = osm_names(args.osm_names)
        t0 = time.perf_counter()
        osm = osm_search.build(table)
        print(f"osm names {len(osm.name):,}, index build {time.perf_counter() - t0:.2f} s")
        names += osm.name.tolist()
        queries.update(OSM_QUERIES)
    all_ms: list[float] = []
    base_ms: list[float] = []
    for kind, qs in queries.items():
        ms = []
        for _ in range(ROUNDS):
            for q in qs:
                t = time.perf_counter()
                search.search(ds, q, boundaries_dir=bdir, osm=osm)
                ms.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                fq = search.fold(q)
                np.flatnonzero([fq in n for n in names])
                base_ms.append((time.perf_counter() - t) * 1000)
        all_ms += ms
        p90 = np.percentile(ms, 90)
        print(f"{kind:12s} p50 {statistics.median(ms):6.2f} ms  p90 {p90:6.2f} ms")
    p50 = statistics.median(all_ms)
    b50 = statistics.median(base_ms)
    print(f"all          p50 {p50:6.2f} ms  p90 {np.percentile(all_ms, 90):6.2f} ms  "
          f"(goal <= 5 ms); baseline substring scan p50 {b50:.2f} ms, ratio {p50 / b50:.2f}")


if __name__ == "__main__":
    main()
