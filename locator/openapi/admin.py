"""OpenAPI paths of the union's work queue: the page, cases, edits, history, imports.

Every operation here needs a logged-in officer (the ``staffSession`` cookie), and
every state-changing one its CSRF token too. The bodies state the rules the server
checks wherever a schema can say them (the phone pattern, the amenity codes, the
bounds of a moved point, the detail each status needs); what it cannot say (the
opening-hours grammar, a reopening date not in the past) is in the descriptions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from locator.domain import schema
from locator.openapi.staff import ANY_JSON, CSRF_HEADER, ERROR_REF, STATION_ID, _html, _post

STAFF_ONLY: list[dict[str, list[str]]] = [{"staffSession": []}]


def _staff_only(paths: dict[str, Any]) -> dict[str, Any]:
    """Mark every API operation of ``paths`` as needing the staff session (the page sends
    anyone without one on to the login page instead)."""
    for path, ops in paths.items():
        if not path.startswith("/api/"):
            continue
        for op in ops.values():
            op["security"] = STAFF_ONLY
    return paths



def paths(area: Sequence[float], unions: Sequence[str]) -> dict[str, Any]:
    """The union's work queue, the page and its JSON API; every one needs the session."""
    case_id = {"name": "case_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    return _staff_only({
        "/admin": {"get": {"summary": "The union's work queue page (log in first)",
                           "tags": ["staff"], "parameters": [],
                           "responses": {"200": _html("The queue."),
                                         "302": {"description": "Not logged in: to /login."}}}},
        "/api/v1/admin/cases": {"get": {
            "summary": "The logged-in officer's queue: open cases and stale stations",
            "tags": ["staff"], "parameters": [{"name": "scope", "in": "query", "schema": {
                "type": "string", "enum": ["mine", "all"], "default": "mine"}}],
            "responses": {"200": ANY_JSON, "400": ERROR_REF, "401": ERROR_REF}}},
        "/api/v1/admin/photos/{photo_id}": {"get": {
            "summary": "A report's photo (officers of the case's area only)",
            "tags": ["staff"], "parameters": [{"name": "photo_id", "in": "path",
                                               "required": True,
                                               "schema": {"type": "integer"}}],
            "responses": {"200": {"description": "The photo, re-encoded without metadata.",
                                  "content": {"image/jpeg": {"schema": {
                                      "type": "string", "format": "binary"}},
                                      "image/png": {"schema": {
                                          "type": "string", "format": "binary"}}}},
                          "401": ERROR_REF, "403": ERROR_REF, "404": ERROR_REF}}},
        "/api/v1/admin/stations/{station_id}/history": {"get": {
            "summary": "Every recorded change of one station, newest first", "tags": ["staff"],
            "parameters": [STATION_ID],
            "responses": {"200": ANY_JSON, "401": ERROR_REF, "403": ERROR_REF,
                          "404": ERROR_REF}}},
        "/api/v1/admin/cases/{case_id}/resolve": _post(
            "Resolve or reject a case with a reply", "staff",
            {"type": "object", "properties": {
                "outcome": {"type": "string", "enum": ["resolved", "rejected"]},
                "reply": {"type": "string", "maxLength": 500}}},
            ANY_JSON, [case_id, CSRF_HEADER], ("400", "401", "403", "404", "409")),
        "/api/v1/admin/cases/{case_id}/accept": _post(
            "Publish a suggested station and close its case", "staff",
            {"type": "object", "properties": {"reply": {"type": "string", "maxLength": 500}}},
            ANY_JSON, [case_id, CSRF_HEADER], ("400", "401", "403", "404", "409")),
        "/api/v1/admin/stations/{station_id}": edit_paths(area),
        **import_paths(unions),
    })


def edit_schema(area: Sequence[float]) -> dict[str, Any]:
    """The body of an edit: the fields that may change, with the server's own rules."""
    text = {"type": "string", "maxLength": 200, "pattern": schema.SOME_TEXT_PATTERN}
    props = {
        "opening_hours": {"type": "string", "nullable": True, "maxLength": schema.MAX_TEXT,
                          "description": "OpenStreetMap opening_hours syntax, e.g. "
                                         "`Mo-Fr 08:00-18:00; PH off` (400 naming "
                                         "opening_hours for text it cannot read)."},
        "phone": {"type": "string", "nullable": True, "maxLength": 40,
                  "pattern": schema.PHONE_PATTERN,
                  "description": "Digits, spaces, + - ( ) , / and 转; empty clears it."},
        "amenities": {"type": "array", "uniqueItems": True,
                      "items": {"type": "string", "enum": list(schema.AMENITY_CODES)}},
        "status": {"type": "string", "enum": list(schema.STATUS_CODES)},
        "reopens_on": {"type": "string", "format": "date",
                       "description": "Needed with status temporarily_closed; today or "
                                      "later (400 for a day in the past)."},
        "closed_reason": {**text, "description": "Needed with status closed."},
        "lon": {"type": "number", "minimum": area[0], "maximum": area[2]},
        "lat": {"type": "number", "minimum": area[1], "maximum": area[3],
                "description": "A point in these bounds but outside the officer's "
                               "counties (or in none) answers 403."},
        "merge_into": {"type": "string", "minLength": 1, "maxLength": 64,
                       "description": "Close this station as a duplicate of that one "
                                      "(the other fields are then ignored)."}}
    # Each status brings the detail it needs (the station's own one also counts).
    needs = {"anyOf": [
        {"not": {"required": ["status"]}},
        {"properties": {"status": {"enum": ["open"]}}},
        {"properties": {"status": {"enum": ["temporarily_closed"]}},
         "required": ["reopens_on"]},
        {"properties": {"status": {"enum": ["closed"]}}, "required": ["closed_reason"]},
        {"required": ["merge_into"]}]}
    return {"type": "object", "minProperties": 1, "additionalProperties": False,
            "properties": props, **needs}


