"""Counts per union on the planner page, against a count done by hand, on both databases.

The brute force walks the shipped file and the cases table row by row in plain
Python (``statistics.median``, explicit subtrees from the boundaries), which is
what the vectorised :mod:`locator.living.unionstats` must agree with.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from datetime import datetime, timedelta

import geopandas as gpd
import pytest
import sqlalchemy as sa

from locator.domain.i18n import UNION_COUNT_STRINGS
from locator.living import accounts, db, unions, unionstats
from locator.living.models import utcnow
from locator.web import state
from tests.conftest import DEMO
from tests.jobclient import planned
from tests.staff import PASSWORD, _app, login

# Cases per county: (reason, days it took to resolve, or None while open).
PLAN = {
    "410105": [("no_water", 1.0), ("locked", 3.0), ("dirty", 10.0), ("other", None)],
    "410103": [("no_water", 2.0), ("locked", None)],
    "410202": [("dirty", 5.5)],
}


@pytest.fixture
def counted(staff_cfg):
    cfg = {**staff_cfg, "REPORT_CHALLENGE": False, "REPORT_RATE_LIMIT": "100 per minute",
           "TILES": "osm", "GRID_CELL_M": 4000.0}
    app, client = _app(cfg)
    f = gpd.read_file(DEMO)
    live = f[f["status"] == "open"]
    eng = sa.create_engine(db.database_url(cfg))
    now = utcnow().replace(microsecond=0)
    for county, cases in PLAN.items():
        sid = live[live["county_adcode"] == county]["id"].iloc[0]
        for reason, took in cases:
            r = client.post(f"/api/v1/stations/{sid}/reports", json={"reason": reason})
            assert r.status_code == 201, r.get_json()
            if took is None:
                continue
            with eng.begin() as conn:
                conn.execute(sa.text(
                    "UPDATE cases SET state = 'resolved', created_at = :c, resolved_at = :r "
                    "WHERE station_id = :s AND reason = :why AND state = 'open'"),
                    {"c": now - timedelta(days=took), "r": now, "s": sid, "why": reason})
    # A stale station of 金水区 confirmed by a worker today is no longer stale.
    stale = live[(live["county_adcode"] == "410105") & (live["verified_at"] < "2026-01-01")]
    assert client.post(f"/api/v1/stations/{stale['id'].iloc[0]}/confirmations",
                       json={}).status_code in (200, 201)
    yield app, client, app.config, eng
    eng.dispose()


def by_hand(cfg, eng) -> dict[str, tuple[int, int, int, float | None]]:
    """(open cases, stale stations, closed cases, median days) per union, row by row."""
    with eng.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT county_adcode, state, created_at, resolved_at FROM cases")).all()
        fresh = {sid for (sid,) in conn.execute(sa.text(
            "SELECT station_id FROM confirmations WHERE at >= :t"),
            {"t": utcnow() - timedelta(days=float(cfg["STALE_DAYS"]))})}
    # A date-only check counts from the start of its day, as the queue counts it.
    cutoff = utcnow() - timedelta(days=float(cfg["STALE_DAYS"]))
    stale_in: Counter[str] = Counter()
    for sid, county, status, verified in gpd.read_file(DEMO)[
            ["id", "county_adcode", "status", "verified_at"]].itertuples(index=False):
        checked = isinstance(verified, str) and datetime.fromisoformat(verified) >= cutoff
        if status != "closed" and sid not in fresh and not checked:
            stale_in[county] += 1
    out = {}
    for adcode in unions.hierarchy(cfg["BOUNDARIES_DIR"])["adcode"]:
        area = unions.counties_under(adcode, cfg["BOUNDARIES_DIR"])
        open_n, took = 0, []
        for county, st, created, resolved in rows:
            if county not in area:
                continue
            if st == "open":
                open_n += 1
            elif resolved is not None:
                # SQLite hands back text, PostgreSQL datetimes.
                span = datetime.fromisoformat(str(resolved)) - datetime.fromisoformat(str(created))
                took.append(span.total_seconds() / 86400)
        stale_n = sum(stale_in[c] for c in area)
        out[adcode] = (open_n, stale_n, len(took),
                       round(statistics.median(took), 1) if took else None)
    return out


def test_the_counts_agree_with_a_count_by_hand(counted):
    app, client, cfg, eng = counted
    with app.app_context():
        table = unionstats.per_union(app.config, state.current().frame)
    want = by_hand(cfg, eng)
    got = {r.adcode: (r.open_cases, r.stale_stations, r.resolved_cases,
                      None if r.median_resolve_days != r.median_resolve_days
                      else r.median_resolve_days) for r in table.itertuples()}
    assert got == want
    # The figures the plan was built to show, as a reader checks them.
    assert want["410105"][0] == 1 and want["410105"][3] == 3.0
    assert want["410100"][0] == 2 and want["410100"][2] == 4 and want["410100"][3] == 2.5
    assert want["410000"][2] == 5 and want["410000"][3] == 3.0
    # The union's own queue counts its stale stations the same way.
    accounts.add(app.config, "jinshui@union.example", PASSWORD, union="410105", role="editor")
    login(client, "jinshui@union.example")
    queue = client.get("/api/v1/admin/cases").get_json()
    assert queue["stale_count"] == want["410105"][1]


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_planner_page_shows_the_counts(counted, lang):
    _, client, cfg, eng = counted
    q = "radius=3000&n=0"
    assert planned(client.client, f"/api/v1/coverage?{q}").status_code == 200
    html = client.get(f"/planner?{q}&lang={lang}").get_data(as_text=True)
    words = UNION_COUNT_STRINGS[lang]
    assert words["heading"] in html and words["median_days"] in html
    want = by_hand(cfg, eng)
    for adcode in ("410100", "410105", "410103", "410200", "410202", "410000"):
        row = re.search(rf'<tr data-adcode="{adcode}">(.*?)</tr>', html, re.S)
        assert row, adcode
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", row.group(1))
        open_n, stale_n, closed_n, median = want[adcode]
        assert cells[-4:] == [str(open_n), str(stale_n), str(closed_n),
                              "—" if median is None else f"{median:.1f}"], adcode
