"""The planner: ``/planner`` page, its downloads and ``/api/v1/coverage|suggest|jobs``.

Planning runs are computed by a background pool (:mod:`locator.jobs.threads`), keyed
by parameters and dataset version; requests never compute on their own
thread. An API call waits up to ``wait`` seconds and otherwise answers 202
with the job URL to poll.
"""

from __future__ import annotations

import contextlib
import html
from functools import lru_cache
from typing import Any

import folium
import numpy as np
import shapely
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    jsonify,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from locator.domain import i18n, params, presets, schema
from locator.errors import LocatorError, not_found
from locator.geo import datum, maps, regions
from locator.jobs.threads import Job, Jobs
from locator.planning import reports, runs
from locator.web import state
from locator.web.views.planner_text import STRINGS

bp = Blueprint("planner", __name__)
COLORS = ("#d73027", "#fc8d59", "#fee08b", "#d9ef8b", "#91cf60", "#1a9850")
BREAKS = (0.1, 0.2, 0.4, 0.6, 0.8)
PAGE_DEFAULT_N = 10
PAGE_WAIT_S = 2.0


def effective_query(p: runs.PlanParams) -> dict[str, list[str]]:
    """Query arguments that reproduce ``p`` (for downloads and the language link)."""
    q = {"kind": list(p.kinds), "radius": [f"{p.radius:g}"], "detour": [f"{p.detour:g}"],
         "demand": [p.demand], "n": [str(p.n)], "distance": [p.distance]}
    if p.preset:
        q["preset"] = [p.preset]
    return q


def jobs() -> Jobs:
    app = current_app
    pool = app.extensions.get("locator.jobs.threads")
    if pool is None:
        pool = Jobs(workers=app.config["PLANNER_WORKERS"], keep=app.config["PLANNER_CACHE"])
        app.extensions["locator.jobs.threads"] = pool
    return pool


def _start(p: runs.PlanParams) -> Job:
    ds = state.current()
    cfg = dict(current_app.config)
    return jobs().submit(p.key(ds.version), lambda: runs.run(p, ds, cfg))


def _job_answer(job: Job, *, wait: float) -> ResponseReturnValue:
    try:
        plan = job.future.result(timeout=wait) if wait > 0 or job.future.done() else None
    except TimeoutError:
        plan = None
    except LocatorError:
        raise
    if plan is None:
        resp = jsonify({"job": job.id, "state": job.state,
                        "poll": url_for("planner.job", job_id=job.id)})
        resp.status_code = 202
        resp.headers["Location"] = url_for("planner.job", job_id=job.id)
        return resp
    return jsonify(reports.to_json(plan))


def _api(with_n: bool) -> ResponseReturnValue:
    p = runs.parse(request.args, current_app.config, with_n=with_n)
    wait = params.number("wait", request.args.get("wait"), lo=0, hi=60, default=20)
    return _job_answer(_start(p), wait=wait)


@bp.get("/api/v1/coverage")
def api_coverage() -> ResponseReturnValue:
    return _api(False)


@bp.get("/api/v1/suggest")
def api_suggest() -> ResponseReturnValue:
    return _api(True)


@bp.get("/api/v1/jobs/<job_id>")
def job(job_id: str) -> ResponseReturnValue:
    found = jobs().get(job_id)
    if found is None:
        raise not_found(f"no planning job {job_id!r} (finished jobs expire)", "job")
    return _job_answer(found, wait=0)


@bp.get("/api/v1/presets")
def api_presets() -> ResponseReturnValue:
    lang = i18n.pick(request.args.get("lang"), current_app.config["DEFAULT_LANG"])
    return jsonify({"presets": presets.describe(current_app.config, lang),
                    "demand_layers": [runs.NONE_LAYER,
                                      *runs.demand_layers(current_app.config)]})


def safe_text(value: Any) -> str:
    """Text for Folium tooltips, which land in innerHTML and JS template literals."""
    text = html.escape("" if value is None else str(value), quote=True)
    return text.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def _color(share: float | None) -> str:
    if share is None or not np.isfinite(share):
        return "#bbbbbb"
    return COLORS[int(np.searchsorted(BREAKS, share, side="right"))]


@lru_cache(maxsize=4)
def _county_shapes(boundaries: str, tile_datum: str) -> np.ndarray:
    geoms = regions.counties(boundaries).geometry.simplify(0.004).to_numpy()
    if tile_datum == "wgs84":
        return geoms
    return _to_datum(geoms, tile_datum)


def _to_datum(geoms: np.ndarray, tile_datum: str) -> np.ndarray:
    def move(xy: np.ndarray) -> np.ndarray:
        x, y = datum.from_wgs84(xy[:, 0], xy[:, 1], tile_datum)
        return np.column_stack([x, y])

    return shapely.transform(geoms, move) if tile_datum != "wgs84" else geoms


