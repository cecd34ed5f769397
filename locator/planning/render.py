"""A finished plan as HTML: the county choropleth, the coverage curve and the offline report.

Nothing here needs Flask. The web view passes its own asset prefixes and renders
with its Jinja environment; :func:`report_html` renders the same template with a
plain Jinja environment and inlines every script, style and image, so that
``locator coverage --out report.html`` works without starting the web app.
"""

from __future__ import annotations

import base64
import html
import json
import mimetypes
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
import shapely
from markupsafe import Markup

from locator import memo
from locator.domain import presets, schema
from locator.domain.planner_text import STRINGS, demand_label
from locator.geo import datum, maps, names_en, regions
from locator.planning import reports, runs
from locator.planning.names import label as site_label

COLORS = ("#d73027", "#fc8d59", "#fee08b", "#d9ef8b", "#91cf60", "#1a9850")
BREAKS = (0.1, 0.2, 0.4, 0.6, 0.8)
VENDOR_PREFIX = "/vendor/"
STATIC_PREFIX = "/static/"
_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def asset_dir(name: str) -> Path:
    """Folder of ``templates`` or ``static``: shipped in the package, else beside it."""
    inside = _PACKAGE_DIR / name
    return inside if inside.is_dir() else _PACKAGE_DIR.parent / name


def safe_text(value: Any) -> str:
    """Text for Folium tooltips, which land in innerHTML and JS template literals."""
    text = html.escape("" if value is None else str(value), quote=True)
    return text.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def color(share: float | None) -> str:
    """Fill colour of a county with coverage ``share`` (grey when unknown)."""
    if share is None or not np.isfinite(share):
        return "#bbbbbb"
    return COLORS[int(np.searchsorted(BREAKS, share, side="right"))]


@memo.cached
def _county_shapes(boundaries: str, tile_datum: str) -> np.ndarray:
    geoms = regions.counties(boundaries).geometry.simplify(0.004).to_numpy()
    return _to_datum(geoms, tile_datum)


def _to_datum(geoms: np.ndarray, tile_datum: str) -> np.ndarray:
    def move(xy: np.ndarray) -> np.ndarray:
        x, y = datum.from_wgs84(xy[:, 0], xy[:, 1], tile_datum)
        return np.column_stack([x, y])

    return shapely.transform(geoms, move) if tile_datum != "wgs84" else geoms


def _features(geoms: np.ndarray, props: list[dict[str, Any]]) -> dict[str, Any]:
    mapped = shapely.to_geojson(geoms)
    return {"type": "FeatureCollection",
            "features": [{"type": "Feature", "geometry": json.loads(g), "properties": p}
                         for g, p in zip(mapped, props, strict=True)]}


