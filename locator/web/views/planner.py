"""The planner: ``/planner`` page, its downloads and ``/api/v1/coverage|suggest|jobs``.

Planning runs are computed by a background pool (:mod:`locator.jobs.threads`), keyed
by parameters and dataset version; requests never compute on their own
thread. An API call waits up to ``wait`` seconds and otherwise answers 202
with the job URL to poll.
"""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import quote

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    jsonify,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from locator.domain import i18n, params, presets
from locator.domain.planner_text import STRINGS
from locator.errors import LocatorError, not_found
from locator.jobs.threads import Job, Jobs
from locator.planning import render, reports, runs, sheets
from locator.web import state

bp = Blueprint("planner", __name__)
PAGE_DEFAULT_N = 10
PAGE_WAIT_S = 2.0
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def effective_query(p: runs.PlanParams) -> dict[str, list[str]]:
    """Query arguments that reproduce ``p`` (for downloads and the language link)."""
    q = {"kind": list(p.kinds), "radius": [f"{p.radius:g}"], "detour": [f"{p.detour:g}"],
         "demand": [p.demand], "n": [str(p.n)]}
    if p.preset:
        q["preset"] = [p.preset]
    return q


def jobs() -> Jobs:
    app = current_app
    pool = app.extensions.get("locator.jobs.threads")
    if pool is None:
        pool = Jobs(workers=app.config["PLANNER_WORKERS"], keep=app.config["PLANNER_CACHE"])
        app.extensions["locator.jobs.threads"] = pool
    return pool


def _start(p: runs.PlanParams) -> Job:
    ds = state.current()
    cfg = dict(current_app.config)
    return jobs().submit(p.key(ds.version), lambda: runs.run(p, ds, cfg))


def _job_answer(job: Job, *, wait: float) -> ResponseReturnValue:
    try:
        plan = job.future.result(timeout=wait) if wait > 0 or job.future.done() else None
    except TimeoutError:
        plan = None
    except LocatorError:
        raise
    if plan is None:
        resp = jsonify({"job": job.id, "state": job.state,
                        "poll": url_for("planner.job", job_id=job.id)})
        resp.status_code = 202
        resp.headers["Location"] = url_for("planner.job", job_id=job.id)
        return resp
    return jsonify(reports.to_json(plan))


def _api(with_n: bool) -> ResponseReturnValue:
    p = runs.parse(request.args, current_app.config, with_n=with_n)
    wait = params.number("wait", request.args.get("wait"), lo=0, hi=60, default=20)
    return _job_answer(_start(p), wait=wait)


@bp.get("/api/v1/coverage")
def api_coverage() -> ResponseReturnValue:
    return _api(False)


@bp.get("/api/v1/suggest")
def api_suggest() -> ResponseReturnValue:
    return _api(True)


@bp.get("/api/v1/jobs/<job_id>")
def job(job_id: str) -> ResponseReturnValue:
    found = jobs().get(job_id)
    if found is None:
        raise not_found(f"no planning job {job_id!r} (finished jobs expire)", "job")
    return _job_answer(found, wait=0)


@bp.get("/api/v1/presets")
def api_presets() -> ResponseReturnValue:
    lang = i18n.pick(request.args.get("lang"), current_app.config["DEFAULT_LANG"])
    return jsonify({"presets": presets.describe(current_app.config, lang),
                    "demand_layers": [runs.NONE_LAYER,
                                      *runs.demand_layers(current_app.config)]})


def _vendor_prefix() -> str:
    return url_for("vendor.asset", name="x", filename="y")[: -len("x/y")]


@bp.get("/planner")
def page() -> ResponseReturnValue:
    a = request.args
    lang = i18n.pick(a.get("lang"), current_app.config["DEFAULT_LANG"])
    try:
        p = runs.parse(a, current_app.config, with_n=False)
    except LocatorError as exc:
        return _bad_form(exc, lang)
    if a.get("n") in (None, ""):
        # A first visit shows a small plan; n=0 asks for coverage alone.
        p = runs.PlanParams(**{**p.__dict__, "n": PAGE_DEFAULT_N})
    ds = state.current()
    job_ = _start(p)
    if not job_.future.done():
        # Short runs finish before the page would have to poll and reload.
        with contextlib.suppress(Exception):
            job_.future.result(timeout=PAGE_WAIT_S)
    query = effective_query(p)
    ctx: dict[str, Any] = {"lang": lang, "strings": STRINGS[lang], "demo": ds.demo,
                           "p": p, "form": render.form(current_app.config, lang),
                           "job": job_, "query": query,
                           "other_lang": "en" if lang == "zh" else "zh"}
    if job_.state == "running":
        ctx["poll"] = url_for("planner.job", job_id=job_.id)
        return render_template("planner.html", **ctx)
    if job_.state == "failed":
        failure = job_.future.exception()
        if isinstance(failure, LocatorError):
            return _bad_form(failure, lang)
        ctx["failed"] = True
        return render_template("planner.html", **ctx), 500
    ctx.update(result_context(job_.future.result(), lang))
    return render_template("planner.html", **ctx)


def _bad_form(exc: LocatorError, lang: str) -> ResponseReturnValue:
    """The form again, with defaults and a readable message, instead of a JSON error."""
    p = runs.parse({}, current_app.config, with_n=False)
    ctx: dict[str, Any] = {"lang": lang, "strings": STRINGS[lang], "demo": state.current().demo,
                           "p": p, "form": render.form(current_app.config, lang),
                           "query": effective_query(p),
                           "other_lang": "en" if lang == "zh" else "zh",
                           "error": render.error_text(exc.field, lang), "error_detail": exc.message,
                           "error_field": exc.field}
    return render_template("planner.html", **ctx), exc.status


def result_context(plan: runs.Plan, lang: str) -> dict[str, Any]:
    """Template variables that show a finished plan on the page."""
    return render.result_context(plan, lang=lang, cfg=current_app.config,
                                 vendor_prefix=_vendor_prefix())


@bp.get("/planner/download/<what>.<fmt>")
def download(what: str, fmt: str) -> ResponseReturnValue:
    """A table of the plan: CSV/XLSX for people (headers in ``lang``), GIS formats as data."""
    params.choice("format", fmt, (*reports.FORMATS, "xlsx"), default="")
    params.choice("table", what, (*reports.TABLES, "all") if fmt == "xlsx" else reports.TABLES,
                  default="")
    lang = i18n.pick(request.args.get("lang"), current_app.config["DEFAULT_LANG"])
    p = runs.parse(request.args, current_app.config, with_n=False)
    job_ = _start(p)
    try:
        plan = job_.future.result(timeout=60)
    except TimeoutError:
        return _job_answer(job_, wait=0)
    if fmt == "xlsx":
        body, media = sheets.xlsx_bytes(plan, lang=lang), XLSX
    elif fmt == "csv":
        body, media = sheets.csv_bytes(plan, what, lang=lang), reports.MEDIA[fmt]
    else:
        body, media = reports.to_bytes(plan, what, fmt), reports.MEDIA[fmt]
    name = sheets.file_name(plan, what, fmt, lang=lang)
    fallback = f"locator-{what}-{p.key(plan.version)[:8]}.{fmt}"
    return Response(body, mimetype=media, headers={
        "Content-Disposition": f"attachment; filename=\"{fallback}\"; "
                               f"filename*=UTF-8''{quote(name)}"})


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
