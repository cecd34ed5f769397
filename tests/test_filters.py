"""The one station-mask builder, checked against masks computed row by row."""

from __future__ import annotations

import functools
import itertools
from datetime import UTC, datetime

import numpy as np
import pytest

from locator.domain import hours, schema
from locator.stations import filters

WHEN = datetime(2026, 3, 4, 2, 30, tzinfo=UTC)  # a Wednesday, 10:30 in Henan


@functools.cache
def _open_at_when(text):
    return hours.state(text, WHEN) == "open"


@pytest.fixture(scope="module")
def records(demo_dataset):
    return demo_dataset.frame[["kind", "status", "amenities", "opening_hours"]].to_dict("records")


def _brute(recs, *, kinds=(), statuses=(), amenities=(), open_now=False):
    """The expected mask, one station at a time from the raw frame columns."""
    out = []
    for rec in recs:
        have = set(schema.split_amenities(rec.get("amenities")))
        ok = ((not kinds or rec["kind"] in kinds)
              and (not statuses or (rec.get("status") or "open") in statuses)
              and set(amenities) <= have
              and (not open_now or _open_at_when(rec.get("opening_hours"))))
        out.append(ok)
    return np.asarray(out, dtype=bool)


CASES = [
    {},
    {"kinds": ("driver_home",)},
    {"kinds": ("rest_station", "reading_room"), "statuses": ("open",)},
    {"statuses": filters.SERVING},
    {"statuses": ("closed",)},
    {"amenities": ("drinking_water",)},
    {"amenities": ("drinking_water", "microwave"), "open_now": True},
    {"open_now": True, "kinds": ("rest_station",), "statuses": ("open",)},
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_mask_matches_row_by_row(demo_dataset, records, case):
    ds = demo_dataset
    want = _brute(records, **case)
    if case:  # a filter that keeps all or nothing would prove little
        assert 0 < want.sum() < len(want)
    amask = schema.parse_amenities(case.get("amenities", ()))
    got = filters.mask(ds, kinds=case.get("kinds"), statuses=case.get("statuses"),
                       amenity_mask=amask, open_now=case.get("open_now", False), when=WHEN)
    assert got.dtype == bool and got.shape == (len(ds),)
    assert np.array_equal(got, want)
    # A subset of rows gives the same answers as the full mask at those rows.
    rows = np.random.default_rng(8).choice(len(ds), size=500, replace=False)
    assert np.array_equal(filters.mask(ds, rows, kinds=case.get("kinds"),
                                       statuses=case.get("statuses"), amenity_mask=amask,
                                       open_now=case.get("open_now", False), when=WHEN),
                          want[rows])
    accept = filters.row_filter(ds, kinds=case.get("kinds"), statuses=case.get("statuses"),
                                amenity_mask=amask, open_now=case.get("open_now", False),
                                when=WHEN)
    if not case:
        assert accept is None
    else:
        assert np.array_equal(accept(rows), want[rows])


def test_serving_statuses():
    assert filters.serving_statuses(include_temporarily_closed=False) == ("open",)
    assert set(filters.serving_statuses(include_temporarily_closed=True)) == {
        "open", "temporarily_closed"}
    assert "closed" not in filters.SERVING
    assert list(itertools.chain(filters.SERVING)) != list(schema.STATUS_CODES)