def choropleth(plan: runs.Plan, *, lang: str, cfg: Mapping[str, Any],
               vendor_prefix: str = VENDOR_PREFIX) -> dict[str, Any]:
    """Rendered map parts: county shares, gap boxes and numbered suggested sites."""
    import folium  # loaded with the first map, not at every start-up

    t = STRINGS[lang]
    src = maps.tile_source(cfg["TILES"])
    m = maps.build_map(tiles=cfg["TILES"], center=(34.0, 113.6), zoom=7,
                       tianditu_key=cfg["TIANDITU_KEY"], vendor_url=lambda p: vendor_prefix + p)
    share_col = "demand_share" if plan.unit == "people" else "area_share"
    shapes = _county_shapes(str(cfg["BOUNDARIES_DIR"]), src.datum)
    c = names_en.translate(plan.counties) if lang == "en" else plan.counties
    # A scoped plan holds some counties: their shapes by adcode in the boundary file.
    rows = pd.Index(regions.counties(str(cfg["BOUNDARIES_DIR"]))["county_adcode"]).get_indexer(
        c["county_adcode"].astype(str))
    shares = c[share_col].to_numpy(float)
    names = (c["city"].astype(str) + " " + c["county"].astype(str)).map(safe_text)
    props = [{"name": nm, "share": "—" if not np.isfinite(s) else f"{s:.1%}", "color": color(s)}
             for nm, s in zip(names, shares, strict=True)]
    folium.GeoJson(
        _features(shapes[rows], props),
        name=t["coverage_map"],
        style_function=lambda f: {"fillColor": f["properties"]["color"], "color": "#555",
                                  "weight": 0.6, "fillOpacity": 0.65},
        tooltip=folium.GeoJsonTooltip(fields=["name", "share"],
                                      aliases=[t["county"], t["legend"]])).add_to(m)
    if len(plan.gaps):
        g = names_en.translate(plan.gaps) if lang == "en" else plan.gaps
        gprops = [{"rank": int(r), "county": safe_text(cn), "demand": f"{d:,.0f}"}
                  for r, cn, d in zip(g["rank"], g["county"], g["uncovered_demand"],
                                      strict=True)]
        folium.GeoJson(_features(_to_datum(g.geometry.to_numpy(), src.datum), gprops),
                       name=t["gaps"],
                       style_function=lambda f: {"color": "#7b0000", "weight": 1,
                                                 "fillColor": "#b30000", "fillOpacity": 0.45},
                       tooltip=folium.GeoJsonTooltip(fields=["rank", "county", "demand"],
                                                     aliases=["#", t["county"],
                                                              t["uncovered"]])).add_to(m)
    if len(plan.suggestions):
        s = plan.suggestions
        sx, sy = datum.from_wgs84(s["lon"].to_numpy(float), s["lat"].to_numpy(float), src.datum)
        group = folium.FeatureGroup(name=t["sites"]).add_to(m)
        labels = site_label(s, lang)
        unit = t[plan.unit]
        for k, (rank, adds, name) in enumerate(
                zip(s["rank"], s["adds"], labels, strict=True)):
            label = safe_text(f"#{int(rank)} {name} · +{adds:,.0f} {unit}")
            # Out of the Tab order: the sites table below is the keyboard path,
            # and close sites would otherwise be overlapping small targets.
            folium.Marker([float(sy[k]), float(sx[k])], tooltip=folium.Tooltip(label),
                          # The number may be moved off its point (planner.js) so that no
                          # two hide each other; the dot and the leader then show the point.
                          icon=folium.DivIcon(html='<span class="site-leader"></span>'
                                              '<span class="site-dot"></span>'
                                              f'<div class="site-num">{int(rank)}</div>',
                                              icon_size=(26, 26), icon_anchor=(13, 13),
                                              class_name="site-marker"),
                          keyboard=False).add_to(group)
        areas = walk_areas(plan, cfg)
        if areas is not None and len(areas):
            # Off at first (the layer control turns it on): twenty areas hide the counties.
            folium.GeoJson(_features(_to_datum(areas.geometry.to_numpy(), src.datum),
                                     [{"rank": int(r)} for r in areas["rank"]]),
                           name=t["walk_areas"], show=False,
                           style_function=lambda f: {"color": "#0b7a3b", "weight": 1.5,
                                                     "fillColor": "#2ecc71",
                                                     "fillOpacity": 0.3,
                                                     "className": "walk-area"}).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    if plan.params.region:
        # A city or county fills the map; the province keeps its fixed view.
        x0, y0, x1, y1 = plan.counties.total_bounds
        (bx0, bx1), (by0, by1) = datum.from_wgs84(np.array([x0, x1]), np.array([y0, y1]),
                                                  src.datum)
        m.fit_bounds([[float(by0), float(bx0)], [float(by1), float(bx1)]])
    return maps.render_parts(m)


# Walk areas are drawn for this many of the first suggested sites at most.
WALK_AREA_SITES = 20
WALK_AREA_MINUTES = 15


def walk_areas(plan: runs.Plan, cfg: Mapping[str, Any]) -> Any:
    """The 15-minute walk area of each of the first suggested sites (WGS-84), or ``None``.

    Needs a configured street graph; each area is that of
    :func:`~locator.planning.network_distance.isochrone` at
    ``WALK_SPEED_M_PER_MIN``. A site off the graph gets no area.
    """
    import geopandas as gpd

    net = runs.network_distance.load(cfg)
    if net is None or not len(plan.suggestions):
        return None
    s = plan.suggestions.head(WALK_AREA_SITES)
    budget = WALK_AREA_MINUTES * float(cfg["WALK_SPEED_M_PER_MIN"])
    geoms = [runs.network_distance.isochrone(net, float(lo), float(la), distance=budget)[0]
             for lo, la in zip(s["lon"], s["lat"], strict=True)]
    out = gpd.GeoDataFrame({"rank": s["rank"].to_numpy()}, geometry=geoms, crs="EPSG:4326")
    return out[~out.geometry.is_empty].reset_index(drop=True)


