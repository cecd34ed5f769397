"""OpenAPI paths of the planner: coverage, suggestions, jobs, presets, page, downloads."""

from __future__ import annotations

from typing import Any

from locator.domain import i18n, presets, schema
from locator.planning import coverage, reports


def paths(max_n: int) -> dict[str, Any]:
    """Path items for the planning endpoints (merged into :func:`locator.openapi.document`)."""
    from locator.openapi.document import ERROR_REF, _get, _html, _json, _path, _q

    kind = _q("kind", "Station kinds (repeat or comma-separate); default from the preset, "
              "else rest_station.",
              {"type": "array", "items": {"type": "string", "enum": list(schema.KIND_CODES)}},
              explode=True)
    common = [
        kind,
        _q("preset", "Job preset: sets the kinds and radius unless given.",
           {"type": "string", "enum": list(presets.PRESET_CODES)}),
        _q("radius", "Service radius in metres.",
           {"type": "number", "minimum": 50, "maximum": coverage.MAX_RADIUS_M}),
        _q("detour", "Detour factor: covered when straight-line distance x detour <= radius.",
           {"type": "number", "minimum": 1, "maximum": 3}),
        _q("demand", "Demand layer name: none, population, or a file stem from DEMAND_DIR.",
           {"type": "string"}),
        _q("by", "Regions to report.", {"type": "string", "enum": list(coverage.BY)}),
        _q("distance", "network (along the street graph; the default when one is "
           "configured) or straight.", {"type": "string", "enum": ["network", "straight"]}),
    ]
    wait = _q("wait", "Seconds to wait for the result before answering 202 with a job.",
              {"type": "number", "minimum": 0, "maximum": 60, "default": 20})
    plan = {"type": "object", "description": "The plan: params, dataset, unit, province, "
            "regions, gaps, suggestions, curve, certificate, headline."}
    job = {"type": "object", "properties": {"job": {"type": "string"},
                                            "state": {"type": "string"},
                                            "poll": {"type": "string"}}}

    def answer(summary: str, params: list[dict[str, Any]]) -> dict[str, Any]:
        item = _get(summary, "planning", params, _json("The plan.", plan))
        item["get"]["responses"]["202"] = _json("Still computing: poll the job URL.", job)
        return item

    n_cov = _q("n", "New sites to suggest as well (0 for none).",
               {"type": "integer", "minimum": 0, "maximum": max_n})
    n_sug = _q("n", "New sites to suggest.", {"type": "integer", "minimum": 1,
                                               "maximum": max_n, "default": 10})
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
