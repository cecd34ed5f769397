"""Time until the nearest list shows on a phone on a weak link, in Chromium.

Debian's Chromium (Playwright) opens ``/?lat=..&lon=..`` (the list loads
without a location prompt) on a 360x740 screen, with DevTools network
emulation of a 400 kbit/s, 400 ms round-trip link, and records
``performance.now()`` (milliseconds since navigation start) in the page, from
a mutation observer installed before any page script, at the moment the first
result enters the document. (Reading the clock afterwards through the driver
would add the driver's round trip and whatever the page's main thread does
next, such as starting the map.) Map tiles are refused, as on a network that
blocks them (DevTools URL blocking; Playwright's request routing would turn
the HTTP cache off and make every repeat visit a cold one). One page load
before timing warms the server, so that every round measures a warm server.

- first visit: a fresh browser profile, nothing cached;
- repeat visit: the same profile opened again, with the offline worker and
  the HTTP cache as the first visit left them;
- repeat visit, no worker: service workers blocked (iOS WeChat), HTTP cache only.

The same three are measured on an unthrottled link as the baseline, and the
ratio is printed. Goals: first visit <= 3 s, repeat visit <= 1 s.

Network emulation applies to the page; requests the service worker makes on
its own (it answers from its cache first only when the network fails) are
not throttled by it. The "no worker" row is free of that caveat.

Usage: ``python bench/phone.py [--rounds 3]``
"""

from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import tempfile
import threading
from pathlib import Path

from werkzeug.serving import make_server

from locator import create_app

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WEAK = {"offline": False, "latency": 400, "downloadThroughput": 400_000 / 8,
        "uploadThroughput": 400_000 / 8}
# Notes the clock when the first result button enters the document.
SHOWN = """
new MutationObserver(function (records, obs) {
  if (document.querySelector('.result-btn')) {
    window.__listShownAt = performance.now();
    obs.disconnect();
  }
}).observe(document, { childList: true, subtree: true });
"""
GOALS = {"first visit": 3000.0, "repeat visit": 1000.0, "repeat, no worker": 1000.0}


def _visit(pw, profile: str, url: str, *, weak: bool, workers: bool) -> float:
    ctx = pw.chromium.launch_persistent_context(
        profile, executable_path=CHROMIUM, args=ARGS, viewport={"width": 360, "height": 740},
        locale="zh-CN", service_workers="allow" if workers else "block")
    ctx.add_init_script(SHOWN)
    try:
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        cdp = ctx.new_cdp_session(page)
        cdp.send("Network.enable")
        # Blocked through DevTools, not Playwright's routing: routing turns the
        # HTTP cache off, and the repeat visits are about that cache.
        cdp.send("Network.setBlockedURLs", {"urls": ["https://*"]})
        if weak:
            cdp.send("Network.emulateNetworkConditions", WEAK)
        page.goto(url, wait_until="commit", timeout=120_000)
        page.wait_for_function("() => window.__listShownAt !== undefined", timeout=120_000)
        ms = float(page.evaluate("() => window.__listShownAt"))
        if workers:
            # Let the worker store the shell before the profile is closed.
            page.wait_for_function("() => navigator.serviceWorker.controller !== null",
                                   timeout=60_000)
            page.wait_for_timeout(1500)
        return ms
    finally:
        ctx.close()


def _round(pw, url: str, *, weak: bool) -> dict[str, float]:
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="locator-phone-") as profile:
        out["first visit"] = _visit(pw, profile, url, weak=weak, workers=True)
        out["repeat visit"] = _visit(pw, profile, url, weak=weak, workers=True)
    with tempfile.TemporaryDirectory(prefix="locator-phone-") as profile:
        _visit(pw, profile, url, weak=False, workers=False)
        out["repeat, no worker"] = _visit(pw, profile, url, weak=weak, workers=False)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    app = create_app({"DATA_PATH": str(ROOT / "data" / "stations" / "demo_stations.gpkg"),
                      "TILES": "amap"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/?lat=34.7536&lon=113.6645"
    with app.test_client() as warm:
        warm.get(url)
    try:
        with sync_playwright() as pw:
            weak = [_round(pw, url, weak=True) for _ in range(args.rounds)]
            fast = [_round(pw, url, weak=False) for _ in range(args.rounds)]
    finally:
        server.shutdown()
    print(f"time until the nearest list shows, median of {args.rounds} rounds "
          "(400 kbit/s, 400 ms RTT vs unthrottled baseline)")
    for key, goal in GOALS.items():
        w = statistics.median(r[key] for r in weak)
        b = statistics.median(r[key] for r in fast)
        verdict = "meets" if w <= goal else "MISSES"
        print(f"{key:18s} {w:8.0f} ms  baseline {b:6.0f} ms  ratio {w / b:5.1f}x  "
              f"goal {goal:.0f} ms: {verdict}")


if __name__ == "__main__":
    main()
