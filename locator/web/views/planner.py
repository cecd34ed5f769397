"""The planner: ``/planner`` page, its downloads and ``/api/v1/coverage|suggest|jobs``.

Planning runs are jobs in the configured queue (:mod:`locator.jobs`), keyed by
parameters and dataset version; requests never compute on their own thread.
A request waits at most ``JOBS_MAX_WAIT`` seconds (``wait`` is capped to it)
and otherwise answers 202 with the job URL to poll.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any, cast
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
from locator.jobs.base import DONE, JobQueue, JobView, Limits, QueueFull
from locator.jobs.threads import ThreadQueue
from locator.planning import job, network_distance, render, reports, runs, sheets
from locator.web import state, union_counts

bp = Blueprint("planner", __name__)
PAGE_DEFAULT_N = 10
PAGE_WAIT_S = 2.0
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def effective_query(p: runs.PlanParams) -> dict[str, list[str]]:
    """Query arguments that reproduce ``p`` (for downloads and the language link)."""
    q = {"kind": list(p.kinds), "radius": [f"{p.radius:g}"], "detour": [f"{p.detour:g}"],
         "demand": [p.demand], "n": [str(p.n)], "distance": [p.distance]}
    if p.preset:
        q["preset"] = [p.preset]
    if p.region:
        q["region"] = [p.region]
    return q


_queue_lock = threading.Lock()


def jobs() -> JobQueue:
    """This app's job queue, made on first use from the settings."""
    ext = current_app.extensions
    if "locator.jobs" not in ext:
        with _queue_lock:
            if "locator.jobs" not in ext:
                ext["locator.jobs"] = make_queue(current_app.config)
    return cast(JobQueue, ext["locator.jobs"])


def _job_key(p: runs.PlanParams) -> str:
    """Parameters, dataset version and, for network distance, the graph in use."""
    version = state.current().version
    if p.distance == "network":
        version += "|" + network_distance.network_key(current_app.config)
    return p.key(version)


def _start(p: runs.PlanParams, *, first: bool = False) -> JobView:
    ds = state.current()
    job.remember(ds)
    kwargs: dict[str, Any] = {"params": dataclasses.asdict(p), "version": ds.version,
                              "path": str(ds.path), "cfg": job.settings(current_app.config)}
    key = _job_key(p)
    if first:
        kwargs["first"] = True
        key += "-first"
    return jobs().submit(key, job.plan, kwargs, client=request.remote_addr or "unknown",
                         urgent=first)


def _page_views(p: runs.PlanParams) -> tuple[JobView, JobView | None]:
    """The full run and, while it is not done, the fast first answer shown meanwhile.

    The first answer is an urgent job and the full run is queued once it is in
    (or once the page stops waiting for it), to start when the page is drawn
    (:meth:`~locator.jobs.base.JobQueue.holding`): started together, the full
    run took half the processor from the answer the visitor is waiting for.
    Once the full run is done it is shown alone.
    """
    known = jobs().get(_job_key(p))
    if known is not None and known.final:
        return known, None
    quick = _wait(_start(p, first=True), PAGE_WAIT_S)
    full = _wait(_start(p), 0)
    if full.final or quick.error is not None:
        return full, None
    return full, quick


def default_page_params() -> runs.PlanParams:
    """What a first visit to ``/planner``, with no query, plans."""
    p = runs.parse({}, current_app.config, with_n=False)
    return runs.PlanParams(**{**p.__dict__, "n": PAGE_DEFAULT_N})


def warm(lang: str, *, timeout: float) -> bool:
    """Compute the default page's plan and its map for ``lang`` before anyone asks.

    The jobs are the ones the page itself starts (same keys), in the page's
    order: the fast first answer, then the full run. A visitor who comes
    meanwhile joins them instead of starting others, and finds the first
    answer computing alone rather than beside a full run that would take half
    the processor from it. True once the full plan is done and its map drawn.
    """
    end = time.monotonic() + timeout
    p = default_page_params()
    if _follow(_start(p, first=True), end) is None:
        return False
    view = _follow(_start(p), end)
    if view is None or view.state != DONE:
        return False
    result_context(jobs().result(view.id), lang)
    current_app.jinja_env.get_template("planner.html")
    return True


