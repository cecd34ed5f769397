"""Per-app state: the station source, the live station store loaded from it at
start-up, and the watcher that keeps the store on the published version (see
:mod:`locator.storage`)."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

from locator.stations import dataset
from locator.stations.nearest import Walking
from locator.storage import base, watcher


def init_app(app: Flask) -> None:
    if app.config["TILES"] == "tianditu" and not app.config["TIANDITU_KEY"]:
        msg = "TILES=tianditu needs TIANDITU_KEY (a Tianditu browser key)"
        raise ValueError(msg)
    source = base.open_source(app.config)
    # ``locator serve --data FILE`` asks for that file, not the published version.
    follow = app.config.get("FOLLOW_PUBLISHED", True)
    if follow:
        loaded, health = watcher.load_best(source)
    else:
        loaded, health = dataset.read(app.config["DATA_PATH"]), base.Health(None, None)
    app.extensions["locator.source"] = source
    app.extensions["locator.store"] = dataset.Store(loaded)
    app.extensions["locator.walking"] = Walking(app.config["WALK_SPEED_M_PER_MIN"],
                                                app.config["DETOUR_FACTOR"])
    watch = watcher.Watcher(source, app.extensions["locator.store"],
                            interval=app.config["DATA_RELOAD_SECONDS"], health=health)
    app.extensions["locator.watcher"] = watch
    if follow and app.config["DATA_RELOAD_SECONDS"] > 0:
        app.before_request(watch.poll)
        listen = getattr(source, "listen", None)
        if listen is not None:
            listen(watch.nudge)


def close(app: Flask) -> None:
    """Stop the app's background watching and close its database connections."""
    closer = getattr(app.extensions.get("locator.source"), "close", None)
    if closer is not None:
        closer()


def get_store() -> dataset.Store:
    return current_app.extensions["locator.store"]


def current() -> dataset.Dataset:
    return get_store().current


def source() -> base.StationSource:
    return current_app.extensions["locator.source"]


def health() -> dict[str, Any]:
    """``degraded`` with both versions when the live version is not the one served."""
    h: base.Health = current_app.extensions["locator.watcher"].health
    if not h.degraded:
        return {"status": "ok"}
    return {"status": "degraded", "live_version": h.live, "served_version": h.loaded,
            "problem": h.problem}


def walking() -> Walking:
    return current_app.extensions["locator.walking"]
