"""Per-app state: the live station store, loaded at start-up and kept in step
with the published version (see :mod:`locator.storage.files`)."""

from __future__ import annotations

from flask import Flask, current_app

from locator.stations import dataset
from locator.stations.nearest import Walking
from locator.storage import files


def init_app(app: Flask) -> None:
    if app.config["TILES"] == "tianditu" and not app.config["TIANDITU_KEY"]:
        msg = "TILES=tianditu needs TIANDITU_KEY (a Tianditu browser key)"
        raise ValueError(msg)
    data_dir = files.DataDir(app.config["DATA_DIR"])
    # ``locator serve --data FILE`` asks for that file, not the published version.
    follow = app.config.get("FOLLOW_PUBLISHED", True)
    live = data_dir.current() if follow else None
    # Published versions are ours, so they may keep a snapshot beside them.
    loaded = dataset.read(data_dir.live_path(app.config["DATA_PATH"]) if follow
                          else app.config["DATA_PATH"], snapshot=live is not None)
    app.extensions["locator.store"] = dataset.Store(loaded)
    app.extensions["locator.walking"] = Walking(app.config["WALK_SPEED_M_PER_MIN"],
                                                app.config["DETOUR_FACTOR"])
    watcher = files.Watcher(data_dir, app.config["DATA_PATH"],
                              app.extensions["locator.store"],
                              interval=app.config["DATA_RELOAD_SECONDS"], loaded=live)
    app.extensions["locator.watcher"] = watcher
    if follow and app.config["DATA_RELOAD_SECONDS"] > 0:
        app.before_request(watcher.poll)


def get_store() -> dataset.Store:
    return current_app.extensions["locator.store"]


def current() -> dataset.Dataset:
    return get_store().current


def walking() -> Walking:
    return current_app.extensions["locator.walking"]
