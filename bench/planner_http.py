"""The planner as a user meets it, over HTTP on 127.0.0.1, default settings, demo data.

Each sample starts a fresh app and drops what the process keeps between apps
(the remembered dataset of planning jobs and its caches, the grid), so every
sample is as cold as a newly started server:

- ``/planner`` first load, until the page shows its default plan (a page that
  says "computing" is followed to the end), and until that plan is final (a
  first answer that says it is being refined is followed too), on a server hit
  the moment it starts, before its start-up warm-up could run;
- ``/planner`` first visit to a server whose warm-up (``PLANNER_WARMUP``) is done;
- the sanitation preset with 20 suggestions (``/api/v1/suggest``), with its certified gap;
- the same app's ``/api/v1/health`` as the baseline for the ratios;
- ``/planner`` on newly spawned ``locator serve`` processes hit as soon as they
  answer their health check: the imports, projections and map modules of a new
  process are then counted too, first with an empty data folder, then with the
  province grid the first one kept there (a restart, another worker), both with
  the warm-up off, and last with the default settings (warm-up on).

Run: ``.venv/bin/python bench/coverage.py --http`` (``--repeat`` sets the samples).
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import statistics
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

from locator import create_app
from locator.planning import grid, job
from locator.web import warmup

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"/planner": 2.0, "/api/v1/suggest?preset=sanitation&n=20&wait=60": 5.0}


logging.getLogger("werkzeug").setLevel(logging.WARNING)


@contextmanager
def _server(*, warmed: bool = False, overrides: dict[str, object] | None = None
            ) -> Iterator[str]:
    """A fresh app on a free port; ``warmed`` runs its start-up warm-up to the end first.

    ``overrides`` are extra settings of the app (such as ``NETWORK_PATH``).
    """
    with job._lock:
        job._known.clear()
    grid.henan.cache_clear()
    # A data folder of its own: nothing kept by an earlier sample (such as the grid file).
    data = tempfile.mkdtemp(prefix="locator-bench-")
    app = create_app({"DATA_PATH": str(ROOT / "data" / "stations" / "demo_stations.gpkg"),
                      "DATA_DIR": data, **(overrides or {})})
    if warmed:
        warmup.start(app).test_client().get("/api/v1/health")  # its first answer
        app.extensions["locator.warmup"].join()
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()
        shutil.rmtree(data, ignore_errors=True)


def _get(url: str) -> tuple[float, bytes]:
    """Seconds until the answer is complete (following a 202 job to its end), and the body."""
    t = time.perf_counter()
    base = url.split("/", 3)
    while True:
        with urllib.request.urlopen(url, timeout=300) as resp:
            body = resp.read()
            status = resp.status
        if status != 202:
            return time.perf_counter() - t, body
        url = f"{base[0]}//{base[2]}" + json.loads(body)["poll"]
        time.sleep(0.2)


def _page_until_plan(live: Any) -> float:
    """Seconds until ``/planner`` on ``live`` shows its plan (a "computing" page is followed)."""
    t = time.perf_counter()
    _, _, body = live.get("/planner", timeout=120)
    poll = re.search(rb'data-poll="([^"]+)"', body)
    while poll:
        _, _, state = live.get(poll.group(1).decode(), timeout=120)
        if json.loads(state).get("state") not in ("queued", "running"):
            live.get("/planner", timeout=120)
            break
        time.sleep(0.1)
    return time.perf_counter() - t


def new_processes(repeat: int) -> None:
    """``/planner`` on fresh server processes: empty data folder, then the grid kept.

    On an empty data folder ``locator serve`` prepares the province grid before it
    listens, so that cost shows in its start-up (printed too), not in the page.
    The last case keeps the default settings: the warm-up starts the page's own
    jobs at the first answer (the readiness check), and the page joins them.
    """
    import sys

    sys.path.insert(0, str(ROOT))
    from tests.liveserver import live_server

    off = {"LOCATOR_PLANNER_WARMUP": "false"}
    runs: dict[str, tuple[list[float], list[float]]] = {}
    with tempfile.TemporaryDirectory() as data:
        kept = {"LOCATOR_DATA_DIR": data}
        # Every server of the first case gets a data folder of its own (the live
        # server's default); the later ones share ``data``, whose grid this one prepares.
        with live_server(env={**off, **kept}):
            pass
        for case, env in (("empty data folder", off), ("province grid kept", {**off, **kept}),
                          ("grid kept, warm-up on (the default)", kept)):
            pages, ups = runs[case] = ([], [])
            for _ in range(repeat):
                t = time.perf_counter()
                with live_server(env=env) as live:
                    ups.append(time.perf_counter() - t)
                    pages.append(_page_until_plan(live))
    target = TARGETS["/planner"]
    for case, (pages, ups) in runs.items():
        print(f"/planner on a new `locator serve` process, {case}: median "
              f"{statistics.median(pages):.2f} s (range {min(pages):.2f}-{max(pages):.2f}, "
              f"{repeat} processes; target <= {target:g} s); start-up to ready "
              f"{statistics.median(ups):.2f} s")


def planner_over_http(repeat: int = 3) -> None:
    """Print medians and ratios against the health route, measured in this run."""
    samples: dict[str, list[float]] = {path: [] for path in TARGETS}
    final: list[float] = []
    cpu: dict[str, list[float]] = {path: [] for path in TARGETS}
    health: list[float] = []
    gaps: list[float] = []
    for _ in range(repeat):
        for path in TARGETS:
            with _server() as base:
                _get(base + "/api/v1/health")
                health.append(statistics.median(_get(base + "/api/v1/health")[0]
                                                for _ in range(5)))
                c0 = time.process_time()
                secs, body = _get(base + path)
                poll = re.search(rb'data-poll="([^"]+)"', body)
                if poll:
                    # The page answered "computing": count until it shows the plan.
                    more, _ = _get(base + poll.group(1).decode())
                    again, body = _get(base + path)
                    secs += more + again
                samples[path].append(secs)
                # The server runs in this process: CPU seconds it spent on the answer,
                # all threads together (less noisy than wall time on a shared machine).
                cpu[path].append(time.process_time() - c0)
                if path == "/planner":
                    refine = re.search(rb'data-refine="([^"]+)"', body)
                    more = _get(base + refine.group(1).decode())[0] if refine else 0.0
                    final.append(secs + more)
                if "suggest" in path:
                    gaps.append(float(json.loads(body)["certificate"]["gap"]))
    # The first visitor of a server that has been up long enough to finish its warm-up
    # (PLANNER_WARMUP, on by default in `locator serve`): what a union officer meets.
    visited: list[float] = []
    for _ in range(repeat):
        with _server(warmed=True) as base:
            visited.append(_get(base + "/planner")[0])
    base_s = statistics.median(health)
    print(f"health (baseline): median {base_s * 1000:.1f} ms over {len(health)} servers")
    for path, target in TARGETS.items():
        med = statistics.median(samples[path])
        print(f"{path}: median {med:.2f} s over {repeat} fresh servers "
              f"(target <= {target:g} s; {med / base_s:,.0f}x health); "
              f"CPU {statistics.median(cpu[path]):.2f} s")
    med = statistics.median(visited)
    print(f"/planner first visit once the start-up warm-up is done: median {med:.2f} s "
          f"over {repeat} fresh servers (target <= {TARGETS['/planner']:g} s; "
          f"{med / base_s:,.0f}x health)")
    if final:
        med = statistics.median(final)
        print(f"/planner until the refined plan is in: median {med:.2f} s "
              f"({med / base_s:,.0f}x health)")
    new_processes(repeat)
    if gaps:
        print(f"sanitation n=20 certified gap: median {statistics.median(gaps):.2%} "
              f"(target <= 2%), worst {max(gaps):.2%}")
