"""The embeddable map /embed, its builder /embed/builder, and /oembed."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue

from locator.domain import i18n, params, schema
from locator.errors import LocatorError
from locator.geo import datum, maps, regions
from locator.services import embed
from locator.web import state
from locator.web.urls import base_url
from locator.web.views import feedback

bp = Blueprint("embed", __name__)


def _args() -> dict[str, list[str]]:
    return {k: request.args.getlist(k) for k in request.args}


def _bounds_in(datum_name: str, bbox: list[float] | tuple[float, ...]) -> list[list[float]]:
    """``[[south, west], [north, east]]`` of a WGS-84 box, in the tile datum."""
    x, y = datum.from_wgs84([bbox[0], bbox[2]], [bbox[1], bbox[3]], datum_name)
    return [[round(float(y[0]), 6), round(float(x[0]), 6)],
            [round(float(y[1]), 6), round(float(x[1]), 6)]]


@bp.get("/embed")
def page() -> ResponseReturnValue:
    cfg = current_app.config
    opts = embed.parse(_args(), boundaries_dir=cfg["BOUNDARIES_DIR"])
    lang = opts.lang or i18n.pick(None, cfg["DEFAULT_LANG"])
    tile_datum = maps.tile_source(cfg["TILES"]).datum
    lat_s, lon_s = cfg["MAP_CENTER"].split(",")
    center = opts.center or (float(lat_s), float(lon_s))
    zoom = opts.zoom if opts.zoom is not None else cfg["MAP_ZOOM"]
    box: list[float] | tuple[float, ...] | None = opts.bbox
    if opts.region:
        box = embed.region_bounds(opts.region, cfg["BOUNDARIES_DIR"])[1]
    if box is not None and opts.center is None:
        center = ((box[1] + box[3]) / 2, (box[0] + box[2]) / 2)
    vendor_prefix = url_for("vendor.asset", name="x", filename="y")[: -len("x/y")]
    parts = maps.shell_parts(cfg["TILES"], center, zoom, cfg["TIANDITU_KEY"], vendor_prefix,
                               lang)
    ds = state.current()
    query = embed.canonical_query(opts)
    # The full map opens on the same filters and region as the embed.
    full = url_for("pages.index", lang=lang if lang != cfg["DEFAULT_LANG"] else None,
                   kind=",".join(opts.kinds) or None,
                   amenity=",".join(opts.amenities) or None, region=opts.region)
    title = embed.title(opts, lang=lang, boundaries_dir=cfg["BOUNDARIES_DIR"])
    client = {
        **i18n.client_strings(lang),
        "lang": lang,
        "api": url_for("api.nearest")[: -len("nearest")],
        "mapName": parts["name"],
        "datum": tile_datum,
        "filter": {"kind": list(opts.kinds), "amenity": list(opts.amenities)},
        "bounds": _bounds_in(tile_datum, box) if box is not None and opts.center is None
        else None,
        "list": opts.show_list,
        "viewLimit": min(embed.VIEW_LIMIT, cfg["BBOX_LIMIT"]),
        "demo": ds.demo,
        "feedback": feedback.client_links(lang),
    }
    oembed_href = url_for("embed.oembed_view", url=base_url() + "/embed"
                          + (f"?{query}" if query else ""), format="json")
    return render_template("embed.html", map=parts, client=client, lang=lang, demo=ds.demo,
                           strings=i18n.STRINGS[lang], opts=opts, full_url=full,
                           embed_title=title, oembed_href=oembed_href)


@bp.get("/embed/builder")
def builder() -> ResponseReturnValue:
    lang = params.lang(request.args.get("lang"), default=current_app.config["DEFAULT_LANG"])
    bdir = str(current_app.config["BOUNDARIES_DIR"])
    cities = regions.cities(bdir).sort_values("city_adcode")
    counties = regions.counties(bdir).sort_values("county_adcode")
    places = [{"code": str(c.city_adcode), "name": str(c.city),
               "counties": [{"code": str(k.county_adcode), "name": str(k.county)}
                            for k in counties[counties["city_adcode"] == c.city_adcode]
                            .itertuples()]}
              for c in cities.itertuples()]
    bounds = {n: params.TABLE[n].bounds() for n in ("zoom", "width", "height")}
    return render_template("embed_builder.html", lang=lang, demo=state.current().demo,
                           strings=i18n.STRINGS[lang], b=i18n.builder_strings(lang, bounds),
                           kinds=schema.KINDS,
                           amenities=schema.AMENITIES, places=places, base=base_url(),
                           width=embed.DEFAULT_WIDTH, height=embed.DEFAULT_HEIGHT)


@bp.get("/oembed")
def oembed_view() -> ResponseReturnValue:
    a = request.args
    fmt = (a.get("format") or "json").lower()
    if fmt == "xml":
        raise LocatorError(501, "not_implemented", "only format=json is provided", "format")
    params.choice("format", fmt, ("json",), default="json")
    url = a.get("url")
    if not url:
        raise LocatorError(400, "invalid_parameter", "url is required", "url")
    maxwidth = params.integer("maxwidth", a.get("maxwidth"), lo=1, hi=10_000, default=0) or None
    maxheight = params.integer("maxheight", a.get("maxheight"), lo=1, hi=10_000,
                               default=0) or None
    body = embed.oembed(url, base=base_url(), boundaries_dir=current_app.config["BOUNDARIES_DIR"],
                        demo=state.current().demo, maxwidth=maxwidth, maxheight=maxheight)
    resp = current_app.json.response(body)
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp
