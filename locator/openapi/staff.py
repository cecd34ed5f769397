"""OpenAPI paths of the staff session: login, logout and who is logged in."""

from __future__ import annotations

from typing import Any

ERROR_REF = {"$ref": "#/components/responses/Error"}
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
    "email": {"type": "string", "maxLength": 254},
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
                         "400": ERROR_REF, "401": ERROR_REF, "429": ERROR_REF}},
        },
        "/logout": {
            "post": {"summary": "Log out", "tags": ["staff"], "parameters": [CSRF_HEADER],
                     "responses": {"200": _html("Logged out."), "400": ERROR_REF}},
        },
        "/api/v1/session": {
            "get": {"summary": "Who is logged in, and the CSRF token for JSON clients",
                    "tags": ["staff"], "parameters": [], "responses": {"200": json_session}},
        },
    }
