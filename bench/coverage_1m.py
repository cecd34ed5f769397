"""Peak memory of one province-wide coverage run at 1,000,000 stations.

Generates ``--n`` synthetic stations in this process (the demo generator with
the demo's mix of kinds), builds the query-ready dataset, then resets the
kernel's high-water mark (``/proc/self/clear_refs``) and runs one planning
run as ``/api/v1/coverage`` does, with the default settings: every kind of
station, 500 m grid, county table. Prints the RSS before the run, the run's
own high-water mark, and the coverage run's time.

Target: the process peaks at <= 4 GB during the run.

Run: ``.venv/bin/python bench/coverage_1m.py`` (``--n`` to change the size).
Memory-heavy: run it alone.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from startup import SHARE

from locator import config
from locator.domain import schema
from locator.planning import runs
from locator.stations import dataset, demodata


def _mem_mb() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MB."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out["VmRSS"], out["VmHWM"]


def _reset_peak() -> bool:
    # Writing 5 resets VmHWM to the current RSS (Linux 4.0+).
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="stations to generate")
    ap.add_argument("--suggest", type=int, default=0,
                    help="also suggest this many sites in the same run (0: coverage only)")
    a = ap.parse_args()
    counts = tuple((k, max(1, round(a.n * s))) for k, s in SHARE.items())
    t0 = time.perf_counter()
    frame = demodata.generate(ROOT / "data" / "boundaries",
                              options=demodata.DemoOptions(counts=counts))
    ds = dataset.Dataset(dataset.normalise(frame), "bench", Path("generated"))
    del frame
    print(f"{len(ds):,} stations generated and loaded in {time.perf_counter() - t0:.1f} s",
          flush=True)
    cfg = config.load(environ={})
    p = runs.PlanParams(kinds=schema.KIND_CODES, radius=1000.0, n=a.suggest)
    before, _ = _mem_mb()
    reset = _reset_peak()
    t = time.perf_counter()
    plan = runs.run(p, ds, cfg)
    took = time.perf_counter() - t
    after, peak = _mem_mb()
    covered = float(plan.curve[0]["share"])
    print(f"province coverage, all kinds, 1 km, {cfg['GRID_CELL_M']:.0f} m grid: {took:.1f} s; "
          f"area share covered {covered:.1%}")
    print(f"RSS before the run {before:,.0f} MB; after {after:,.0f} MB; "
          f"peak during the run {peak:,.0f} MB "
          f"({'reset at the start' if reset else 'process peak, reset not supported'}); "
          f"added by the run {peak - before:,.0f} MB  [target: peak <= 4,096 MB]")


if __name__ == "__main__":
    main()
