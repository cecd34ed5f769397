"""HTML pages: the worker map at /."""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue

from locator.domain import i18n, params
from locator.domain.params import TABLE as P
from locator.geo import maps
from locator.web import state
from locator.web.views import feedback

bp = Blueprint("pages", __name__)


def map_context(*, lang: str) -> dict[str, Any]:
    cfg = current_app.config
    lat_s, lon_s = cfg["MAP_CENTER"].split(",")
    center = (float(lat_s), float(lon_s))
    vendor_prefix = url_for("vendor.asset", name="x", filename="y")[: -len("x/y")]
    parts = maps.shell_parts(cfg["TILES"], center, cfg["MAP_ZOOM"], cfg["TIANDITU_KEY"],
                       vendor_prefix, lang)
    ds = state.current()
    return {"map": parts, "lang": lang, "demo": ds.demo,
            "datum": maps.tile_source(cfg["TILES"]).datum,
            "strings": i18n.STRINGS[lang]}


def _amenity_codes(raw: list[str]) -> list[str]:
    """Known amenity codes of repeated or comma-separated values (unknown ones are a 400)."""
    params.amenities(raw)
    return list(dict.fromkeys(p.strip() for item in raw for p in item.split(",") if p.strip()))


def _has_network() -> bool:
    # The graph module (and scipy) load with the first page, not at start-up.
    from locator.planning import network_distance

    return network_distance.network_path(current_app.config) is not None


@bp.get("/")
def index() -> ResponseReturnValue:
    a = request.args
    lang = params.lang(a.get("lang"), default=current_app.config["DEFAULT_LANG"])
    fixed = None
    # A fixed location needs both coordinates; one alone leaves the page locating the user.
    lat = P["lat"].parse(a.get("lat"), default=math.nan)
    lon = P["lon"].parse(a.get("lon"), default=math.nan)
    if not (math.isnan(lat) or math.isnan(lon)):
        fixed = {"lat": lat, "lon": lon}
    ctx = map_context(lang=lang)
    # Filters and region carried over from an embed's "open the full map" link.
    region = a.get("region")
    bounds = None
    if region:
        from locator.geo import datum
        from locator.services.embed import region_bounds

        box = region_bounds(region, current_app.config["BOUNDARIES_DIR"])[1]
        x, y = datum.from_wgs84([box[0], box[2]], [box[1], box[3]], ctx["datum"])
        bounds = [[float(y[0]), float(x[0])], [float(y[1]), float(x[1])]]
    initial = {"kind": params.kinds(a.getlist("kind")),
               "amenity": _amenity_codes(a.getlist("amenity")),
               "bounds": bounds}
    fixed_map = None
    if fixed is not None:
        # Converted here, so that the page spends no round trip asking for it.
        from locator.geo import datum

        fx, fy = datum.from_wgs84(fixed["lon"], fixed["lat"], ctx["datum"])
        fixed_map = {"lat": float(fy), "lon": float(fx)}
    client = {
        **i18n.client_strings(lang),
        "lang": lang,
        "api": url_for("api.nearest")[: -len("nearest")],
        "mapName": ctx["map"]["name"],
        "datum": ctx["datum"],
        "demo": ctx["demo"],
        "fixed": fixed,
        "fixedMap": fixed_map,
        # Leaflet loads after the first answer is on screen (see locator.js).
        "mapScripts": ctx["map"]["scripts"],
        "mapSheets": ctx["map"]["sheets"],
        "k": current_app.config["DEFAULT_K"],
        "bboxLimit": current_app.config["BBOX_LIMIT"],
        # A shared link (?station=ID) opens that station's card.
        "station": (a.get("station") or "")[:80] or None,
        "initial": initial,
        "serviceWorker": url_for("static", filename="js/sw.js"),
        # With a street graph the card offers the station's 15-minute walk area.
        "walkArea": _has_network(),
        "feedback": feedback.client_links(lang),
    }
    other = "en" if lang == "zh" else "zh"
    return render_template("index.html", client=client, other_lang=other, **ctx)