def _map(plan: runs.Plan, lang: str) -> dict[str, Any]:
    cfg = current_app.config
    t = STRINGS[lang]
    src = maps.tile_source(cfg["TILES"])
    vendor_prefix = url_for("vendor.asset", name="x", filename="y")[: -len("x/y")]
    m = maps.build_map(tiles=cfg["TILES"], center=(34.0, 113.6), zoom=7,
                       tianditu_key=cfg["TIANDITU_KEY"], vendor_url=lambda p: vendor_prefix + p)
    share_col = "demand_share" if plan.unit == "people" else "area_share"
    shapes = _county_shapes(str(cfg["BOUNDARIES_DIR"]), src.datum)
    feats = []
    for i, row in enumerate(plan.counties.itertuples(index=False)):
        share = getattr(row, share_col)
        share = None if share is None or not np.isfinite(share) else float(share)
        feats.append({"type": "Feature", "geometry": shapely.geometry.mapping(shapes[i]),
                      "properties": {"name": safe_text(f"{row.city} {row.county}"),
                                     "share": "—" if share is None else f"{share:.1%}",
                                     "color": _color(share)}})
    folium.GeoJson(
        {"type": "FeatureCollection", "features": feats}, name=t["coverage_map"],
        style_function=lambda f: {"fillColor": f["properties"]["color"], "color": "#555",
                                  "weight": 0.6, "fillOpacity": 0.65},
        tooltip=folium.GeoJsonTooltip(fields=["name", "share"],
                                      aliases=[t["county"], t["legend"]])).add_to(m)
    if len(plan.gaps):
        boxes = _to_datum(plan.gaps.geometry.to_numpy(), src.datum)
        gfeats = [{"type": "Feature", "geometry": shapely.geometry.mapping(b),
                   "properties": {"rank": int(r.rank), "county": safe_text(r.county),
                                  "demand": f"{r.uncovered_demand:,.0f}"}}
                  for b, r in zip(boxes, plan.gaps.itertuples(index=False), strict=True)]
        folium.GeoJson({"type": "FeatureCollection", "features": gfeats}, name=t["gaps"],
                       style_function=lambda f: {"color": "#7b0000", "weight": 1,
                                                 "fillColor": "#b30000",
                                                 "fillOpacity": 0.45},
                       tooltip=folium.GeoJsonTooltip(fields=["rank", "county", "demand"],
                                                     aliases=["#", t["county"],
                                                              t["uncovered"]])).add_to(m)
    if len(plan.suggestions):
        sx, sy = datum.from_wgs84(plan.suggestions["lon"].to_numpy(float),
                                  plan.suggestions["lat"].to_numpy(float), src.datum)
        group = folium.FeatureGroup(name=t["sites"]).add_to(m)
        for k, r in enumerate(plan.suggestions.itertuples(index=False)):
            label = safe_text(f"#{int(r.rank)} {r.county} +{r.adds:,.0f} {r.name}".strip())
            folium.Marker([float(sy[k]), float(sx[k])], tooltip=folium.Tooltip(label),
                          icon=folium.DivIcon(html=f'<div class="site-num">{int(r.rank)}</div>',
                                              icon_size=(26, 26), icon_anchor=(13, 13))
                          ).add_to(group)
    folium.LayerControl(collapsed=True).add_to(m)
    return maps.render_parts(m)


def _chart(curve: list[dict[str, float]]) -> dict[str, Any]:
    """Polyline coordinates of coverage share against new stations (inline SVG)."""
    w, h, pad = 560, 220, 40
    n = [c["n"] for c in curve]
    s = [c["share"] for c in curve]
    lo, hi = min(s), max(s)
    if hi - lo < 1e-9:
        hi = lo + 0.01
    xmax = max(n) or 1
    pts = [(pad + (w - 2 * pad) * x / xmax, h - pad - (h - 2 * pad) * (y - lo) / (hi - lo))
           for x, y in zip(n, s, strict=True)]
    return {"w": w, "h": h, "pad": pad, "points": " ".join(f"{x:.1f},{y:.1f}" for x, y in pts),
            "dots": pts, "lo": lo, "hi": hi, "xmax": xmax}


def _form(lang: str) -> dict[str, Any]:
    cfg = current_app.config
    return {"presets": presets.describe(cfg, lang),
            "layers": [runs.NONE_LAYER, *runs.demand_layers(cfg)],
            "kinds": [{"code": k.code, "label": k.zh if lang == "zh" else k.en}
                      for k in schema.KINDS],
            "max_n": cfg["MAX_SUGGEST_N"],
            "has_network": runs.network_distance.network_path(cfg) is not None}


