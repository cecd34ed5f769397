"""Schema vocabulary and record validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from locator.domain import schema
from locator.errors import LocatorError

GOOD = {"id": "zz-001", "kind": "rest_station", "name": "金水路驿站", "address": "金水路1号",
        "county_adcode": "410105", "opening_hours": "24/7", "amenities": "toilet;drinking_water",
        "phone": "0371-12345678", "access": "public", "status": "open",
        "verified_at": "2026-05-01"}


def test_valid_record_has_no_problems():
    assert schema.validate_record(GOOD) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": "has space"}, "id"),
        ({"kind": "hotel"}, "kind"),
        ({"name": ""}, "name"),
        ({"name": "x" * 501}, "name"),
        ({"address": "a\x00b"}, "address"),
        ({"county_adcode": "4101"}, "county_adcode"),
        ({"amenities": "toilet;sauna"}, "amenities"),
        ({"phone": "call me"}, "phone"),
        ({"access": "vip"}, "access"),
        ({"status": "gone"}, "status"),
        ({"verified_at": "yesterday"}, "verified_at"),
    ],
)
def test_each_problem_names_its_field(change, field):
    problems = schema.validate_record({**GOOD, **change})
    assert [f for f, _ in problems] == [field]
    with pytest.raises(LocatorError) as info:
        schema.check_record({**GOOD, **change})
    assert info.value.field == field and info.value.status == 400


def test_amenity_masks_and_unknown_codes():
    masks = schema.amenity_masks(["toilet;drinking_water", "", None, "toilet"])
    t, w = schema.AMENITY_BIT["toilet"], schema.AMENITY_BIT["drinking_water"]
    assert masks.tolist() == [t | w, 0, 0, t]
    with pytest.raises(LocatorError) as info:
        schema.parse_amenities(["toilet", "spa"])
    assert info.value.field == "amenity" and "spa" in info.value.message


def test_vocabulary_is_documented_in_both_languages():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "schema.md").read_text("utf-8")
    for term in (*schema.KINDS, *schema.AMENITIES, *schema.STATUSES):
        assert f"`{term.code}` | {term.zh} | {term.en}" in doc
    assert len(schema.AMENITY_CODES) == 19
