"""Small builders of OpenAPI objects shared by every part of the document."""

from __future__ import annotations

from typing import Any

from locator.domain.params import TABLE

ERROR_REF = {"$ref": "#/components/responses/Error"}
FC_REF = {"$ref": "#/components/schemas/FeatureCollection"}


def _q(name: str, description: str, schema_: dict[str, Any], *, required: bool = False,
       explode: bool | None = None) -> dict[str, Any]:
    p: dict[str, Any] = {"name": name, "in": "query", "required": required,
                         "description": description, "schema": schema_}
    if not required:
        # Forms send blank fields; every parser reads an empty value as the parameter left out.
        p["allowEmptyValue"] = True
    if explode is not None:
        p["style"] = "form"
        p["explode"] = explode
    return p


def _path(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string", "minLength": 1}}


def _json(description: str, schema_: dict[str, Any], media: str = "application/json",
          ) -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": schema_}}}


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def _get(summary: str, tag: str, parameters: list[dict[str, Any]],
         ok: dict[str, Any], *, errors: tuple[str, ...] = ("400", "429"),
         description: str = "") -> dict[str, Any]:
    responses: dict[str, Any] = {"200": ok}
    for code in errors:
        responses[code] = ERROR_REF
    op: dict[str, Any] = {"summary": summary, "tags": [tag], "parameters": parameters,
                          "responses": responses}
    if description:
        op["description"] = description
    return {"get": op}


def _p(key: str, *, required: bool = False, hi: float | None = None,
       description: str | None = None, **schema_kw: Any) -> dict[str, Any]:
    """A query parameter declared in :data:`locator.domain.params.TABLE`."""
    param = TABLE[key]
    sch = param.schema(hi=hi, **schema_kw)
    return _q(param.name, description or param.help, sch, required=required,
              explode=True if param.repeatable else None)
