"""OGC API – Features under /ogc: parse, call :mod:`locator.services.ogc`, answer JSON or HTML."""

from __future__ import annotations

from typing import Any, cast

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue

from locator.domain import params
from locator.domain.params import TABLE as P
from locator.errors import invalid
from locator.services import ogc, ogc_schema
from locator.web import feedback_flags, state
from locator.web.urls import base_url

bp = Blueprint("ogc", __name__, url_prefix="/ogc")

_COMMON = ("f",)


def _format(allowed: tuple[str, ...] = _COMMON) -> str:
    """``f=json|html`` wins; otherwise the Accept header decides; JSON by default."""
    unknown = sorted(set(request.args) - set(allowed))
    if unknown:
        raise invalid(unknown[0], f"unknown query parameter {unknown[0]!r}; this resource "
                                  f"takes: {', '.join(allowed)}")
    f = request.args.get("f")
    if f is not None:
        return params.TABLE["f"].parse(f, default="json")
    best = request.accept_mimetypes.best_match(
        [ogc.GEOJSON, ogc.JSON, ogc.HTML], default=ogc.JSON)
    return "html" if best == ogc.HTML else "json"


def _base() -> str:
    return base_url() + url_for("ogc.landing").rstrip("/")


def _json(body: dict[str, Any], mimetype: str) -> Response:
    resp = cast(Response, current_app.json.response(body))
    resp.mimetype = mimetype
    return resp


def _html(body: dict[str, Any], *, title: str, kind: str) -> ResponseReturnValue:
    return render_template("ogc.html", doc=body, title=title, kind=kind,
                           demo=state.current().demo, lang="zh",
                           strings={"title": title})


@bp.get("")
@bp.get("/")
def landing() -> ResponseReturnValue:
    fmt = _format()
    body = ogc.landing(_base(), api_url=_base() + "/api",
                       docs_url=base_url() + url_for("openapi.docs"), html=fmt == "html")
    if fmt == "html":
        return _html(body, title=body["title"], kind="landing")
    return _json(body, ogc.JSON)


@bp.get("/api")
def api_document() -> ResponseReturnValue:
    """The OGC API's OpenAPI document, served at the landing page's ``service-desc``."""
    # Imported on first use, as /openapi.json does: it is slow to load and rarely asked.
    from locator.openapi import document

    _format()  # refuses unknown parameters; the document is JSON either way
    doc = document.ogc_document(server=_base(), demo=state.current().demo)
    wants = request.headers.get("Accept", "")
    return _json(doc, ogc.OPENAPI if "vnd.oai.openapi" in wants else ogc.JSON)


@bp.get("/conformance")
def conformance() -> ResponseReturnValue:
    fmt = _format()
    body = ogc.conformance()
    if fmt == "html":
        return _html(body, title="Conformance", kind="conformance")
    return _json(body, ogc.JSON)


@bp.get("/collections")
def collections() -> ResponseReturnValue:
    fmt = _format()
    body = ogc.collections(state.current(), _base(), html=fmt == "html")
    if fmt == "html":
        return _html(body, title="Collections", kind="collections")
    return _json(body, ogc.JSON)


@bp.get("/collections/<cid>")
def collection(cid: str) -> ResponseReturnValue:
    fmt = _format()
    body = ogc.describe(state.current(), cid, _base(), html=fmt == "html")
    if fmt == "html":
        return _html(body, title=body["title"], kind="collection")
    return _json(body, ogc.JSON)


def items_query() -> ogc.ItemsQuery:
    """Validate the items parameters; a limit over the maximum is capped, as the standard allows."""
    a = request.args
    limit = P["ogc_limit"].parse(a.get("limit"))
    interval = ogc.parse_datetime(a["datetime"]) if a.get("datetime") else None
    since = a.get("modified_since")
    return ogc.ItemsQuery(
        bbox=ogc.parse_bbox(a["bbox"]) if a.get("bbox") else None,
        limit=min(limit, ogc.MAX_LIMIT),
        offset=P["offset"].parse(a.get("offset")),
        kinds=tuple(params.kinds(a.getlist("kind"))),
        county_adcodes=ogc.parse_adcodes(a.getlist("county_adcode")),
        amenity_mask=params.amenities(a.getlist("amenity")),
        statuses=ogc.parse_statuses(a.getlist("status")),
        modified_since=ogc.parse_day("modified_since", since) if since else None,
        interval=interval,
    )


@bp.get("/collections/<cid>/schema")
def feature_schema(cid: str) -> ResponseReturnValue:
    ogc.collection(cid)
    return _json(ogc_schema.document(cid, _base()), ogc.SCHEMA_JSON)


@bp.get("/collections/<cid>/queryables")
def queryables(cid: str) -> ResponseReturnValue:
    ogc.collection(cid)
    return _json(ogc_schema.queryables(cid, _base()), ogc.SCHEMA_JSON)


@bp.get("/collections/<cid>/items")
def items(cid: str) -> ResponseReturnValue:
    ogc.collection(cid)
    fmt = _format(ogc.ITEM_PARAMS)
    q = items_query()
    ds = state.current()
    body = ogc.items(ds, cid, q, _base(), args=list(request.args.items(multi=True)),
                     extra=feedback_flags.for_rows(ds, as_text=True))
    if fmt == "html":
        return _html(body, title=ogc.COLLECTIONS[cid].title, kind="items")
    return _json(body, ogc.GEOJSON)


@bp.get("/collections/<cid>/items/<fid>")
def item(cid: str, fid: str) -> ResponseReturnValue:
    fmt = _format()
    ds = state.current()
    body = ogc.item(ds, cid, fid, _base(), extra=feedback_flags.for_rows(ds, as_text=True))
    if fmt == "html":
        return _html(body, title=str(body["properties"]["name"]), kind="item")
    return _json(body, ogc.GEOJSON)
