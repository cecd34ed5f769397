"""What a station feature of the OGC collections holds, as JSON Schema.

``/ogc/collections/{id}/schema`` (OGC API – Features, Part 5) describes every
property of the items, so that a GIS client knows the fields before it reads a
page; ``/ogc/collections/{id}/queryables`` (Part 3) lists the ones the items
endpoint filters on, with the query parameter that does it.
"""

from __future__ import annotations

from typing import Any

from locator.domain import schema

SCHEMA_REL = "http://www.opengis.net/def/rel/ogc/1.0/schema"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
_TEXT = {"type": "string"}
_DATE = {"type": "string", "format": "date"}


def _codes(terms: tuple[schema.Term, ...]) -> dict[str, Any]:
    return {"type": "string", "enum": [t.code for t in terms]}


def properties() -> dict[str, dict[str, Any]]:
    """Each item property with its type and meaning."""
    def p(base: dict[str, Any], title: str, *, nullable: bool = True) -> dict[str, Any]:
        out = {**base, "title": title}
        if nullable:
            out["type"] = [base["type"], "null"]
        return out

    return {
        "id": p(_TEXT, "Station id", nullable=False),
        "kind": p(_codes(schema.KINDS), "Kind of station", nullable=False),
        "name": p(_TEXT, "Name", nullable=False),
        "address": p(_TEXT, "Address"),
        "county_adcode": p({"type": "string", "pattern": r"^\d{6}$"}, "County code (adcode)"),
        "county": p(_TEXT, "County"),
        "city": p(_TEXT, "City"),
        "opening_hours": p(_TEXT, "Opening hours (OSM opening_hours syntax)"),
        "amenities": p({"type": "string", "pattern": r"^[a-z_]*(;[a-z_]+)*$"},
                       "Amenities: codes joined by ';'", nullable=False),
        "phone": p(_TEXT, "Phone"),
        "operator": p(_TEXT, "Run by"),
        "access": p(_codes(schema.ACCESS), "Who may use it"),
        "status": p(_codes(schema.STATUSES), "Status", nullable=False),
        "verified_at": p(_DATE, "Last checked by the union (date)"),
        "source": p(_TEXT, "Source list it was imported from"),
        "demo": p({"type": "boolean"}, "Synthetic demo data (演示数据)", nullable=False),
        "approximate": p({"type": "boolean"}, "Location approximate"),
        "reopens_on": p(_DATE, "Expected reopening (temporarily closed)"),
        "closed_reason": p(_TEXT, "Why it closed"),
        "reported": p({"type": "string"}, "Open worker reports: reason codes joined by ';' "
                      "('' when none)", nullable=False),
        "last_verified": p(_DATE, "Newest positive check: the union's or a worker's "
                           "confirmation (date)"),
    }


def document(cid: str, base: str) -> dict[str, Any]:
    """The collection's feature schema."""
    url = f"{base}/collections/{cid}/schema"
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": url,
            "title": f"Stations of collection {cid}", "type": "object",
            "properties": properties(), "additionalProperties": True}


# The properties the items endpoint filters on, and the parameter that does it.
FILTERS = {"kind": "kind", "county_adcode": "county_adcode", "amenities": "amenity",
           "status": "status", "verified_at": "datetime"}


def queryables(cid: str, base: str) -> dict[str, Any]:
    """The properties a client may filter items on, each naming its query parameter."""
    props = properties()
    url = f"{base}/collections/{cid}/queryables"
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": url,
            "title": f"Queryables of collection {cid}", "type": "object",
            "properties": {k: {**props[k], "description": f"filter with ?{param}="}
                           for k, param in FILTERS.items()},
            "additionalProperties": False}
