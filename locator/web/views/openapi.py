"""/openapi.json and the Swagger UI page at /api/docs (assets served locally)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, send_from_directory
from flask.typing import ResponseReturnValue
from swagger_ui_bundle import swagger_ui_path

from locator.geo import regions
from locator.web import state
from locator.web.urls import base_url

bp = Blueprint("openapi", __name__)

OPENAPI_TYPE = "application/vnd.oai.openapi+json;version=3.0"


@bp.get("/openapi.json")
def document() -> ResponseReturnValue:
    # Imported on first use: the document builder and the planner's layers add a
    # tenth of a second to every worker's start, and few requests ask for it.
    from locator.openapi.document import document as build_document
    from locator.planning import runs

    cfg = current_app.config
    doc = build_document(server=base_url(), demo=state.current().demo, max_k=cfg["MAX_K"],
                           bbox_limit=cfg["BBOX_LIMIT"], max_n=cfg["MAX_SUGGEST_N"],
                           max_distance_m=cfg["MAX_DISTANCE_M"],
                           demand_layers=[runs.NONE_LAYER, *runs.demand_layers(cfg)],
                           scopes=regions.scopes(str(cfg["BOUNDARIES_DIR"]))["adcode"].tolist(),
                           area=regions.bounds(str(cfg["BOUNDARIES_DIR"])))
    resp = current_app.json.response(doc)
    # GDAL's OGC API client asks for the OpenAPI media type by name.
    if "vnd.oai.openapi" in request.headers.get("Accept", ""):
        resp.headers["Content-Type"] = OPENAPI_TYPE
    return resp


@bp.get("/api/docs")
def docs() -> ResponseReturnValue:
    return render_template("api_docs.html")


@bp.get("/api/docs/assets/<path:filename>")
def asset(filename: str) -> ResponseReturnValue:
    return send_from_directory(swagger_ui_path, filename, max_age=7 * 24 * 3600)
