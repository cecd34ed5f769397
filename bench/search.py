"""Place search latency in process on the demo data.

Prints the median and 90th percentile per query kind, and the ratio of the
median against a plain substring scan over the same names (the baseline).
Goal: p50 <= 5 ms.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

from locator.stations import dataset, search

ROOT = Path(__file__).resolve().parents[1]
QUERIES = {"exact": ["郑州市", "洛阳市", "管城回族区"], "prefix": ["郑州", "管城", "开封"],
           "traditional": ["鄭州", "開封", "濮陽"], "full-width": ["ＺＺ", "ＫＦ"],
           "initials": ["zz", "kf", "ly"], "typo": ["管成回族区", "落阳市", "工叶路"],
           "address": ["工业路", "解放路"]}
ROUNDS = 30


def main() -> None:
    ds = dataset.read(ROOT / "data" / "stations" / "demo_stations.gpkg")
    bdir = ROOT / "data" / "boundaries"
    t0 = time.perf_counter()
    idx = search.index_for(ds, bdir)
    build_s = time.perf_counter() - t0
    print(f"stations {len(ds)}, entries {len(idx.name)}, index build {build_s:.2f} s")
    names = idx.name.tolist()
    all_ms: list[float] = []
    base_ms: list[float] = []
    for kind, qs in QUERIES.items():
        ms = []
        for _ in range(ROUNDS):
            for q in qs:
                t = time.perf_counter()
                search.search(ds, q, boundaries_dir=bdir)
                ms.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                np.flatnonzero([search.fold(q) in n for n in names])
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
