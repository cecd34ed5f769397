"""The start-up warm-up: the default /planner page is ready before its first visitor."""

from __future__ import annotations

import pytest

from locator import create_app
from locator.planning import runs
from locator.stations import dataset
from locator.web import state, warmup
from locator.web.views import planner
from tests.conftest import DEMO

SETTINGS = {"TILES": "osm", "GRID_CELL_M": 5000.0, "SUGGEST_TIME_LIMIT": 3.0}


def _default_job(app):
    with app.test_request_context("/planner"):
        return planner.jobs().get(planner._job_key(planner.default_page_params()))


def _warm(app) -> None:
    thread = app.extensions["locator.warmup"]
    # The warm-up waits for the server's first answer, so as not to delay it.
    assert thread.is_alive()
    app.test_client().get("/api/v1/health")
    thread.join(300)
    assert not thread.is_alive()


@pytest.mark.slow
def test_first_visit_after_the_warm_up_gets_the_final_plan_at_once(small_path):
    app = warmup.start(create_app({**SETTINGS, "DATA_PATH": str(small_path)}))
    _warm(app)
    view = _default_job(app)
    assert view is not None and view.final and view.error is None
    # The page's fast first answer was computed too, as the page itself would start it.
    with app.test_request_context("/planner"):
        first = planner.jobs().get(planner._job_key(planner.default_page_params()) + "-first")
    assert first is not None and first.state == "done"
    page = app.test_client().get("/planner")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # Neither "computing, please wait" nor "being refined": the finished plan itself.
    assert "data-poll=" not in html and "data-refine=" not in html
    assert "leaflet" in html.lower()
    # The plan it shows is the one a direct run of the same parameters gives.
    with app.test_request_context("/planner"):
        p = planner.default_page_params()
        shown = planner.jobs().result(view.id)
        direct = runs.run(p, state.current(), app.config)
    assert shown.province["area_share"] == pytest.approx(direct.province["area_share"])
    assert [s["county_adcode"] for s in shown.suggestions.to_dict("records")] == \
        [s["county_adcode"] for s in direct.suggestions.to_dict("records")]


@pytest.mark.slow
def test_a_new_version_is_warmed_after_it_is_swapped_in(small_path):
    app = warmup.start(create_app({**SETTINGS, "DATA_PATH": str(small_path)}))
    _warm(app)
    fresh = dataset.read(DEMO)
    app.extensions["locator.store"].swap(fresh)
    assert _default_job(app) is None  # nothing computed for the new version yet
    for hook in app.extensions["locator.watcher"].on_swap:
        hook()
    _warm(app)
    view = _default_job(app)
    assert view is not None and view.final
    with app.test_request_context("/planner"):
        assert planner.jobs().result(view.id).version == fresh.version


def test_no_warm_up_when_it_is_turned_off_or_the_app_is_not_served(small_path):
    off = warmup.start(create_app({**SETTINGS, "DATA_PATH": str(small_path),
                                   "PLANNER_WARMUP": False}))
    assert "locator.warmup" not in off.extensions
    assert off.extensions["locator.watcher"].on_swap == []
    # An app made for a script (not `locator serve`) leaves the planner alone.
    plain = create_app({**SETTINGS, "DATA_PATH": str(small_path)})
    assert "locator.warmup" not in plain.extensions
    assert _default_job(plain) is None
