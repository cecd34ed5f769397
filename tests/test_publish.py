"""Versioned, atomic publishing: sources, the vanishing guard, rollback, kills, live reload."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from locator.cli.main import main
from locator.storage import files
from tests import stationfiles as sf
from tests.conftest import ROOT


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCATOR_DATA_DIR", str(tmp_path / "data"))
    return files.DataDir(tmp_path / "data")


def _import(runner, path, *args):
    r = runner.invoke(main, ["import", str(path), *args])
    return r


@pytest.mark.slow
def test_sources_replace_only_themselves_and_the_guard(tmp_path, backend, runner):
    real = sf.real_stations()
    zz = sf.csv_bd09_gbk(real, tmp_path / "zz.csv")
    other = sf.xlsx_gcj02(real.head(10), tmp_path / "other.xlsx")
    assert _import(runner, zz, "--crs", "bd09", "--source", "zz").exit_code == 0
    assert _import(runner, other, "--crs", "gcj02", "--source", "巩义").exit_code == 0
    frame = backend.frame()
    assert frame["source"].value_counts().to_dict() == {"zz": 82, "巩义": 10}
    # The second list repeats ten of the first source's stations: each is pointed out.
    report = sorted((backend.reports).glob("*other.csv"))[-1].read_text("utf-8-sig")
    assert report.count("duplicate_other_source") == 10
    theirs = frame[frame["source"] == "巩义"].sort_values("id").reset_index(drop=True)

    # Half of zz's list is gone: refused without --force, nothing published.
    half = sf.csv_bd09_gbk(real.head(41), tmp_path / "half.csv")
    live = backend.current()
    r = _import(runner, half, "--crs", "bd09", "--source", "zz")
    assert r.exit_code == 1 and "--force" in r.stderr and backend.current() == live
    r = _import(runner, half, "--crs", "bd09", "--source", "zz", "--dry-run", "--force")
    assert r.exit_code == 0 and "dry run" in r.output and backend.current() == live
    r = _import(runner, half, "--crs", "bd09", "--source", "zz", "--force")
    assert r.exit_code == 0, r.output
    assert "removed 41" in r.output
    frame = backend.frame()
    assert frame["source"].value_counts().to_dict() == {"zz": 41, "巩义": 10}
    after = frame[frame["source"] == "巩义"].sort_values("id").reset_index(drop=True)
    assert after.drop(columns="geometry").equals(theirs.drop(columns="geometry"))
    assert after.geometry.geom_equals(theirs.geometry).all()

    # Same list again: nothing changes, no new version.
    n = len(backend.versions())
    r = _import(runner, half, "--crs", "bd09", "--source", "zz")
    assert r.exit_code == 0 and "unchanged 41" in r.output and len(backend.versions()) == n


def test_demo_data_is_not_carried_into_real_versions(tmp_path, backend, runner):
    zz = sf.csv_bd09_gbk(sf.real_stations().head(5), tmp_path / "zz.csv")
    assert _import(runner, zz, "--crs", "bd09", "--source", "zz").exit_code == 0
    frame = backend.frame()
    assert len(frame) == 5 and not frame["demo"].any()


@pytest.mark.slow
def test_datasets_and_rollback(tmp_path, backend, runner):
    real = sf.real_stations()
    r = runner.invoke(main, ["datasets"])
    assert "nothing published" in r.output
    assert runner.invoke(main, ["rollback"]).exit_code == 2
    for n in (20, 30, 40):
        path = sf.csv_bd09_gbk(real.head(n), tmp_path / f"{n}.csv")
        assert _import(runner, path, "--crs", "bd09", "--source", "zz").exit_code == 0
    names = [v.name for v in backend.versions()]
    assert len(names) == 3 and backend.current() == names[2]
    out = runner.invoke(main, ["datasets"]).output
    assert all(n in out for n in names) and out.count("*") == 1
    r = runner.invoke(main, ["rollback"])
    assert r.exit_code == 0 and backend.current() == names[1]
    assert len(backend.frame()) == 30
    r = runner.invoke(main, ["rollback", names[0][:18]])
    assert r.exit_code == 0 and backend.current() == names[0]
    r = runner.invoke(main, ["rollback", "nope"])
    assert r.exit_code == 2 and json.loads(r.stderr)["field"] == "version"
    # Versions are never rewritten by a rollback.
    assert [v.name for v in backend.versions()] == names
    # Pruning keeps the newest and always the live one (here the oldest).
    r = runner.invoke(main, ["datasets", "--prune", "1"])
    assert r.exit_code == 0 and "deleted 1" in r.output
    assert [v.name for v in backend.versions()] == [names[0], names[2]]
    assert backend.current() == names[0]
    assert runner.invoke(main, ["datasets", "--prune", "0"]).exit_code == 2


def test_a_second_import_waits_for_the_lock(tmp_path, data_dir, runner):
    path = sf.csv_bd09_gbk(sf.real_stations().head(3), tmp_path / "a.csv")
    with data_dir.lock():
        r = _import(runner, path, "--crs", "bd09")
    assert r.exit_code == 2 and json.loads(r.stderr)["code"] == "busy"
    assert data_dir.current() is None


_KILL_SCRIPT = """
import os, sys, time
from pathlib import Path
from locator.storage import files
from locator.cli import main

