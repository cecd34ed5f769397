"""Per-app state: the live station store, loaded once at start-up."""

from __future__ import annotations

from flask import Flask, current_app

from .. import store
from ..nearest import Walking


def init_app(app: Flask) -> None:
    if app.config["TILES"] == "tianditu" and not app.config["TIANDITU_KEY"]:
        msg = "TILES=tianditu needs TIANDITU_KEY (a Tianditu browser key)"
        raise ValueError(msg)
    dataset = store.read(app.config["DATA_PATH"])
    app.extensions["locator.store"] = store.Store(dataset)
    app.extensions["locator.walking"] = Walking(app.config["WALK_SPEED_M_PER_MIN"],
                                                app.config["DETOUR_FACTOR"])


def get_store() -> store.Store:
    return current_app.extensions["locator.store"]


def current() -> store.Dataset:
    return get_store().current


def walking() -> Walking:
    return current_app.extensions["locator.walking"]