def _follow(view: JobView | None, end: float) -> JobView | None:
    """``view`` once it is final or ``end`` (a monotonic time) has passed."""
    # Short waits, like a polling client: a job nobody asks about is abandoned.
    while view is not None and not view.final and time.monotonic() < end:
        view = jobs().wait(view.id, 1.0)
    return view


def _wait(view: JobView, wait: float) -> JobView:
    wait = min(max(0.0, wait), float(current_app.config["JOBS_MAX_WAIT"]))
    if view.final or wait <= 0:
        return view
    return jobs().wait(view.id, wait) or view


def _job_answer(view: JobView, *, wait: float) -> ResponseReturnValue:
    view = _wait(view, wait)
    if view.error is not None:
        raise view.error
    if view.state != DONE:
        poll = url_for("planner.job", job_id=view.id)
        resp = jsonify({"job": view.id, "state": view.state, "progress": view.progress,
                        "percent": runs.stage_percent(view.progress), "poll": poll})
        resp.status_code = 202
        resp.headers["Location"] = poll
        resp.headers["Retry-After"] = "1"
        return resp
    return jsonify(reports.to_json(jobs().result(view.id)))


def _api(with_n: bool) -> ResponseReturnValue:
    p = runs.parse(request.args, current_app.config, with_n=with_n)
    wait = params.number("wait", request.args.get("wait"), lo=0, hi=60,
                         default=float(current_app.config["JOBS_MAX_WAIT"]))
    return _job_answer(_start(p), wait=wait)


@bp.get("/api/v1/coverage")
def api_coverage() -> ResponseReturnValue:
    return _api(False)


@bp.get("/api/v1/suggest")
def api_suggest() -> ResponseReturnValue:
    return _api(True)


@bp.get("/api/v1/jobs/<job_id>", endpoint="job")
def job_status(job_id: str) -> ResponseReturnValue:
    found = jobs().get(job_id)
    if found is None:
        raise not_found(f"no planning job {job_id!r} (finished jobs expire)", "job")
    return _job_answer(found, wait=0)


@bp.errorhandler(QueueFull)
def queue_full(exc: QueueFull) -> ResponseReturnValue:
    resp = jsonify(exc.to_dict())
    resp.status_code = exc.status
    resp.headers["Retry-After"] = str(exc.retry_after)
    return resp


@bp.get("/api/v1/presets")
def api_presets() -> ResponseReturnValue:
    lang = params.lang(request.args.get("lang"), default=current_app.config["DEFAULT_LANG"])
    return jsonify({"presets": presets.describe(current_app.config, lang),
                    "demand_layers": [runs.NONE_LAYER,
                                      *runs.demand_layers(current_app.config)]})


def _vendor_prefix() -> str:
    return url_for("vendor.asset", name="x", filename="y")[: -len("x/y")]


@bp.get("/planner")
def page() -> ResponseReturnValue:
    # The full run queued behind a first answer starts once this page is drawn.
    with jobs().holding():
        return _page()