def chart(curve: list[dict[str, float]]) -> dict[str, Any]:
    """Polyline coordinates of coverage share against new stations (inline SVG)."""
    w, h, pad = 560, 220, 40
    n = np.array([c["n"] for c in curve], float)
    s = np.array([c["share"] for c in curve], float)
    lo, hi = float(s.min()), float(s.max())
    if hi - lo < 1e-9:
        hi = lo + 0.01
    xmax = float(n.max()) or 1.0
    xs = pad + (w - 2 * pad) * n / xmax
    ys = h - pad - (h - 2 * pad) * (s - lo) / (hi - lo)
    pts = list(zip(xs.tolist(), ys.tolist(), strict=True))
    return {"w": w, "h": h, "pad": pad, "points": " ".join(f"{x:.1f},{y:.1f}" for x, y in pts),
            "dots": pts, "lo": lo, "hi": hi, "xmax": int(xmax)}


def form(cfg: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """Choices of the planner form, each labelled in the page's language."""
    layers = [runs.NONE_LAYER, *runs.demand_layers(cfg)]
    return {"presets": presets.describe(cfg, lang), "layers": layers,
            "layer_labels": {name: demand_label(name, lang) for name in layers},
            "kinds": [{"code": k.code, "label": k.zh if lang == "zh" else k.en}
                      for k in schema.KINDS],
            "max_n": cfg["MAX_SUGGEST_N"],
            "scopes": scope_options(cfg, lang),
            "has_network": runs.network_distance.network_path(cfg) is not None}


def scope_options(cfg: Mapping[str, Any], lang: str) -> list[dict[str, Any]]:
    """The areas a run can be limited to, grouped by city, for the form's select.

    Each group is a city: its first option is the whole city, then its counties.
    The whole province (value ``""``) comes first, alone.
    """
    table = regions.scopes(str(cfg["BOUNDARIES_DIR"]))
    t = STRINGS[lang]
    city = table[table["level"] != "province"]
    groups = [{"label": t["whole_province"], "options": [{"value": "",
                                                           "label": t["whole_province"]}]}]
    for code, part in city.groupby("city_adcode", sort=False):
        head = part.iloc[0]
        opts = [{"value": str(code), "label": f"{head['name']}（{t['whole_city']}）"
                 if len(part) > 1 else str(head["name"])}]
        opts += [{"value": str(a), "label": str(n).split(" ", 1)[-1]}
                 for a, n in zip(part["adcode"].iloc[1:], part["name"].iloc[1:], strict=True)]
        groups.append({"label": str(head["name"]), "options": opts})
    return groups


def result_context(plan: runs.Plan, *, lang: str, cfg: Mapping[str, Any],
                   vendor_prefix: str = VENDOR_PREFIX) -> dict[str, Any]:
    """Template variables that show a finished plan (page and offline report)."""
    share_col = "demand_share" if plan.unit == "people" else "area_share"
    key = ("map", lang, str(cfg["TILES"]), str(cfg["TIANDITU_KEY"]), vendor_prefix)
    if key not in plan.views:
        plan.views[key] = choropleth(plan, lang=lang, cfg=cfg, vendor_prefix=vendor_prefix)
    return {"plan": plan, "map": plan.views[key],
            "site_labels": site_label(plan.suggestions, lang).tolist(),
            "chart": chart(plan.curve),
            "rows": reports.records(names_en.translate(worst_first(plan)) if lang == "en"
                                    else worst_first(plan)), "share_col": share_col,
            "sorted_by": "uncovered" if plan.unit == "people" else "area_share",
            "colors": list(zip(COLORS, ("0", *[f"{b:.0%}" for b in BREAKS]), strict=True)),
            "kind_labels": {k.code: (k.zh if lang == "zh" else k.en) for k in schema.KINDS},
            "demand_name": demand_label(plan.params.demand, lang),
            "tables": reports.TABLES, "formats": reports.FORMATS}


def worst_first(plan: runs.Plan) -> Any:
    """The county table in the order that matters: most people (or area) uncovered first."""
    c = plan.counties
    if plan.unit == "people" and "uncovered_demand" in c:
        return c.sort_values("uncovered_demand", ascending=False, kind="stable")
    return c.sort_values("area_share", ascending=True, kind="stable")


def error_text(field: str | None, lang: str) -> str:
    """A readable sentence for a bad form value, in the page's language."""
    t = STRINGS[lang]
    label = t.get({"kind": "kinds", "n": "n"}.get(field or "", field or ""), field or "")
    return t["bad_param"].format(label=label) if label else t["bad_request"]


def _url_for(endpoint: str, **values: Any) -> str:
    if endpoint == "static":
        return STATIC_PREFIX + str(values["filename"])
    if endpoint == "vendor.asset":
        return f"{VENDOR_PREFIX}{values['name']}/{values['filename']}"
    return "#"


# A template environment, no data: one per templates folder.
@lru_cache(maxsize=1)
def _environment(templates: str) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates),
                             autoescape=jinja2.select_autoescape(["html"]))
    env.globals.update(url_for=_url_for, csp_nonce=lambda: "")
    env.filters["with_nonce"] = lambda text: Markup(str(text))
    return env


