"""OpenAPI paths of the staff session: login, logout and who is logged in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from locator.domain import schema
from locator.living.cases import NAME_PATTERN

ERROR_REF = {"$ref": "#/components/responses/Error"}
#: The staff session cookie, declared so that clients (and fuzzers) know which
#: operations need a logged-in officer; see ``components.securitySchemes``.
SECURITY_SCHEME = {"type": "apiKey", "in": "cookie", "name": "session",
                   "description": "The session cookie POST /login sets. State-changing "
                                  "requests also send its CSRF token as X-CSRFToken."}
CSRF_HEADER = {"name": "X-CSRFToken", "in": "header", "required": False,
               "description": "The CSRF token from GET /api/v1/session (JSON clients; forms "
                              "send the field csrf_token instead).",
               "schema": {"type": "string"}}
SESSION = {"type": "object", "required": ["logged_in", "csrf_token"], "properties": {
    "logged_in": {"type": "boolean"},
    "email": {"type": "string"},
    "roles": {"type": "array", "items": {"type": "object", "properties": {
        "union": {"type": "string", "description": "Adcode of the union"},
        "role": {"type": "string", "enum": ["editor", "admin"]}}}},
    "csrf_token": {"type": "string"}}}
CREDENTIALS = {"type": "object", "required": ["email", "password"], "properties": {
    "email": {"type": "string", "minLength": 3, "maxLength": 254,
              "pattern": r"^[^\s\u001c-\u001f]+@[^\s\u001c-\u001f]+$"},
    "password": {"type": "string", "maxLength": 200},
    "csrf_token": {"type": "string"}}}


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def paths() -> dict[str, Any]:
    """``/login``, ``/logout`` and ``/api/v1/session``."""
    json_session: dict[str, Any] = {"description": "The session.",
                                    "content": {"application/json": {"schema": SESSION}}}
    return {
        "/login": {
            "get": {"summary": "The staff login page", "tags": ["staff"], "parameters": [],
                    "responses": {"200": _html("The login form.")}},
            "post": {"summary": "Log in (form or JSON); sets the session cookie",
                     "tags": ["staff"], "parameters": [CSRF_HEADER],
                     "requestBody": {"required": True, "content": {
                         "application/x-www-form-urlencoded": {"schema": CREDENTIALS},
                         "application/json": {"schema": CREDENTIALS}}},
                     "responses": {"200": {**json_session, "content": {
                         **json_session["content"],
                         "text/html": {"schema": {"type": "string"}}}},
                         "302": {"description": "A form login: on to the work queue."},
                         "400": ERROR_REF, "401": ERROR_REF, "403": ERROR_REF,
                         "429": ERROR_REF}},
        },
        "/logout": {
            "post": {"summary": "Log out", "tags": ["staff"], "parameters": [CSRF_HEADER],
                     "responses": {"200": _html("Logged out."), "403": ERROR_REF}},
        },
        "/api/v1/session": {
            "get": {"summary": "Who is logged in, and the CSRF token for JSON clients",
                    "tags": ["staff"], "parameters": [], "responses": {"200": json_session}},
        },
    }


REASON = {"type": "string", "enum": ["closed", "moved", "locked", "no_water", "no_toilet",
                                     "dirty", "medicine_expired", "wrong_hours",
                                     "wrong_location", "other"]}
PROOF = {"type": "string", "description": "The solved proof-of-work challenge (ALTCHA "
                                          "payload) from GET /api/v1/challenge."}
CREATED = {"description": "Accepted; keep the ticket code.", "content": {"application/json": {
    "schema": {"type": "object", "required": ["code"], "properties": {
        "code": {"type": "string"}, "status_url": {"type": "string"},
        "page": {"type": "string"}}}}}}
STATION_ID = {"name": "station_id", "in": "path", "required": True,
              "schema": {"type": "string", "minLength": 1, "maxLength": 64}}
ANY_JSON = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}


def _post(summary: str, tag: str, body: dict[str, Any], ok: dict[str, Any],
          parameters: list[dict[str, Any]], errors: tuple[str, ...]) -> dict[str, Any]:
    return {"post": {"summary": summary, "tags": [tag], "parameters": parameters,
                     "requestBody": {"required": True, "content": {
                         "application/json": {"schema": body}}},
                     "responses": {"201" if tag == "feedback" else "200": ok,
                                   **dict.fromkeys(errors, ERROR_REF)}}}


def _with_photo(path: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """The same report as a multipart form, which may carry a photo."""
    form = {**fields, "properties": {**fields["properties"], "website": {
        "type": "string", "maxLength": 0, "description": "Leave empty (a honeypot)."},
        "photo": {"type": "string", "format": "binary", "description":
                  "Optional JPEG or PNG, checked by content; at most REPORT_PHOTO_MAX_BYTES "
                  "(413 above it, 400 naming photo for anything not a JPEG or PNG). It is "
                  "re-encoded without metadata and shown to the union's officers only."}}}
    # The part's media types: a client (or a fuzzer) sends a real JPEG or PNG there.
    path["post"]["requestBody"]["content"]["multipart/form-data"] = {
        "schema": form, "encoding": {"photo": {"contentType": "image/jpeg, image/png"}}}
    return path


def feedback_paths(area: Sequence[float] = (-180.0, -90.0, 180.0, 90.0)) -> dict[str, Any]:
    """Workers' reports, confirmations, suggestions and tickets.

    ``area`` is ``[minlon, minlat, maxlon, maxlat]`` of the counties served, the bounds
    of a suggested station.
    """
    report = {"type": "object", "required": ["reason"], "properties": {
        "reason": REASON, "text": {"type": "string", "maxLength": 500}, "altcha": PROOF}}
    suggestion = {"type": "object", "required": ["lat", "lon", "name"], "properties": {
        "lat": {"type": "number", "minimum": area[1], "maximum": area[3],
                "description": "Within Henan: a point in these bounds but in no county of "
                               "Henan answers 404."},
        "lon": {"type": "number", "minimum": area[0], "maximum": area[2]},
        "name": {"type": "string", "maxLength": 100, "pattern": NAME_PATTERN},
        "kind": {"type": "string", "enum": list(schema.KIND_CODES), "default": "rest_station"},
        "amenities": {"type": "array",
                      "items": {"type": "string", "enum": list(schema.AMENITY_CODES)}},
        "altcha": PROOF}}
    code = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "/api/v1/challenge": {"get": {"summary": "A proof-of-work challenge", "tags": [
            "feedback"], "parameters": [], "responses": {"200": ANY_JSON}}},
        "/api/v1/stations/{station_id}/reports": _with_photo(_post(
            "Report a problem with a station", "feedback", report, CREATED, [STATION_ID],
            ("400", "403", "404", "413", "429")), report),
        "/api/v1/stations/{station_id}/confirmations": _post(
            "Confirm a station is there and fine", "feedback",
            {"type": "object", "properties": {"altcha": PROOF}}, ANY_JSON, [STATION_ID],
            ("400", "403", "404", "429")),
        "/api/v1/suggestions": _post("Suggest a new station", "feedback", suggestion, CREATED,
                                     [], ("400", "403", "404", "429")),
        "/api/v1/reports/{code}": {"get": {"summary": "What became of a report", "tags": [
            "feedback"], "parameters": [code], "responses": {"200": ANY_JSON,
                                                             "404": ERROR_REF}}},
        "/r/{code}": {"get": {"summary": "The reporter's ticket page", "tags": ["feedback"],
                              "parameters": [code],
                              "responses": {"200": _html("The ticket."),
                                            "404": _html("No such ticket.")}}},
        "/report/{station_id}": {"get": {"summary": "The worker's report form", "tags": [
            "feedback"], "parameters": [STATION_ID], "responses": {
                "200": _html("The form."), "400": ERROR_REF, "404": ERROR_REF}}},
    }