@bp.get("/planner")
def page() -> ResponseReturnValue:
    a = request.args
    lang = i18n.pick(a.get("lang"), current_app.config["DEFAULT_LANG"])
    p = runs.parse(a, current_app.config, with_n=False)
    if a.get("n") in (None, ""):
        # A first visit shows a small plan; n=0 asks for coverage alone.
        p = runs.PlanParams(**{**p.__dict__, "n": PAGE_DEFAULT_N})
    ds = state.current()
    job_ = _start(p)
    if not job_.future.done():
        # Short runs finish before the page would have to poll and reload.
        with contextlib.suppress(Exception):
            job_.future.result(timeout=PAGE_WAIT_S)
    query = effective_query(p)
    ctx: dict[str, Any] = {"lang": lang, "strings": STRINGS[lang], "demo": ds.demo,
                           "p": p, "form": _form(lang), "job": job_, "query": query,
                           "other_lang": "en" if lang == "zh" else "zh"}
    if job_.state == "running":
        ctx["poll"] = url_for("planner.job", job_id=job_.id)
        return render_template("planner.html", **ctx)
    if job_.state == "failed":
        exc = job_.future.exception()
        if isinstance(exc, LocatorError):
            raise exc
        ctx["failed"] = True
        return render_template("planner.html", **ctx), 500
    ctx.update(result_context(job_.future.result(), lang))
    return render_template("planner.html", **ctx)


def result_context(plan: runs.Plan, lang: str) -> dict[str, Any]:
    """Template variables that show a finished plan (page and standalone report)."""
    share_col = "demand_share" if plan.unit == "people" else "area_share"
    return {"plan": plan, "map": _map(plan, lang), "chart": _chart(plan.curve),
            "rows": reports.records(plan.counties), "share_col": share_col,
            "colors": list(zip(COLORS, ("0", *[f"{b:.0%}" for b in BREAKS]), strict=True)),
            "kind_labels": {k.code: (k.zh if lang == "zh" else k.en) for k in schema.KINDS},
            "tables": reports.TABLES, "formats": reports.FORMATS}


def standalone(plan: runs.Plan, *, lang: str = "zh") -> str:
    """The planner page for one plan as a single offline HTML file.

    Leaflet, the page script and styles are inlined; there is no form and no
    download link, since no server stands behind the file.
    """
    import re

    from flask import current_app as app

    ctx: dict[str, Any] = {"lang": lang, "strings": STRINGS[lang], "demo": plan.demo,
                           "p": plan.params, "form": _form(lang), "query": {},
                           "other_lang": lang, "report": True,
                           **result_context(plan, lang)}
    page_html = render_template("planner.html", **ctx)
    vendor_prefix = url_for("vendor.asset", name="x", filename="y")[: -len("x/y")]
    static_prefix = url_for("static", filename="x")[:-1]
    from locator.web.views.vendor import PACKAGES

    def read(url: str) -> str | None:
        if url.startswith(vendor_prefix):
            name, _, rest = url[len(vendor_prefix):].partition("/")
            base = PACKAGES.get(name)
            path = None if base is None else f"{base}/{rest}"
        elif url.startswith(static_prefix):
            path = f"{app.static_folder}/{url[len(static_prefix):]}"
        else:
            return None
        if path is None:
            return None
        try:
            with open(path, encoding="utf-8") as fh:  # noqa: PTH123
                return fh.read()
        except OSError:
            return None

    def script(m: re.Match[str]) -> str:
        body = read(m.group(1))
        return m.group(0) if body is None else \
            "<script>" + body.replace("</script", "<\\/script") + "</script>"

    def style(m: re.Match[str]) -> str:
        body = read(m.group(1))
        return m.group(0) if body is None else "<style>" + body + "</style>"

    page_html = re.sub(r'<script(?: nonce="[^"]*")? src="([^"]+)"></script>', script, page_html)
    return re.sub(r'<link rel="stylesheet" href="([^"]+)"\s*/?>', style, page_html)


@bp.get("/planner/download/<what>.<fmt>")
def download(what: str, fmt: str) -> ResponseReturnValue:
    params.choice("table", what, reports.TABLES, default="")
    params.choice("format", fmt, reports.FORMATS, default="")
    p = runs.parse(request.args, current_app.config, with_n=False)
    job_ = _start(p)
    try:
        plan = job_.future.result(timeout=60)
    except TimeoutError:
        return _job_answer(job_, wait=0)
    body = reports.to_bytes(plan, what, fmt)
    name = f"locator-{what}-{p.key(plan.version)[:8]}.{fmt}"
    return Response(body, mimetype=reports.MEDIA[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