def _asset_path(url: str) -> Path | None:
    if url.startswith(VENDOR_PREFIX):
        name, _, rest = url[len(VENDOR_PREFIX):].partition("/")
        base = maps.VENDOR_PACKAGES.get(name)
        return None if base is None else Path(base) / rest
    if url.startswith(STATIC_PREFIX):
        return asset_dir("static") / url[len(STATIC_PREFIX):]
    return None


def _read(url: str) -> tuple[Path, str] | None:
    path = _asset_path(url)
    if path is None:
        return None
    try:
        return path, path.read_text(encoding="utf-8")
    except OSError:
        return None


def _inline_images(css: str, folder: Path) -> str:
    """Relative ``url(...)`` images of a stylesheet as data URIs (the layer-control icon)."""
    def one(m: re.Match[str]) -> str:
        rel = m.group(1).strip("'\"")
        if rel.startswith(("data:", "#", "http:", "https:", "/")):
            return m.group(0)
        try:
            body = (folder / rel).read_bytes()
        except OSError:
            return m.group(0)
        kind = mimetypes.guess_type(rel)[0] or "application/octet-stream"
        return f"url(data:{kind};base64,{base64.b64encode(body).decode('ascii')})"

    return re.sub(r"url\(([^)]+)\)", one, css)


def report_html(plan: runs.Plan, *, cfg: Mapping[str, Any], lang: str = "zh") -> str:
    """The planner page for one plan as a single offline HTML file.

    Leaflet, the page script, styles and their images are inlined; there is
    no form and no download link, since no server stands behind the file.
    """
    ctx: dict[str, Any] = {"lang": lang, "strings": STRINGS[lang], "demo": plan.demo,
                           "p": plan.params, "form": form(cfg, lang), "query": {},
                           "other_lang": lang, "report": True,
                           **result_context(plan, lang=lang, cfg=cfg)}
    page = _environment(str(asset_dir("templates"))).get_template("planner.html").render(**ctx)

    def script(m: re.Match[str]) -> str:
        got = _read(m.group(1))
        return m.group(0) if got is None else \
            "<script>" + got[1].replace("</script", "<\\/script") + "</script>"

    def style(m: re.Match[str]) -> str:
        got = _read(m.group(1))
        if got is None:
            return m.group(0)
        return "<style>" + _inline_images(got[1], got[0].parent).replace("</style", "") \
            + "</style>"

    page = re.sub(r'<script(?: nonce="[^"]*")? src="([^"]+)"></script>', script, page)
    return re.sub(r'<link rel="stylesheet" href="([^"]+)"\s*/?>', style, page)