def _page() -> ResponseReturnValue:
    a = request.args
    lang = i18n.pick(a.get("lang"), current_app.config["DEFAULT_LANG"])
    try:
        params.lang(a.get("lang"), default=lang)
        p = runs.parse(a, current_app.config, with_n=False)
    except LocatorError as exc:
        return _bad_form(exc, lang)
    if a.get("n") in (None, ""):
        # A first visit shows a small plan; n=0 asks for coverage alone.
        p = runs.PlanParams(**{**p.__dict__, "n": PAGE_DEFAULT_N})
    ds = state.current()
    view, quick = _page_views(p)
    query = effective_query(p)
    ctx: dict[str, Any] = {"lang": lang, "strings": STRINGS[lang], "demo": ds.demo,
                           "p": p, "form": render.form(current_app.config, lang),
                           "job": view, "query": query,
                           "other_lang": "en" if lang == "zh" else "zh"}
    if quick is not None and quick.state == DONE:
        plan = jobs().result(quick.id)
        if plan.provisional:
            # Shown now; the page reloads itself once the full run has finished.
            ctx["refine"] = url_for("planner.job", job_id=view.id)
            ctx["percent"] = runs.stage_percent(view.progress)
        # The unions' upkeep table (a database read) comes with the refined page.
        ctx.update(result_context(plan, lang, unions=not plan.provisional))
        return render_template("planner.html", **ctx)
    if quick is not None:
        # Not even the first answer yet: the page reloads as soon as it is in.
        ctx["poll"] = url_for("planner.job", job_id=quick.id)
        ctx["percent"] = runs.stage_percent(quick.progress)
        return render_template("planner.html", **ctx)
    if not view.final:
        ctx["poll"] = url_for("planner.job", job_id=view.id)
        ctx["percent"] = runs.stage_percent(view.progress)
        return render_template("planner.html", **ctx)
    if view.error is not None:
        if isinstance(view.error, LocatorError) and view.error.status < 500:
            return _bad_form(view.error, lang)
        ctx["failed"] = True
        return render_template("planner.html", **ctx), view.error.status
    ctx.update(result_context(jobs().result(view.id), lang))
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


def result_context(plan: runs.Plan, lang: str, *, unions: bool = True) -> dict[str, Any]:
    """Template variables that show a finished plan on the page (with ``unions``, the
    table of how each union keeps its stations up)."""
    return {**render.result_context(plan, lang=lang, cfg=current_app.config,
                                    vendor_prefix=_vendor_prefix()),
            **(union_counts.context(lang) if unions else {"union_counts": None})}


@bp.get("/planner/download/<what>.<fmt>")
def download(what: str, fmt: str) -> ResponseReturnValue:
    """A table of the plan: CSV/XLSX for people (headers in ``lang``), GIS formats as data."""
    # The table and format name the file, so an unknown one is a missing file.
    if fmt not in (*reports.FORMATS, "xlsx"):
        raise not_found(f"no download format {fmt!r}", "fmt")
    if what not in ((*reports.TABLES, "all") if fmt == "xlsx" else reports.TABLES):
        raise not_found(f"no table {what!r} as {fmt}", "what")
    lang = params.lang(request.args.get("lang"), default=current_app.config["DEFAULT_LANG"])
    p = runs.parse(request.args, current_app.config, with_n=False)
    view = _wait(_start(p), PAGE_WAIT_S)
    if view.state != DONE:
        return _job_answer(view, wait=0)
    plan = jobs().result(view.id)
    if fmt == "xlsx":
        body, media = sheets.xlsx_bytes(plan, lang=lang), XLSX
    elif fmt == "csv":
        body, media = sheets.csv_bytes(plan, what, lang=lang), reports.MEDIA[fmt]
    else:
        body, media = reports.to_bytes(plan, what, fmt), reports.MEDIA[fmt]
    name = sheets.file_name(plan, what, fmt, lang=lang)
    fallback = f"locator-{reports.region_code(plan)}-{what}-{p.key(plan.version)[:8]}.{fmt}"
    return Response(body, mimetype=media, headers={
        "Content-Disposition": f"attachment; filename=\"{fallback}\"; "
                               f"filename*=UTF-8''{quote(name)}"})


def make_queue(cfg: Any) -> JobQueue:
    """The job queue the settings ask for: Redis when ``JOBS_URL`` is set, else threads."""
    limits = Limits.from_config(cfg)
    if cfg["JOBS_URL"]:
        from locator.jobs.redisq import RedisQueue

        return RedisQueue(cfg["JOBS_URL"], limits=limits)
    return ThreadQueue(workers=int(cfg["PLANNER_WORKERS"]), limits=limits)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
