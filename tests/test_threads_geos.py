"""The shared service-area outline survives request threads using it at once.

A prepared GEOS geometry changes its own indexes as it is used, and shapely
releases the GIL around GEOS: without a lock, threads testing one shared
outline crash the whole server process (as a live server under wrk did). The
check runs in a child process, so that a crash fails the test instead of
ending the run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.conftest import ROOT

SERVICE_AREA = """
import random, threading
from locator.geo import regions
geom = regions.province({boundaries!r}).geometry.union_all()
for rep in range(3):
    area = regions._Area(geom)  # fresh: no cells known, nothing built yet
    rng = random.Random(rep)
    pts = [(rng.uniform(110, 117), rng.uniform(31, 37)) for _ in range(12000)]
    def work(i):
        for lon, lat in pts[i::8]:
            area.contains(lon, lat)
    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
print("ok")
"""

def _run(code: str) -> subprocess.CompletedProcess[str]:
    src = textwrap.dedent(code).format(boundaries=str(ROOT / "data" / "boundaries"))
    return subprocess.run([sys.executable, "-c", src], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


def test_the_service_area_outline_is_shared_safely_by_threads():
    got = _run(SERVICE_AREA)
    assert got.returncode == 0 and got.stdout.strip() == "ok", got.stderr[-2000:]

