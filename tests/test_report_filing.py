"""Reports filed in groups (group commit), on both databases, checked by plain SQL.

A group is one transaction: a report that fails in it must fail alone, the
others committed once each; reports of one station and reason, in one group or
from two writers at once, end in one open case holding them all.
"""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from locator.errors import LocatorError
from locator.living import db, filing, groupcommit
from tests.staff import _app

STATIONS = [f"demo-rs-410105-{i:04d}" for i in range(1, 13)]

_SQLITE_REFUSE = """CREATE TRIGGER refuse BEFORE INSERT ON ticket_texts
WHEN NEW.text = 'refuse me' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"""
_PG_REFUSE = ["""CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN IF NEW.text = 'refuse me' THEN RAISE EXCEPTION 'refused by the test'; END IF;
RETURN NEW; END $$""",
              """CREATE TRIGGER refuse BEFORE INSERT ON ticket_texts
FOR EACH ROW EXECUTE FUNCTION refuse()"""]


@pytest.fixture
def cfg(staff_cfg):
    app, _ = _app(staff_cfg)  # migrates the schema
    return app.config


def _sql(cfg, query, **params):
    """Rows read with plain SQL on a connection of its own, not through the app."""
    engine = sa.create_engine(db.database_url(cfg))
    try:
        with engine.connect() as c:
            return [tuple(r) for r in c.execute(sa.text(query), params).all()]
    finally:
        engine.dispose()


def _report(cfg, sid, reason="no_water", text=None):
    return filing.Report(sid, f"驿站 {sid}", "410105", reason, text, None, cfg)


def test_reports_of_one_station_and_reason_in_one_group_make_one_case(cfg):
    first = filing.file_group([_report(cfg, STATIONS[0], text=None)])
    assert isinstance(first[0], str)
    group = [_report(cfg, STATIONS[0], text="水桶空了"), _report(cfg, STATIONS[1]),
             _report(cfg, STATIONS[0], text="还是没水"), _report(cfg, STATIONS[0], "dirty")]
    codes = filing.file_group(group)
    assert all(isinstance(c, str) for c in codes) and len(set(codes)) == 4
    cases = _sql(cfg, "SELECT station_id, reason, reports, text, state FROM cases "
                      "ORDER BY station_id, reason")
    # The open case got the three no_water reports; its words are the first given.
    assert cases == [(STATIONS[0], "dirty", 1, None, "open"),
                     (STATIONS[0], "no_water", 3, "水桶空了", "open"),
                     (STATIONS[1], "no_water", 1, None, "open")]
    tickets = dict(_sql(cfg, "SELECT t.code, c.station_id || '/' || c.reason FROM tickets t "
                             "JOIN cases c ON c.id = t.case_id"))
    assert [tickets[c] for c in [first[0], *codes]] == [
        f"{STATIONS[0]}/no_water", f"{STATIONS[0]}/no_water", f"{STATIONS[1]}/no_water",
        f"{STATIONS[0]}/no_water", f"{STATIONS[0]}/dirty"]
    words = dict(_sql(cfg, "SELECT code, text FROM ticket_texts"))
    assert words == {codes[0]: "水桶空了", codes[2]: "还是没水"}


def test_a_report_that_fails_in_a_group_fails_alone(cfg):
    # A real refusal by the database (a trigger), on the third report's words.
    engine = db.engine(cfg)
    with engine.begin() as c:
        for stmt in ([_SQLITE_REFUSE] if engine.dialect.name == "sqlite" else _PG_REFUSE):
            c.exec_driver_sql(stmt)
    group = [_report(cfg, STATIONS[2], text="第一"), _report(cfg, STATIONS[3]),
             _report(cfg, STATIONS[2], text="refuse me"), _report(cfg, STATIONS[2])]
    out = filing.file_group(group)
    assert isinstance(out[2], Exception) and "refused by the test" in str(out[2])
    good = [out[0], out[1], out[3]]
    assert all(isinstance(c, str) for c in good)
    assert sorted(_sql(cfg, "SELECT station_id, reports FROM cases")) == \
        sorted([(STATIONS[2], 2), (STATIONS[3], 1)])
    assert sorted(r[0] for r in _sql(cfg, "SELECT code FROM tickets")) == sorted(good)
    assert _sql(cfg, "SELECT code, text FROM ticket_texts") == [(out[0], "第一")]


