
"""The ``locator`` command."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from locator.cli.main import main
from tests.conftest import DEMO, HOSTILE_NAME


def test_nearest_prints_a_readable_table(runner):
    r = runner.invoke(main, ["nearest", "--lat", "34.7536", "--lon", "113.6645", "--k", "3",
                             "--kind", "rest_station", "--amenity", "toilet"])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].startswith("演示数据")
    assert "名称 name" in lines[1] and set(lines[2]) <= {"-", " "}
    rows = lines[3:-1]
    assert len(rows) == 3 and all("演示" in row for row in rows)
    assert "walk times" in lines[-1]  # and what they are based on
    assert [row.split()[0] for row in rows] == ["1", "2", "3"]


def test_nearest_json_matches_api(runner, client):
    r = runner.invoke(main, ["nearest", "--lat", "34.7536", "--lon", "113.6645", "--k", "4",
                             "--json", "--data", str(DEMO)])
    fc = json.loads(r.output)
    api = client.get("/api/v1/nearest?lat=34.7536&lon=113.6645&k=4").get_json()
    assert [f["id"] for f in fc["features"]] == [f["id"] for f in api["features"]]


def test_nearest_bad_input_uses_error_shape(runner):
    r = runner.invoke(main, ["nearest", "--lat", "95", "--lon", "113"])
    assert r.exit_code == 2
    err = json.loads(r.stderr if hasattr(r, "stderr") else r.output)
    assert err["field"] == "lat" and err["status"] == 400
    r = runner.invoke(main, ["nearest", "--lat", "34", "--lon", "113", "--kind", "spa"])
    assert r.exit_code == 2 and "kind" in r.output


def test_nearest_on_hostile_data_prints_text(runner, small_path):
    r = runner.invoke(main, ["nearest", "--lat", "34.7536", "--lon", "113.6645", "--k", "1",
                             "--data", str(small_path)])
    assert HOSTILE_NAME in r.output


def test_settings_lists_every_setting(runner):
    r = runner.invoke(main, ["settings"])
    assert r.exit_code == 0 and "DATA_PATH" in r.output and "TIANDITU_KEY" in r.output


@pytest.mark.slow
def test_demo_data_writes_a_loadable_file(tmp_path):
    out = tmp_path / "demo.gpkg"
    # A real subprocess: the installed entry point, as a user would run it.
    r = subprocess.run([sys.executable, "-m", "locator", "demo-data", "--out", str(out),
                        "--seed", "1"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "14250" in r.stdout
    from locator.stations import dataset

    ds = dataset.read(out)
    assert len(ds) == 14250 and ds.demo
