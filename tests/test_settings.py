"""Settings: one table, every entry documented, precedence as documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from locator import config, create_app

DOC = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


def test_every_setting_is_documented_with_its_default():
    text = DOC.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", text, flags=re.M))
    names = {s.name for s in config.SETTINGS}
    assert documented == names
    for s in config.SETTINGS:
        assert s.help.strip()
        assert f"LOCATOR_{s.name}" in text or s.name in text


def test_precedence_env_over_file_over_default(tmp_path):
    (tmp_path / "locator.toml").write_text('tiles = "osm"\nmax_k = 20\n', encoding="utf-8")
    got = config.load(instance_path=tmp_path, environ={"LOCATOR_MAX_K": "30"})
    assert got["TILES"] == "osm" and got["MAX_K"] == 30
    got = config.load(instance_path=tmp_path, environ={}, overrides={"MAX_K": 5})
    assert got["MAX_K"] == 5


def test_bad_setting_values_fail_loudly():
    with pytest.raises(ValueError, match="TILES"):
        config.load(environ={"LOCATOR_TILES": "google"})
    with pytest.raises(ValueError, match="MAX_K"):
        config.load(environ={"LOCATOR_MAX_K": "many"})


def test_app_factory_takes_test_config(small_path):
    app = create_app({"TESTING": True, "DATA_PATH": str(small_path), "MAX_K": 3})
    assert app.testing and app.config["MAX_K"] == 3
    r = app.test_client().get("/api/v1/nearest?lat=34.75&lon=113.66&k=4")
    assert r.status_code == 400 and r.get_json()["field"] == "k"