IF_MATCH = {"name": "If-Match", "in": "header", "required": True,
            "description": "The station's ETag from GET /api/v1/admin/stations/{station_id}, "
                           "or `*` for whatever version is live.",
            "schema": {"type": "string"}}
PRECONDITION = {"description": "428 precondition_required: no If-Match header was sent.",
                "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Error"}}}}


def _conflict(edit: dict[str, Any]) -> dict[str, Any]:
    return {"description": "409: the station changed since the ETag sent (code "
                           "edit_conflict, with both versions: the current record and the "
                           "submitted change), or its state forbids the change (codes "
                           "station_closed, merge_into_self, merge_target_closed).",
            "content": {"application/json": {"schema": {"allOf": [
                {"$ref": "#/components/schemas/Error"},
                {"type": "object", "properties": {
                    "current": {"type": "object", "description": "The station as saved now."},
                    "etag": {"type": "string", "description": "Its ETag, for the next edit."},
                    "submitted": {"type": "object", "description": "The change as sent "
                                  "(long values cut short).",
                                  "properties": edit["properties"]},
                    "submitted_etag": {"type": "string"}}}]}}}}


def edit_paths(area: Sequence[float]) -> dict[str, Any]:
    """Reading a station with its ETag, and editing it with ``If-Match``."""
    errors = ("400", "401", "403", "404")
    edit = edit_schema(area)
    return {
        "get": {"summary": "A station of the officer's area with its ETag", "tags": ["staff"],
                "parameters": [STATION_ID],
                "responses": {"200": ANY_JSON, "401": ERROR_REF, "403": ERROR_REF,
                              "404": ERROR_REF}},
        "patch": {"summary": "Edit a station (publishes a new version)", "tags": ["staff"],
                  "parameters": [STATION_ID, IF_MATCH, CSRF_HEADER],
                  "requestBody": {"required": True, "content": {
                      "application/json": {"schema": edit}}},
                  "responses": {"200": ANY_JSON, **dict.fromkeys(errors, ERROR_REF),
                                "409": _conflict(edit), "428": PRECONDITION}}}


#: What a station list may be sent as: the part's media type, when its name has no
#: suffix the import knows (see :data:`locator.web.station_import.MEDIA_SUFFIXES`).
LIST_MEDIA_TYPES = ("text/csv", "application/geo+json", "application/geopackage+sqlite3",
                    "application/zip",
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
REFUSED = {"description": "422 import_refused: the whole file was refused. `report` lists "
                          "the rows as the CLI's report CSV does, the refusal first (code "
                          "file_refused, row 0, with the reason in Chinese and English).",
           "content": {"application/json": {"schema": {"allOf": [
               {"$ref": "#/components/schemas/Error"},
               {"type": "object", "required": ["report"], "properties": {"report": {
                   "type": "array", "items": {"type": "object", "properties": {
                       "row": {"type": "integer"}, "column": {"type": "string"},
                       "value": {"type": "string"}, "reason_zh": {"type": "string"},
                       "reason_en": {"type": "string"},
                       "severity": {"type": "string", "enum": ["error", "warning"]},
                       "code": {"type": "string"}}}}}}]}}}}


def import_paths(unions: Sequence[str] = ()) -> dict[str, Any]:
    """Uploading a station list: check it, then publish it."""
    union: dict[str, Any] = {"type": "string", "pattern": r"^\d{6}$",
                             "description": "The union to import for (one of the "
                                            "officer's); its source is union-<adcode>."}
    if unions:
        union["enum"] = list(unions)
    upload = {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": "CSV, XLSX, GeoPackage, GeoJSON or zipped Shapefile, told "
                                "apart by the file name's suffix, else by the part's "
                                "media type."},
        "union": union,
        "crs": {"type": "string", "enum": ["wgs84", "gcj02", "bd09", "cgcs2000"]},
        "kind": {"type": "string", "enum": list(schema.KIND_CODES)}}}
    token = {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}
    errors = ("400", "401", "403", "404", "409", "413")
    publish = _post("Publish a checked station list (the officer's source and subtree only)",
                    "staff", {"type": "object"}, ANY_JSON, [token, CSRF_HEADER], errors)
    publish["post"]["responses"]["422"] = REFUSED
    return {
        "/api/v1/admin/imports": {"post": {
            "summary": "Check a station list: the row-by-row report, nothing published",
            "tags": ["staff"], "parameters": [CSRF_HEADER],
            "requestBody": {"required": True, "content": {"multipart/form-data": {
                "schema": upload,
                "encoding": {"file": {"contentType": ", ".join(LIST_MEDIA_TYPES)}}}}},
            "responses": {"200": ANY_JSON, **dict.fromkeys(errors, ERROR_REF),
                          "422": REFUSED}}},
        "/api/v1/admin/imports/{token}/publish": publish,
    }
