"""OpenAPI paths of the planner: coverage, suggestions, jobs, presets, page, downloads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from locator.domain.params import TABLE
from locator.openapi.parts import ERROR_REF, _get, _html, _json, _p, _path
from locator.planning import reports

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def paths(max_n: int, demand_layers: Sequence[str] = (),
          scopes: Sequence[str] = ()) -> dict[str, Any]:
    """Path items for the planning endpoints (merged into :func:`locator.openapi.document`).

    ``demand_layers`` are the layer names this server offers (``none`` among them), and
    ``scopes`` the adcodes of the areas a run can be limited to; the document lists
    both, since any other value is refused.
    """
    kind = _p("kind", description="Station kinds (repeat or comma-separate); default from the "
              "preset, else rest_station.")
    demand = _p("demand")
    if demand_layers:
        demand["schema"]["enum"] = list(demand_layers)
    region = _p("region", description=TABLE["region"].help + " 400 for any other code.")
    if scopes:
        region["schema"].pop("pattern", None)
        region["schema"]["enum"] = list(scopes)
    common = [
        kind, _p("preset"), _p("radius"), _p("detour"), demand, _p("by", default=None), region,
        _p("distance", description=TABLE["distance"].help + " 409 when network is asked for "
           "and no street graph is configured."),
    ]
    wait = _p("wait")
    plan = {"type": "object", "description": "The plan: params, dataset, unit, province, "
            "regions, gaps, suggestions, curve, certificate, headline."}
    job = {"type": "object", "properties": {"job": {"type": "string"},
                                            "state": {"type": "string"},
                                            "poll": {"type": "string"}}}

    def answer(summary: str, params: list[dict[str, Any]]) -> dict[str, Any]:
        item = _get(summary, "planning", params, _json("The plan.", plan),
                    errors=("400", "409", "429"))
        item["get"]["responses"]["202"] = _json("Still computing: poll the job URL.", job)
        return item

    n_cov = _p("n", hi=max_n, description="New sites to suggest as well (0 for none).")
    n_sug = _p("n", hi=max_n, default=10)
    n_sug["schema"]["minimum"] = 1  # suggesting needs at least one site
    download = _get("Download a planner table", "planning",
                    [_path("what", "counties, gaps or suggestions (all, in xlsx only); "
                           "404 for any other table."),
                     _path("fmt", "csv, geojson, gpkg or xlsx; 404 for any other format."),
                     *common, n_cov, _p("lang")],
                    {"description": "The file.",
                     "content": {**{reports.MEDIA[f]: {"schema": {"type": "string"}}
                                    for f in reports.FORMATS},
                                 XLSX: {"schema": {"type": "string"}}}},
                    errors=("400", "404", "409", "429"))
    # The page answers a bad form with the form again and the reason, in HTML.
    page = _get("The planner page", "pages", [*common, n_cov, _p("lang", default=None)],
                _html("The planner page."), errors=())
    busy = _html("The form again: the planner is busy (too many jobs for this client or "
                 "server); retry after Retry-After seconds.")
    # The rate limiter answers the page in the standard error shape, like any route.
    busy["content"]["application/json"] = {"schema": {"$ref": "#/components/schemas/Error"}}
    page["get"]["responses"].update({"400": _html("The form again, saying what is wrong."),
                                     "409": _html("The form again: no street graph."),
                                     "429": busy,
                                     "507": _html("The page saying the run went over its "
                                                  "memory limit (shared job queue).")})
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
                                [_p("lang", default=None)],
                                _json("Presets and layers.", {"type": "object"})),
        "/planner": page,
        "/planner/download/{what}.{fmt}": download,
    }