mode, marker = sys.argv[1], Path(sys.argv[2])
real_write = files._write_version

def slow_write(gdf, path):
    if mode == "mid-write":
        real_write(gdf, path)
        data = Path(path).read_bytes()
        Path(path).write_bytes(data[: len(data) // 2])
    else:
        real_write(gdf, path)
    marker.write_text(str(path))
    time.sleep(60)

files._write_version = slow_write
sys.argv = ["locator", "import", *sys.argv[3:]]
main()
"""


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["mid-write", "before-switch"])
def test_killed_import_leaves_the_live_version_intact(tmp_path, data_dir, runner, mode):
    real = sf.real_stations()
    first = sf.csv_bd09_gbk(real.head(30), tmp_path / "first.csv")
    assert _import(runner, first, "--crs", "bd09", "--source", "zz").exit_code == 0
    live = data_dir.current()
    live_file = data_dir.versions_dir / f"{live}.gpkg"
    before = (_digest(live_file), data_dir.pointer.read_bytes())
    second = sf.csv_bd09_gbk(real, tmp_path / "second.csv")
    marker = tmp_path / "writing"
    env = {**os.environ, "LOCATOR_DATA_DIR": str(data_dir.root)}
    proc = subprocess.Popen([sys.executable, "-c", _KILL_SCRIPT, mode, str(marker),
                             str(second), "--crs", "bd09", "--source", "zz"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert marker.exists(), proc.stderr.read().decode() if proc.poll() is not None else ""
        assert Path(marker.read_text()).exists()  # the new version was being written
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert (_digest(live_file), data_dir.pointer.read_bytes()) == before
    assert data_dir.current() == live
    frame = files.read_frame(data_dir.live_path("x"))
    assert len(frame) == 30
    # The next import sweeps the half-written file away and publishes normally.
    assert _import(runner, second, "--crs", "bd09", "--source", "zz").exit_code == 0
    assert not list(data_dir.versions_dir.glob(".tmp-*"))
    assert len(files.read_frame(data_dir.live_path("x"))) == 82


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, dict]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status, json.loads(resp.read())


@pytest.mark.slow
def test_running_server_switches_without_failing_requests(tmp_path, data_dir, small_path):
    """waitress serving; clients hammer it while a new version is published."""
    real = sf.real_stations()
    first = sf.csv_bd09_gbk(real.head(10), tmp_path / "first.csv")
    env = {**os.environ, "LOCATOR_DATA_DIR": str(data_dir.root),
           "LOCATOR_DATA_PATH": str(small_path), "LOCATOR_DATA_RELOAD_SECONDS": "0.2",
           "LOCATOR_TILES": "osm",
           # This test floods the server on purpose; rate limits are tested elsewhere.
           "LOCATOR_RATE_LIMIT_ENABLED": "false"}
    subprocess.run([sys.executable, "-m", "locator", "import", str(first), "--crs", "bd09",
                    "--source", "zz"], cwd=ROOT, env=env, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "locator", "serve", "--port", str(port)],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _, health = _get(base + "/api/v1/health")
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.2)
        assert health["stations"] == 6 + 10  # the small file's stations plus the import
        results: list[tuple[int, int]] = []
        failures: list[str] = []
        stop = threading.Event()

        def client() -> None:
            end = time.monotonic() + 30
            while not stop.is_set() and time.monotonic() < end:
                try:
                    s1, h = _get(base + "/api/v1/health")
                    s2, near = _get(base + "/api/v1/nearest?lat=34.75&lon=113.66&k=5")
                    results.append((s1, h["stations"]))
                    if s2 != 200 or not near["features"]:
                        failures.append(f"nearest {s2}")
                except Exception as exc:  # every failed request is a test failure
                    failures.append(repr(exc))

        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        second = sf.csv_bd09_gbk(real, tmp_path / "second.csv")
        subprocess.run([sys.executable, "-m", "locator", "import", str(second), "--crs",
                        "bd09", "--source", "zz"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(n == 88 for _, n in results[-8:]):
            time.sleep(0.1)
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join(30)
        assert not failures, failures[:5]
        counts = [n for _, n in results]
        assert {s for s, _ in results} == {200}
        assert counts[0] == 16 and counts[-1] == 88 and set(counts) == {16, 88}
        # After the switch, only requests already in flight (one per client) may still
        # answer from the old version.
        first_new = counts.index(88)
        assert counts[first_new:].count(16) <= len(threads)
        _, health = _get(base + "/api/v1/health")
        assert health["stations"] == 88
    finally:
        server.terminate()
        server.wait(10)


def test_run_import_is_callable_without_the_command_line(tmp_path):
    """The engine entry point a web upload page would call."""
    from locator import config as settings
    from locator.ingest import pipeline

    cfg = settings.load(overrides={"DATA_DIR": str(tmp_path / "d")})
    path = sf.xlsx_gcj02(sf.real_stations().head(12), tmp_path / "a.xlsx")
    opts = pipeline.ImportOptions(crs="gcj02", source="web")
    dry = pipeline.run_import(path, opts, config=cfg, dry_run=True, progress=False)
    assert dry.refused is None and dry.version is None and dry.report_path.is_file()
    assert dry.plan is not None and dry.plan.added == 12
    assert files.DataDir(cfg["DATA_DIR"]).current() is None
    done = pipeline.run_import(path, opts, config=cfg, progress=False)
    assert done.version == files.DataDir(cfg["DATA_DIR"]).current()
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    bad = pipeline.run_import(tmp_path / "empty.csv", opts, config=cfg, progress=False)
    assert bad.refused is not None and bad.version is None
    assert files.DataDir(cfg["DATA_DIR"]).current() == done.version


def test_app_serves_and_follows_the_published_version(tmp_path, small_path, runner,
                                                      monkeypatch):
    from locator import config as settings
    from locator import create_app
    from locator.ingest import pipeline

    dd = tmp_path / "d"
    cfg = settings.load(overrides={"DATA_DIR": str(dd), "DATA_PATH": str(small_path)})
    app = create_app({"TESTING": True, "DATA_DIR": str(dd), "DATA_PATH": str(small_path),
                      "DATA_RELOAD_SECONDS": 0.01})
    client = app.test_client()
    assert client.get("/api/v1/health").get_json()["stations"] == 6  # nothing published
    real = sf.real_stations()
    opts = pipeline.ImportOptions(crs="gcj02", source="zz")
    pipeline.run_import(sf.xlsx_gcj02(real.head(7), tmp_path / "a.xlsx"), opts, config=cfg,
                      progress=False)
    time.sleep(0.02)
    client.get("/api/v1/health")  # notices the new pointer, loads in the background
    app.extensions["locator.watcher"].wait()
    assert client.get("/api/v1/health").get_json()["stations"] == 6 + 7
    # A fresh app starts on the published version; an explicit file is served as asked.
    assert create_app({"TESTING": True, "DATA_DIR": str(dd), "DATA_PATH": str(small_path)}
                      ).test_client().get("/api/v1/health").get_json()["stations"] == 13
    pinned = create_app({"TESTING": True, "DATA_DIR": str(dd), "DATA_PATH": str(small_path),
                         "FOLLOW_PUBLISHED": False})
    assert pinned.test_client().get("/api/v1/health").get_json()["stations"] == 6
    # The nearest command reads the live version too.
    monkeypatch.setenv("LOCATOR_DATA_DIR", str(dd))
    monkeypatch.setenv("LOCATOR_DATA_PATH", str(small_path))
    r = runner.invoke(main, ["nearest", "--lat", str(real["lat"][3]), "--lon",
                             str(real["lon"][3]), "--k", "1", "--json"])
    assert json.loads(r.output)["features"][0]["properties"]["name"] == real["name"][3]
