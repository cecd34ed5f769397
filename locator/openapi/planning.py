"""OpenAPI paths of the planner: coverage, suggestions, jobs, presets, page, downloads."""

from __future__ import annotations

from typing import Any

from locator.domain import i18n, presets, schema
from locator.openapi.parts import ERROR_REF, _get, _html, _json, _p, _path, _q
from locator.planning import reports


def paths(max_n: int) -> dict[str, Any]:
    """Path items for the planning endpoints (merged into :func:`locator.openapi.document`)."""
    kind = _q("kind", "Station kinds (repeat or comma-separate); default from the preset, "
              "else rest_station.",
              {"type": "array", "items": {"type": "string", "enum": list(schema.KIND_CODES)}},
              explode=True)
    common = [
        kind,
        _q("preset", "Job preset: sets the kinds and radius unless given.",
           {"type": "string", "enum": list(presets.PRESET_CODES)}),
        _p("radius"), _p("detour"), _p("demand"), _p("by", default=None), _p("distance"),
    ]
    wait = _p("wait")
    plan = {"type": "object", "description": "The plan: params, dataset, unit, province, "
            "regions, gaps, suggestions, curve, certificate, headline."}
    job = {"type": "object", "properties": {"job": {"type": "string"},
                                            "state": {"type": "string"},
                                            "poll": {"type": "string"}}}

    def answer(summary: str, params: list[dict[str, Any]]) -> dict[str, Any]:
        item = _get(summary, "planning", params, _json("The plan.", plan))
        item["get"]["responses"]["202"] = _json("Still computing: poll the job URL.", job)
        return item

    n_cov = _p("n", hi=max_n, description="New sites to suggest as well (0 for none).")
    n_sug = _p("n", hi=max_n, default=10)
    n_sug["schema"]["minimum"] = 1  # suggesting needs at least one site
    download = _get("Download a planner table", "planning",
                    [_path("what", "counties, gaps or suggestions."),
                     _path("fmt", "csv, geojson or gpkg."), *common, n_cov],
                    {"description": "The file.",
                     "content": {reports.MEDIA[f]: {"schema": {"type": "string"}}
                                 for f in reports.FORMATS}})
    download["get"]["responses"]["202"] = _json("Still computing: poll the job URL.", job)
    return {
        "/api/v1/coverage": answer("Coverage by region, and the worst gaps",
                                   [*common, n_cov, wait]),
        "/api/v1/suggest": answer("Suggested new sites with a certified optimality gap",
                                  [*common, n_sug, wait]),
        "/api/v1/jobs/{job_id}": {"get": {
            "summary": "A planning job: 202 while running, then the plan", "tags": ["planning"],
            "parameters": [_path("job_id", "Job id from a 202 answer.")],
            "responses": {"200": _json("The plan.", plan),
                          "202": _json("Still computing.", job),
                          "400": ERROR_REF, "404": ERROR_REF, "429": ERROR_REF}}},
        "/api/v1/presets": _get("Job presets and demand layers", "planning",
                                [_q("lang", "Language.",
                                    {"type": "string", "enum": list(i18n.LANGS)})],
                                _json("Presets and layers.", {"type": "object"})),
        "/planner": _get("The planner page", "pages",
                         [*common, n_cov, _q("lang", "Language.",
                                             {"type": "string", "enum": list(i18n.LANGS)})],
                         _html("The planner page."), errors=("400",)),
        "/planner/download/{what}.{fmt}": download,
    }
