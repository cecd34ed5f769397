"""Planner jobs over HTTP for the load and memory benchmarks.

``MIXED`` is fifty distinct requests a planner would make on the demo data:
coverage for each kind of station and for two together, by county or city,
at radii from 500 m to 3 km, and site suggestions for 3 to 12 new sites. A
request answered 202 is followed through its poll URL until it is final.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from itertools import cycle, product

KINDS = ("rest_station", "driver_home", "reading_room", "rest_station,driver_home")
COVERAGE = [f"/api/v1/coverage?kinds={k}&radius={r}&by={by}"
            for (r, k), by in zip(product((500, 800, 1000, 1500, 2000, 2500, 3000, 1200), KINDS),
                                  cycle(("county", "city")), strict=False)][:30]
SUGGEST = [f"/api/v1/suggest?kinds={k}&n={n}&radius={r}"
           for (n, r), k in zip(product((3, 5, 8, 10, 12), (800, 1000, 1500, 2000)),
                                cycle(KINDS[:3]), strict=False)]
# Thirty coverage and twenty suggest requests, interleaved three to two.
MIXED = [p for i in range(10) for p in (*COVERAGE[3 * i:3 * i + 3], *SUGGEST[2 * i:2 * i + 2])]
# Not among MIXED, so that measuring them does not answer a job of the run from memory.
SOLO = ("/api/v1/coverage?kinds=rest_station&radius=1100&by=county",
        "/api/v1/suggest?kinds=rest_station&n=6&radius=1100")


def get(conn: http.client.HTTPConnection, path: str) -> tuple[int, dict]:
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    try:
        return r.status, json.loads(body)
    except ValueError:
        return r.status, {}


def follow(port: int, path: str, stop: threading.Event, log: list[str]) -> None:
    """Ask for one plan and follow its poll URL until it is final or ``stop`` is set."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    status, body = get(conn, path)
    while status == 429 and not stop.is_set():
        # The queue is full; retry sooner than Retry-After so the run stays short.
        time.sleep(1.0)
        status, body = get(conn, path)
    while status == 202 and not stop.is_set():
        time.sleep(0.5)
        status, body = get(conn, body["poll"])
    log.append("running" if status == 202 else str(status))
    conn.close()


def solo_seconds(port: int, path: str) -> float:
    """Wall time of one request followed to its answer with nothing else running."""
    t = time.perf_counter()
    log: list[str] = []
    follow(port, path, threading.Event(), log)
    if log != ["200"]:
        msg = f"{path} answered {log}"
        raise RuntimeError(msg)
    return time.perf_counter() - t


def run_mixed(port: int, budget: float, *, in_flight: int = 2) -> tuple[dict[str, int], float]:
    """The fifty mixed jobs, ``in_flight`` at a time, within ``budget`` seconds.

    Returns the count of each outcome (HTTP status, or ``running`` when the
    budget ran out first) and the seconds taken.
    """
    stop = threading.Event()
    log: list[str] = []
    sem = threading.Semaphore(in_flight)

    def one(path: str) -> None:
        with sem:
            if not stop.is_set():
                follow(port, path, stop, log)

    t = time.perf_counter()
    threads = [threading.Thread(target=one, args=(p,), daemon=True) for p in MIXED]
    for th in threads:
        th.start()
    end = time.monotonic() + budget
    for th in threads:
        th.join(max(0.0, end - time.monotonic()))
    stop.set()
    for th in threads:
        th.join(130)
    took = time.perf_counter() - t
    return {s: log.count(s) for s in sorted(set(log))}, took


def budget_for(port: int, *, workers: int = 1, slack: float = 2.0) -> tuple[float, str]:
    """Seconds the fifty jobs should need here: solo times of one of each, scaled up.

    Measured in the same run so the budget follows the machine: ``slack`` times
    the sum of the estimated job times over the planner's ``workers``.
    """
    cov = solo_seconds(port, SOLO[0])
    sug = solo_seconds(port, SOLO[1])
    n_cov = sum(p.startswith("/api/v1/coverage") for p in MIXED)
    est = (n_cov * cov + (len(MIXED) - n_cov) * sug) / max(1, workers)
    return slack * est + 30.0, f"solo coverage {cov:.1f} s, solo suggest {sug:.1f} s"
