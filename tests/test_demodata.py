"""The shipped demo dataset and its generator."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from locator.domain import schema
from locator.geo import regions
from locator.stations import dataset, demodata
from tests.conftest import ROOT, shared_file

BOUNDS = ROOT / "data" / "boundaries"


def test_shipped_dataset_is_flagged_demo_and_valid(demo_dataset):
    f = demo_dataset.frame
    assert f["demo"].all()
    assert f["name"].str.contains("演示").all()
    counts = f["kind"].value_counts()
    assert counts["rest_station"] == 12_000
    assert counts["reading_room"] == 2_100
    assert counts["driver_home"] == 150
    assert f["id"].is_unique
    problems = [p for rec in f.drop(columns="geometry").to_dict("records")[:3000]
                for p in schema.validate_record(rec)]
    assert problems == []


def test_every_station_lies_in_its_own_county_polygon(demo_dataset):
    f = demo_dataset.frame
    cty = regions.counties(str(BOUNDS)).set_index("county_adcode")
    polys = cty.geometry.reindex(f["county_adcode"]).to_numpy()
    inside = shapely.contains_xy(polys, demo_dataset.lon, demo_dataset.lat)
    assert inside.all()
    assert (cty["county"].reindex(f["county_adcode"]).to_numpy() == f["county"].to_numpy()).all()
    assert f["county_adcode"].nunique() == 157


def test_rest_stations_follow_county_population(demo_dataset):
    pop = pd.read_csv(shared_file("population", "henan_county_population_2020.csv"),
                      dtype={"adcode": str}).set_index("adcode")["pop2020"]
    f = demo_dataset.frame
    got = f[f["kind"] == "rest_station"]["county_adcode"].value_counts()
    # One per county first, the remainder in proportion to population.
    want = 1 + pop / pop.sum() * (12_000 - len(pop))
    diff = (got.reindex(want.index).fillna(0) - want).abs()
    assert (diff <= 1.0).all()


def test_allocate_is_exact_and_proportional():
    out = demodata.allocate(np.array([1, 2, 3, 4]), 100)
    assert out.sum() == 100 and out.tolist() == [10, 20, 30, 40]
    out = demodata.allocate(np.array([1, 1, 1]), 10, minimum=1)
    assert out.sum() == 10 and out.min() >= 3
    with pytest.raises(ValueError):
        demodata.allocate(np.array([1, 1]), 1, minimum=1)


def test_generator_is_deterministic_and_area_weighted_without_population(tmp_path):
    opts = demodata.DemoOptions(seed=3, counts=(("rest_station", 300), ("driver_home", 20)))
    a = demodata.generate(str(BOUNDS), options=opts)
    b = demodata.generate(str(BOUNDS), options=opts)
    pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")),
                                  pd.DataFrame(b.drop(columns="geometry")))
    assert a.geometry.equals(b.geometry)
    cty = regions.counties(str(BOUNDS))
    area = cty.to_crs("EPSG:4547").set_index("county_adcode").geometry.area
    got = a[a["kind"] == "rest_station"]["county_adcode"].value_counts()
    want = 1 + area / area.sum() * (300 - len(area))
    assert (got.reindex(want.index).fillna(0) - want).abs().max() <= 1.0
    path = tmp_path / "x.gpkg"
    dataset.write(a, path)
    back = gpd.read_file(path)
    assert len(back) == len(a) and back["demo"].all()


def test_demo_phones_are_visibly_unassigned_numbers(demo_dataset):
    phones = demo_dataset.frame["phone"]
    # Area code, then a local number that starts with 0: China assigns none of those.
    assert phones.str.fullmatch(r"0\d{2,3}-0000-\d{4}").all()