def test_the_database_away_fails_the_whole_group_at_once(cfg, tmp_path):
    away = {**cfg, "DATA_DIR": str(tmp_path / "gone"), "DATABASE_TIMEOUT": 1.0,
            "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none"}
    t = time.monotonic()
    out = filing.file_group([_report(away, STATIONS[4]), _report(away, STATIONS[5])])
    assert all(isinstance(e, LocatorError) and e.status == 503 for e in out)
    assert time.monotonic() - t < 5  # not one timeout per report


def test_two_writers_at_once_on_one_station_and_reason_make_one_case(cfg):
    # Two groups written at the same moment, as two web processes' writers would.
    barrier = threading.Barrier(2)
    out: list[list] = []

    def writer(i):
        barrier.wait()
        out.append(filing.file_group([_report(cfg, sid, "locked", f"{i}") for sid in STATIONS]))

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(isinstance(c, str) for group in out for c in group)
    rows = _sql(cfg, "SELECT c.station_id, c.reports, count(t.code) FROM cases c "
                     "JOIN tickets t ON t.case_id = c.id WHERE c.state = 'open' "
                     "GROUP BY c.id, c.station_id, c.reports ORDER BY c.station_id")
    assert rows == [(sid, 2, 2) for sid in STATIONS]


def test_concurrent_requests_share_a_writer_and_each_gets_its_own_ticket(cfg):
    n = 24
    codes: list[str] = []
    gate = threading.Barrier(n)

    def send(i):
        gate.wait()
        codes.append(filing.file(_report(cfg, STATIONS[i % 3], "closed", f"r{i}")))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(codes)) == n
    assert sorted(_sql(cfg, "SELECT station_id, reports FROM cases")) == \
        [(sid, n // 3) for sid in STATIONS[:3]]
    assert sorted(r[0] for r in _sql(cfg, "SELECT code FROM tickets")) == sorted(codes)


def test_a_job_not_taken_in_time_is_never_run():
    seen: list[list[int]] = []
    hold = threading.Event()

    def run(jobs):
        seen.append(list(jobs))
        hold.wait(5)
        return [j * 10 if j != 3 else ValueError("three") for j in jobs]

    b: groupcommit.Batcher[int, int] = groupcommit.Batcher(run, idle_s=0.2)
    first: list[int] = []
    t = threading.Thread(target=lambda: first.append(b.submit(1, wait_s=5)))
    t.start()
    while not seen:
        time.sleep(0.01)
    with pytest.raises(groupcommit.BusyError):
        b.submit(2, wait_s=0.1)  # the writer is busy with job 1 all that time
    hold.set()
    t.join()
    assert first == [10] and seen == [[1]]
    with pytest.raises(ValueError, match="three"):
        b.submit(3, wait_s=5)
    assert b.submit(4, wait_s=5) == 40
    assert [j for g in seen for j in g] == [1, 3, 4]  # job 2 was dropped, never run
    time.sleep(0.5)
    assert not any(th.name == "locator-writer" for th in threading.enumerate())
    assert b.submit(5, wait_s=5) == 50  # an idle writer that ended starts again


def _hold(path, ready, release):
    lock = db._FileLock(path)
    assert lock.acquire(1.0)
    ready.set()
    release.wait(10)
    lock.release()


def test_sqlite_writers_of_two_processes_take_turns_on_the_lock_file(tmp_path):
    import multiprocessing

    path = str(tmp_path / "living.sqlite.writer")
    mine = db._FileLock(path)
    assert mine.acquire(0.1)
    mine.release()  # opened in this process before the fork: the child must not share it
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    other = ctx.Process(target=_hold, args=(path, ready, release))
    other.start()
    try:
        assert ready.wait(10)
        t = time.monotonic()
        assert not mine.acquire(0.2)  # the other process holds it
        assert time.monotonic() - t >= 0.2
        release.set()
        t = time.monotonic()
        assert mine.acquire(5.0)
        assert time.monotonic() - t < 1.0
        mine.release()
    finally:
        release.set()
        other.join(10)
    assert other.exitcode == 0
