"""Rows read back from a dataset: short answers (cached records) and long lists agree."""

from __future__ import annotations

import sqlite3

import numpy as np

from locator.stations import dataset
from tests.conftest import DEMO


def _stored(ids):
    con = sqlite3.connect(DEMO)
    rows = {r[0]: r[1:] for r in con.execute(
        f"SELECT id, name, address, phone FROM {dataset.LAYER}")}
    con.close()
    return [rows[i] for i in ids]


def test_short_and_long_reads_agree_with_the_file():
    ds = dataset.read(DEMO)
    rng = np.random.default_rng(3)
    rows = rng.choice(len(ds), 500, replace=False)
    long = ds.values(rows, ["id", "name", "address", "phone"])
    short = [rec for chunk in np.array_split(rows, 50)
             for rec in ds.values(chunk, ["id", "name", "address", "phone"])]
    assert long == short
    want = _stored([r["id"] for r in long])
    assert [(r["name"], r["address"], r["phone"]) for r in long] == \
        [tuple(v if v != "" else None for v in w) for w in want]


def test_a_few_fields_of_one_row_are_what_the_file_holds():
    ds = dataset.read(DEMO)
    rows = np.random.default_rng(5).choice(len(ds), 40, replace=False)
    names = ["id", "name", "address", "phone", "county_adcode", "amenities", "demo"]
    got = [ds.fields(int(r), [*names, "no_such_field"]) for r in rows]
    assert got == ds.values(rows, names)  # the same values and types as the gathered ones
    assert [(g["name"], g["address"], g["phone"]) for g in got] == \
        [tuple(v if v != "" else None for v in w) for w in _stored([g["id"] for g in got])]
    assert all(isinstance(g["amenities"], list) and isinstance(g["demo"], bool) for g in got)


def test_answers_are_fresh_dicts_a_caller_may_change():
    ds = dataset.read(DEMO)
    first = ds.values([7, 8], ["name", "amenities"])
    first[0]["name"] = "changed"
    first[0]["amenities"].append("nonsense")
    first[1]["extra"] = 1
    again = ds.values([7, 8], ["name", "amenities"])
    assert again[0]["name"] != "changed"
    assert "nonsense" not in again[0]["amenities"]
    assert "extra" not in again[1]
    assert ds.record(7)["name"] == again[0]["name"]


def test_the_record_cache_stays_bounded(monkeypatch):
    monkeypatch.setattr(dataset, "_MAX_RECORDS", 300)
    ds = dataset.read(DEMO)
    seen = 0
    for start in range(0, 3000, 50):
        got = ds.values(np.arange(start, start + 50), ["id"])
        assert [g["id"] for g in got] == [ds.record(r)["id"] for r in range(start, start + 50)]
        seen = max(seen, len(ds._records))
    assert 50 <= seen <= 300
