"""The planner's default page, ready before its first visitor.

A newly started server, or one that has just swapped in a new version, would
otherwise make the first person to open ``/planner`` wait for the whole
default plan: the province grid, the coverage matrix, the siting run and the
map. With ``PLANNER_WARMUP`` on, a background thread starts those very jobs
(same keys as the page's, so a visitor who comes meanwhile joins them) and
draws the map once. Only served apps warm up (``locator serve`` and its
gunicorn workers); apps made for scripts and tests do not.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response

log = logging.getLogger(__name__)
# A plan that takes longer than this is left to its job; the thread stops waiting.
WAIT_S = 600.0
FIRST_REQUEST_WAIT_S = 30.0


# Loaded with the first map rather than at start-up (folium compiles its templates as it
# is imported: about 0.2 s of the first planner page); served apps load them early.
MAP_MODULES = ("folium", "folium.features", "branca.colormap", "branca.element")
PAGES = ("planner.html", "index.html")


def prepare(cfg: Mapping[str, Any]) -> float | None:
    """Before the server listens: keep the province grid in ``DATA_DIR/grids``.

    A new install (or a new boundary file) would otherwise have its first
    planner visitor wait for the polygons to be burnt into the grid, and with
    several workers each would build it at once. Done once, before any worker
    starts; returns the seconds it took, or None when the file was there.
    """
    from locator.planning import scope

    t = time.perf_counter()
    try:
        built = scope.keep_province_grid(cfg)
    except Exception:  # the planner then builds the grid itself, as without a store
        log.exception("could not prepare the planning grid")
        return None
    return time.perf_counter() - t if built else None


def start(app: Flask) -> Flask:
    """Warm ``app`` up in the background once it has answered its first request (or
    after :data:`FIRST_REQUEST_WAIT_S`), and after every version swap; returns it.

    Whatever ``PLANNER_WARMUP`` says, the map modules and the page templates are
    loaded then too, so the first page drawn does not wait for them.
    """
    answered = threading.Event()

    @app.after_request
    def _answered(response: Response) -> Response:
        answered.set()
        return response

    threading.Thread(target=_preload, args=(app, answered), daemon=True,
                     name="locator-preload").start()
    if not app.config["PLANNER_WARMUP"]:
        return app
    watcher = app.extensions["locator.watcher"]
    watcher.on_swap.append(lambda: _spawn(app, None))
    _spawn(app, answered)
    return app


def _preload(app: Flask, answered: threading.Event) -> None:
    answered.wait(FIRST_REQUEST_WAIT_S)
    try:
        for name in MAP_MODULES:
            importlib.import_module(name)
        for page in PAGES:
            app.jinja_env.get_template(page)
    except Exception:  # only a slower first map
        log.exception("could not preload the map modules")


def _spawn(app: Flask, answered: threading.Event | None) -> None:
    thread = threading.Thread(target=_run, args=(app, answered), daemon=True,
                              name="locator-warmup")
    app.extensions["locator.warmup"] = thread
    thread.start()


def _run(app: Flask, answered: threading.Event | None) -> None:
    from locator.web.views import planner

    if answered is not None:
        # A million-station plan computed during start-up would double the time to the
        # first answer (the load balancer's health check, a worker's first search).
        answered.wait(FIRST_REQUEST_WAIT_S)
    t = time.perf_counter()
    try:
        # The page's helpers build URLs and read the app's settings: give them a request.
        with app.test_request_context("/planner"):
            done = planner.warm(app.config["DEFAULT_LANG"], timeout=WAIT_S)
    except Exception:  # a failed warm-up only means the first visitor computes it
        log.exception("could not prepare the default planner page")
        return
    if done:
        log.info("default planner page ready in %.1f s", time.perf_counter() - t)
