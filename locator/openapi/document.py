"""The OpenAPI 3.0 description of every public endpoint.

Built from the same vocabularies and limits the code validates against, so
the document cannot drift from the enumerations it lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from locator.domain import params, schema
from locator.openapi import admin, planning, staff
from locator.openapi.parts import ERROR_REF, FC_REF, _get, _html, _json, _p, _path, _q
from locator.services import embed, ogc

LAT = {"type": "number", "minimum": -90, "maximum": 90}
LON = {"type": "number", "minimum": -180, "maximum": 180}
BOOL = {"type": "boolean"}
BBOX_TEXT = {"type": "string", "pattern": params.BBOX_RE,
             "example": "113.60,34.70,113.75,34.80"}
F = _p("f")


def _api_paths(max_k: int, bbox_limit: int, max_distance_m: float | None,
               ) -> dict[str, Any]:
    kind_p, amen_p = _p("kind"), _p("amenity")
    open_p = _q("open_now", "Only stations open now (Asia/Shanghai time).", BOOL)
    station = {"$ref": "#/components/schemas/Feature"}
    return {
        "/api/v1/nearest": _get(
            "Nearest stations by geodesic distance", "stations",
            [_p("lat", required=True), _p("lon", required=True),
             _p("k", hi=max_k, default=None),
             kind_p, amen_p, open_p,
             _q("include_temporarily_closed", "Also list temporarily closed stations.", BOOL),
             _p("max_distance_m", hi=max_distance_m),
             _p("crs", description="Datum of lat/lon."), _p("out_crs"),
             _q("links", "Navigation links: app and web (all), web only, or none.",
                {"type": "string", "enum": ["all", "web", "none"], "default": "all"}),
             _p("lang")],
            _json("Stations nearest first, with distance, bearing and walk time "
                  "(walk_min is null past 10 km). walk_distance_m and walk_min run along "
                  "the streets when a walking graph is configured (walk_basis: network), "
                  "else they are the straight distance times the detour factor "
                  "(walk_basis: estimate); query.walk_distance says which the server "
                  "uses. query.in_service_area is false when the "
                  "point lies outside Henan; the nearest stations are still returned.",
                  FC_REF)),
        "/api/v1/stations": _get(
            "Stations in a map viewport (clustered when many)", "stations",
            [_q("bbox", "minlon,minlat,maxlon,maxlat in `crs`.", BBOX_TEXT, required=True),
             _p("crs", description="Datum of the box and of the returned coordinates."),
             kind_p, amen_p, open_p,
             _p("limit", hi=bbox_limit), _p("grid"),
             _p("lang")],
            _json("Stations, or grid clusters with counts.", FC_REF)),
        "/api/v1/stations/{station_id}": {
            **_get("One station", "stations",
                   [_path("station_id", "Station id."),
                    _p("out_crs")],
                   _json("The station.", station), errors=("400", "404", "429")),
        },
        "/api/v1/stations/{station_id}/isochrone": {
            **_get("The area reachable on foot from a station (a GeoJSON polygon built from "
                   "the reached street edges; needs a configured street graph)", "stations",
                   [_path("station_id", "Station id."),
                    _q("minutes", "Walking minutes (at WALK_SPEED_M_PER_MIN).",
                       {"type": "number", "minimum": 1, "maximum": 120, "default": 15}),
                    _p("out_crs")],
                   _json("A GeoJSON Feature with the walkable area.", {"type": "object"}),
                   errors=("400", "404", "409", "429")),
        },
        "/api/v1/stations.geojson": _get(
            "Every live station as one GeoJSON download", "downloads",
            [_p("crs"),
             _q("source", "Only the stations of this import source.", {"type": "string"})],
            _json("All stations.", FC_REF, media="application/geo+json")),
        "/api/v1/stations.csv": _get(
            "Every live station as one CSV download (formula cells neutralised)", "downloads",
            [_p("crs", description="Datum of the lon/lat columns."),
             _q("source", "Only the stations of this import source.", {"type": "string"})],
            {"description": "All stations, UTF-8 with BOM.",
             "content": {"text/csv": {"schema": {"type": "string"}}}}),
        "/api/v1/convert": _get(
            "Convert a point between WGS-84, GCJ-02 and BD-09", "coordinates",
            [_q("lat", "Latitude.", LAT, required=True),
             _q("lon", "Longitude.", LON, required=True),
             _q("from", "Datum of the input.", _p("crs")["schema"]),
             _q("to", "Datum of the output.", _p("crs")["schema"])],
            _json("The converted point.", {"type": "object", "properties": {
                "lon": {"type": "number"}, "lat": {"type": "number"},
                "crs": {"type": "string"}}})),
        "/api/v1/search": _get(
            "Search station names and addresses, county and city names, the places, roads "
            "and POIs of an OpenStreetMap names index when one is configured, and an online "
            "geocoder (Tianditu or Amap) when one is configured", "stations",
            [_q("q", "Text typed by the user: simplified or traditional characters, full- or "
                "half-width, pinyin initials of a place, small typos allowed.",
                {"type": "string", "minLength": 1, "maxLength": 64}, required=True),
             _q("limit", "Most results.", {"type": "integer", "minimum": 1, "maximum": 50,
                                           "default": 10}),
             _p("lang", description="Language of messages.")],
            _json("Ranked matches, WGS-84 points.", {"type": "object", "properties": {
                "query": {"type": "string"}, "numberReturned": {"type": "integer"},
                "results": {"type": "array", "items": {"type": "object", "properties": {
                    "type": {"type": "string", "enum": ["city", "county", "station",
                                                        "osm_place", "osm_road", "osm_poi",
                                                        "geocoder"]},
                    "label": {"type": "string"}, "context": {"type": "string"},
                    "ref": {"type": "string"}, "lon": {"type": "number"},
                    "lat": {"type": "number"}, "score": {"type": "number"}}}},
                "geocoder": {"type": "object", "description": "Present when an online "
                             "geocoder is configured and was asked (GEOCODER).",
                             "properties": {"service": {"type": "string"},
                                            "status": {"type": "string",
                                                       "enum": ["ok", "unavailable"]}}}}})),
        "/api/v1/outlines": _get(
            "Simplified county outlines, the map's fallback base layer", "reference",
            [_p("crs", description="Datum of the coordinates (the map tiles' datum).")],
            _json("County outlines.", {"type": "object"}, media="application/geo+json")),
        "/api/v1/vocabulary": _get(
            "Kinds, amenities, statuses and access with Chinese and English labels",
            "reference", [], _json("The vocabularies.", {"type": "object"}), errors=("429",)),
        "/api/v1/health": _get(
            "Service health and dataset version", "reference", [],
            _json("Health.", {"type": "object", "required": ["status", "stations"],
                              "properties": {"status": {"type": "string"},
                                             "stations": {"type": "integer"},
                                             "version": {"type": "string"},
                                             "demo": {"type": "boolean"}}}),
            errors=("429",)),
    }


def _ogc_paths(prefix: str = "/ogc") -> dict[str, Any]:
    coll = _path("collectionId", "Collection: " + ", ".join(ogc.COLLECTIONS) + ".")
    coll["schema"] = {"type": "string", "enum": list(ogc.COLLECTIONS)}
    geo = "application/geo+json"
    both = {"description": "", "content": {}}

    def ok(desc: str, ref: str, media: str = "application/json") -> dict[str, Any]:
        out = dict(both)
        out["description"] = desc
        out["content"] = {media: {"schema": {"$ref": ref}},
                          "text/html": {"schema": {"type": "string"}}}
        return out

    return {
        prefix or "/": _get("OGC API – Features landing page", "ogc", [F],
                     ok("Links to the API definition, conformance and collections.",
                        "#/components/schemas/Landing")),
        f"{prefix}/conformance": _get("Conformance classes", "ogc", [F],
                                 ok("The conformance classes implemented.",
                                    "#/components/schemas/Conformance")),
        f"{prefix}/collections": _get("The feature collections", "ogc", [F],
                                 ok("Every collection with its extent.",
                                    "#/components/schemas/Collections")),
        f"{prefix}/collections/{{collectionId}}": _get(
            "One collection", "ogc", [coll, F],
            ok("The collection with its extent.", "#/components/schemas/Collection"),
            errors=("400", "404", "429")),
        f"{prefix}/collections/{{collectionId}}/items": _get(
            "Stations of a collection, a page at a time", "ogc",
            [coll, F,
             _p("ogc_bbox"), _p("ogc_limit"), _p("offset"), _p("datetime"), _p("kind"),
             _q("county_adcode", "6-digit county adcodes; a city code (ending in 00) "
                                 "means every county of the city.",
                {"type": "array", "items": {"type": "string", "pattern": r"^\d{6}$"}},
                explode=True),
             _p("amenity"),
             _q("status", "Station statuses.",
                {"type": "array", "items": {"type": "string",
                                            "enum": list(schema.STATUS_CODES)}},
                explode=True),
             _q("modified_since", "Only stations whose content (any field or the position) "
                                  "changed on or after this UTC date, by `modified_at`.",
                {"type": "string", "format": "date"})],
            ok("A page of stations.", "#/components/schemas/FeatureCollection", geo),
            errors=("400", "404", "429")),
        f"{prefix}/collections/{{collectionId}}/schema": _get(
            "The properties of the collection's stations, as JSON Schema", "ogc", [coll],
            _json("Every item property with its type; `reported` and `last_verified` are "
                  "the workers' open reports and the newest positive check.",
                  {"type": "object"}, media=ogc.SCHEMA_JSON),
            errors=("404", "429")),
        f"{prefix}/collections/{{collectionId}}/queryables": _get(
            "The properties stations can be filtered on", "ogc", [coll],
            _json("Each filterable property, naming the items parameter that filters it.",
                  {"type": "object"}, media=ogc.SCHEMA_JSON),
            errors=("404", "429")),
        f"{prefix}/collections/{{collectionId}}/items/{{featureId}}": _get(
            "One station", "ogc", [coll, _path("featureId", "Station id."), F],
            ok("The station.", "#/components/schemas/Feature", geo),
            errors=("400", "404", "429")),
    }


def _page_paths() -> dict[str, Any]:
    lang = _p("lang", description="Language.", default=None)
    embed_params = [
        _p("kind", description="Kinds to show (repeat or comma-separate)."),
        _p("amenity"),
        _q("region", "Adcode of a Henan city or county to fit the map to (404 when no city "
           "or county has it); it wins over bbox.", {"type": "string", "pattern": r"^\d{6}$"}),
        _q("bbox", "minlon,minlat,maxlon,maxlat (WGS-84) to fit the map to.", BBOX_TEXT),
        _q("center", "lat,lon (WGS-84) of the map centre.",
           {"type": "string", "pattern": params.CENTER_RE}),
        _p("zoom", description="Map zoom."),
        lang,
        _q("list", "Show the station list under the map.", BOOL),
        _q("theme", "Colour theme.", {"type": "string", "enum": list(embed.THEMES)}),
        _q("accent", "Accent colour as 6 hex digits.",
           {"type": "string", "pattern": "^#?[0-9a-fA-F]{6}$"}),
    ]
    return {
        "/": _get("The worker map", "pages",
                  [lang, _q("lat", "Fixed location latitude.", LAT),
                   _q("lon", "Fixed location longitude.", LON)],
                  _html("The map page."), errors=("400",)),
        "/embed": _get("The embeddable map (for an iframe)", "embedding", embed_params,
                       _html("The embed page."), errors=("400", "404")),
        "/embed/builder": _get("Build an embed snippet with a live preview", "embedding",
                               [lang], _html("The builder page."), errors=("400",)),
        "/oembed": {"get": {
            "summary": "oEmbed (type rich) for this site's /embed URLs", "tags": ["embedding"],
            "parameters": [
                _q("url", "An /embed URL of this site (404 for any other).",
                   {"type": "string", "minLength": 1}, required=True),
                _q("maxwidth", "Largest width in pixels.",
                   {"type": "integer", "minimum": 1, "maximum": 10000}),
                _q("maxheight", "Largest height in pixels.",
                   {"type": "integer", "minimum": 1, "maximum": 10000}),
                _q("format", "Only json is provided; xml answers 501.",
                   {"type": "string", "enum": ["json", "xml"]})],
            "responses": {"200": _json("The oEmbed document.",
                                       {"$ref": "#/components/schemas/OEmbed"}),
                          "400": ERROR_REF, "404": ERROR_REF, "429": ERROR_REF,
                          "501": ERROR_REF}}},
        "/ogc/api": _get("The OGC API's own OpenAPI document (paths relative to /ogc)", "ogc",
                         [], _json("OpenAPI 3.0 document.", {"type": "object"}), errors=()),
        "/openapi.json": _get("This document", "reference", [],
                              _json("OpenAPI 3.0 document.", {"type": "object"}), errors=()),
        "/api/docs": _get("Interactive API documentation", "reference", [],
                          _html("Swagger UI."), errors=()),
    }


def _components() -> dict[str, Any]:
    link = {"type": "object", "required": ["href", "rel"],
            "properties": {k: {"type": "string"} for k in ("href", "rel", "type", "title")}}
    links = {"type": "array", "items": {"$ref": "#/components/schemas/Link"}}
    feature = {"type": "object", "required": ["type", "geometry", "properties"],
               "properties": {"type": {"type": "string", "enum": ["Feature"]},
                              "id": {"type": "string"},
                              "geometry": {"type": "object"},
                              "properties": {"type": "object"},
                              "links": links}}
    return {
        "schemas": {
            # An operation may document more members beside these four for one status
            # (``allOf`` this schema and its own), e.g. both versions of a 409 edit conflict.
            "Error": {"type": "object", "required": ["status", "code", "message", "field"],
                      "properties": {"status": {"type": "integer"},
                                     "code": {"type": "string"},
                                     "message": {"type": "string"},
                                     "field": {"type": "string", "nullable": True}}},
            "Link": link,
            "Feature": feature,
            "FeatureCollection": {
                "type": "object", "required": ["type", "features"],
                "properties": {"type": {"type": "string", "enum": ["FeatureCollection"]},
                               "features": {"type": "array",
                                            "items": {"$ref": "#/components/schemas/Feature"}},
                               "numberMatched": {"type": "integer", "minimum": 0},
                               "numberReturned": {"type": "integer", "minimum": 0},
                               "links": links}},
            "Landing": {"type": "object", "required": ["links"],
                        "properties": {"title": {"type": "string"},
                                       "description": {"type": "string"}, "links": links}},
            "Conformance": {"type": "object", "required": ["conformsTo"],
                            "properties": {"conformsTo": {"type": "array",
                                                          "items": {"type": "string"}}}},
            "Collection": {"type": "object", "required": ["id", "links"],
                           "properties": {"id": {"type": "string"},
                                          "title": {"type": "string"},
                                          "extent": {"type": "object"}, "links": links}},
            "Collections": {"type": "object", "required": ["links", "collections"],
                            "properties": {"links": links, "collections": {
                                "type": "array",
                                "items": {"$ref": "#/components/schemas/Collection"}}}},
            "OEmbed": {"type": "object",
                       "required": ["version", "type", "html", "width", "height"],
                       "properties": {"version": {"type": "string", "enum": ["1.0"]},
                                      "type": {"type": "string", "enum": ["rich"]},
                                      "title": {"type": "string"},
                                      "provider_name": {"type": "string"},
                                      "provider_url": {"type": "string"},
                                      "cache_age": {"type": "integer"},
                                      "html": {"type": "string"},
                                      "width": {"type": "integer"},
                                      "height": {"type": "integer"}}},
        },
        "responses": {"Error": _json("An error in the one error shape.",
                                     {"$ref": "#/components/schemas/Error"})},
        "securitySchemes": {"staffSession": staff.SECURITY_SCHEME},
    }


def document(*, server: str, demo: bool, max_k: int = 50, bbox_limit: int = 2000,
             max_n: int = 200, max_distance_m: float | None = None,
             demand_layers: Sequence[str] = (), scopes: Sequence[str] = (),
             area: Sequence[float] = (-180.0, -90.0, 180.0, 90.0)) -> dict[str, Any]:
    """The OpenAPI 3.0.3 document, with ``server`` as the base URL.

    ``demand_layers`` names the planner's demand layers on this server, ``scopes``
    the adcodes a run can be limited to; ``area`` is ``[minlon, minlat, maxlon,
    maxlat]`` of the counties it serves.
    """
    notice = (" The data served now is synthetic demo data (演示数据), not real stations."
              if demo else "")
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Locator API · 职工服务站点",
            "version": "1",
            "description": "Henan trade-union service stations for outdoor workers: nearest "
                           "search, map viewports, OGC API – Features for GIS tools, and "
                           "embedding. Every error is `{status, code, message, field}`. "
                           "GET answers carry ETag/Last-Modified (304 on If-None-Match), "
                           "CORS for any origin, and per-client rate limits (429)." + notice,
            "license": {"name": "MIT"},
        },
        "servers": [{"url": server}],
        "tags": [{"name": n} for n in ("stations", "coordinates", "reference", "ogc",
                                       "embedding", "pages", "planning", "feedback",
                                       "staff")],
        "paths": {**_api_paths(max_k, bbox_limit, max_distance_m), **_ogc_paths(),
                  **_page_paths(), **planning.paths(max_n, demand_layers, scopes), **staff.paths(),
                  **staff.feedback_paths(area), **admin.paths(area, scopes)},
        "components": _components(),
    }


def ogc_document(*, server: str, demo: bool) -> dict[str, Any]:
    """The OpenAPI document of the OGC API alone, with ``server`` ending in ``/ogc``.

    OGC clients (GDAL, QGIS) look up the items operation at
    ``/collections/{collectionId}/items`` relative to the landing page to learn
    which query parameters the server filters on, so the paths here carry no
    ``/ogc`` prefix.
    """
    doc = document(server=server, demo=demo)
    doc["info"]["title"] = "Locator OGC API – Features · 职工服务站点"
    doc["paths"] = _ogc_paths(prefix="")
    doc["tags"] = [{"name": "ogc"}]
    return doc
