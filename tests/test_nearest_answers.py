"""Repeated nearest requests answered from the per-minute store of finished answers.

Each test meets the cache through the API, as a client does, and checks the
answer against one built afresh with the store emptied, or against what
changed (the minute, the feedback flags).
"""

from __future__ import annotations

import time

from locator.stations import answers, dataset
from tests.test_public_flags import flagged  # noqa: F401  (the fixture)

NEAR = "/api/v1/nearest?lat=34.7536&lon=113.6645&k=10"


def _ds(app):
    return app.extensions["locator.store"].current


def test_a_repeated_request_gets_the_answer_built_afresh(app, client):
    first = client.get(NEAR)
    assert first.status_code == 200
    ds = _ds(app)
    kept = ds.cache[answers._KEY]
    assert any(key[1] == NEAR for key in kept.answers)
    again = client.get(NEAR)
    ds.cache.pop(answers._KEY)  # built again from nothing
    fresh = client.get(NEAR)
    assert again.data == first.data == fresh.data
    assert again.headers["ETag"] == fresh.headers["ETag"]
    assert again.headers["Content-Type"] == fresh.headers["Content-Type"] == "application/json"
    assert again.get_json()["numberReturned"] == 10


def test_other_parameters_get_their_own_answer(client):
    ten = client.get(NEAR).get_json()
    three = client.get(NEAR.replace("k=10", "k=3")).get_json()
    english = client.get(NEAR + "&lang=en").get_json()
    assert len(three["features"]) == 3
    assert [f["id"] for f in three["features"]] == [f["id"] for f in ten["features"]][:3]
    assert english["features"][0]["properties"]["opening_hours_text"] != \
        ten["features"][0]["properties"]["opening_hours_text"]


def test_an_answer_kept_for_an_earlier_minute_is_not_served(app, client):
    client.get(NEAR)
    ds = _ds(app)
    key = next(k for k in ds.cache[answers._KEY].answers if k[1] == NEAR)
    minute = int(time.time() // 60)
    answers.put(ds, minute - 1, key, b'{"stale": true}')
    assert answers.get(ds, minute - 1, key) == b'{"stale": true}'
    got = client.get(NEAR)
    assert got.status_code == 200 and "stale" not in got.get_json()
    assert answers.get(ds, minute - 1, key) is None


def test_the_store_is_bounded(small_path):
    ds = dataset.read(small_path)
    for i in range(answers.MAX_ANSWERS + 5):
        answers.put(ds, 1, ("k", i), b"x")
    assert len(ds.cache[answers._KEY].answers) <= answers.MAX_ANSWERS
    assert answers.get(ds, 1, ("k", answers.MAX_ANSWERS + 4)) == b"x"


def test_a_new_report_reaches_a_repeated_request(flagged):  # noqa: F811
    client, _, _, (*_, d) = flagged
    lon, lat = client.get(f"/api/v1/stations/{d}").get_json()["geometry"]["coordinates"]
    path = f"/api/v1/nearest?lat={lat}&lon={lon}&k=5"

    def reported() -> list[str]:
        near = client.get(path).get_json()
        return next(f["properties"]["reported"] for f in near["features"] if f["id"] == d)

    assert "no_toilet" not in reported()
    assert "no_toilet" not in reported()  # now answered from the store
    assert client.post(f"/api/v1/stations/{d}/reports",
                       json={"reason": "no_toilet"}).status_code == 201
    assert "no_toilet" in reported()


def test_per_station_text_stays_bounded_and_right(app, client, monkeypatch):
    """Requests from all over the province must not grow the prebuilt heads or
    the encoded flag members past their bounds, and answers stay those of an
    unbounded store."""
    import numpy as np

    from locator.stations import prebuilt
    from locator.web import feedback_flags

    monkeypatch.setattr(prebuilt, "MAX_HEADS", 40)
    monkeypatch.setattr(feedback_flags, "MAX_MEMBERS", 40)
    rng = np.random.default_rng(2)
    points = list(zip(rng.uniform(31.5, 36.3, 30), rng.uniform(110.5, 116.5, 30), strict=True))
    asked = [f"/api/v1/nearest?lat={lat:.5f}&lon={lon:.5f}&k=10" for lat, lon in points]
    ds = _ds(app)
    bounded = []
    for url in asked:
        bounded.append(client.get(url).get_json()["features"])
        heads = sum(map(len, ds.cache[prebuilt._KEY].values()))
        members = len(ds.cache[feedback_flags._MEMBERS][1])
        assert 0 < heads <= 40 and 0 < members <= 40
    monkeypatch.setattr(prebuilt, "MAX_HEADS", 20_000)
    monkeypatch.setattr(feedback_flags, "MAX_MEMBERS", 20_000)
    ds.cache.clear()
    assert [client.get(url).get_json()["features"] for url in asked] == bounded
