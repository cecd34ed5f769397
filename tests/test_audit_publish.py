"""An edit's new version and its audit entry go together, also on the very first publish.

On both backends (SQLite audit with GeoPackage versions; PostgreSQL with PostGIS
versions), with the real store and database: a publish that fails after its version
went live, or whose audit entry then fails to commit, must leave the store as it was
(nothing live when nothing was, the earlier version otherwise, and no version kept
that has no audit entry), and no audit entry behind; a successful one always has its
entry.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
import sqlalchemy as sa
from sqlalchemy import select

from locator import create_app
from locator.errors import LocatorError
from locator.living import db, edits
from locator.living.models import AuditEntry
from locator.storage import base
from tests.conftest import DEMO

ROLES = {"410105": "editor"}
ACTOR = "editor@jinshui.example"


@pytest.fixture(scope="module")
def jinshui():
    f = gpd.read_file(DEMO)
    return f[(f["county_adcode"] == "410105") & (f["status"] == "open")]["id"].tolist()


class _FailsOnceLive:
    """The real store, whose next publish fails just after its version went live.

    That is where a publish can still fail for real: the file store's pointer is
    renamed into place but the fsync of its folder fails; PostgreSQL commits but the
    answer is lost with the connection. ``then`` may instead break the audit's own
    database at that moment, so that its commit is what fails.
    """

    def __init__(self, real: base.StationSource, then=None) -> None:
        self.real = real
        self.then = then

    def __getattr__(self, name):
        return getattr(self.real, name)

    def publish(self, frame, *, meta, now=None):
        name = self.real.publish(frame, meta=meta, now=now)
        if self.then is not None:
            self.then()
            return name
        raise OSError(5, "Input/output error (fsync of the data folder)")


def _entries(cfg) -> list[tuple[str, str | None]]:
    with db.session(cfg) as s:
        return [(e.action, e.station_id) for e in s.scalars(select(AuditEntry))
                if e.action.startswith("station_")]


def _edit(cfg, src, sid, phone):
    return edits.edit(cfg, src, sid, {"phone": phone}, if_match="*", actor=ACTOR, roles=ROLES)


def test_a_failed_first_publish_changes_nothing_and_leaves_no_audit(staff_cfg, jinshui):
    cfg = create_app(staff_cfg).config
    src = base.open_source(cfg)
    assert src.version() is None  # the demo file is served, nothing is published
    with pytest.raises(OSError):
        _edit(cfg, _FailsOnceLive(src), jinshui[0], "0371-1111111")
    assert src.version() is None and src.versions() == []
    assert _entries(cfg) == []
    # The next edit succeeds as the first publish, with its entry.
    done = _edit(cfg, src, jinshui[0], "0371-2222222")
    assert src.version() == done.version and [v.name for v in src.versions()] == [done.version]
    assert _entries(cfg) == [("station_edit", jinshui[0])]
    # A later failed publish leaves that version live and keeps no unaudited version.
    with pytest.raises(OSError):
        _edit(cfg, _FailsOnceLive(src), jinshui[1], "0371-3333333")
    assert src.version() == done.version and [v.name for v in src.versions()] == [done.version]
    assert _entries(cfg) == [("station_edit", jinshui[0])]
    live = src.frame().set_index("id")
    assert live.loc[jinshui[0], "phone"] == "0371-2222222"
    assert live.loc[jinshui[1], "phone"] != "0371-3333333"


def test_a_first_publish_whose_audit_cannot_commit_is_withdrawn(staff_cfg, jinshui, request):
    """PostgreSQL: the audit's connection is cut while its version goes live."""
    if not staff_cfg["DATABASE_URL"]:
        pytest.skip("the audit connection is cut on the PostgreSQL server")
    cfg = create_app(staff_cfg).config
    src = base.open_source(cfg)
    dbname = sa.engine.make_url(staff_cfg["DATABASE_URL"]).database
    server = request.getfixturevalue("pg_cluster")

    def cut() -> None:
        # The audit session is the one waiting in its transaction for the publish.
        server.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                    f"datname = '{dbname}' AND state = 'idle in transaction'")

    with pytest.raises(LocatorError) as failed:
        _edit(cfg, _FailsOnceLive(src, then=cut), jinshui[2], "0371-4444444")
    assert failed.value.status == 503
    assert src.version() is None and src.versions() == []
    assert _entries(cfg) == []
    done = _edit(cfg, src, jinshui[2], "0371-5555555")
    assert src.version() == done.version and _entries(cfg) == [("station_edit", jinshui[2])]
