"""Rate limits as a client meets them: moving window, shared through Redis
across gunicorn workers, failing open when Redis stops, trusted proxies only,
our own 429, and GIS clients paging a whole collection under the defaults."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from locator import create_app
from locator.web.ratelimit import client_address, proxy_networks
from tests.conftest import DEMO
from tests.liveserver import live_server
from tests.servers import redis_server


def _app(**cfg):
    return create_app({"TESTING": True, "DATA_PATH": str(DEMO), "RATE_LIMIT_ENABLED": True,
                       **cfg})


def test_forwarded_for_only_from_trusted_proxies():
    trusted = proxy_networks(["10.0.0.0/8", "127.0.0.1"])
    # A direct client cannot name another address.
    assert client_address("203.0.113.9", "198.51.100.1", trusted) == "203.0.113.9"
    # Behind our proxies, the rightmost address they did not add is the client;
    # whatever the client put on the left is ignored.
    assert client_address("127.0.0.1", "1.2.3.4, 198.51.100.7, 10.1.2.3",
                          trusted) == "198.51.100.7"
    assert client_address("127.0.0.1", "garbage", trusted) == "127.0.0.1"
    assert client_address("127.0.0.1", "198.51.100.7", ()) == "127.0.0.1"


def test_forged_forwarded_for_gets_no_new_budget():
    c = _app(RATE_LIMIT="3 per minute").test_client()
    codes = [c.get("/api/v1/health", headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
             for i in range(5)]
    assert codes == [200, 200, 200, 429, 429]


def test_trusted_proxy_clients_counted_apart():
    c = _app(RATE_LIMIT="2 per minute", TRUSTED_PROXIES=["127.0.0.1"]).test_client()
    for who in ("198.51.100.1", "198.51.100.2"):
        codes = [c.get("/api/v1/health", headers={"X-Forwarded-For": who}).status_code
                 for _ in range(3)]
        assert codes == [200, 200, 429]


def test_429_is_ours_and_only_429_carries_retry_after():
    c = _app(RATE_LIMIT="2 per minute").test_client()
    ok = [c.get("/api/v1/health") for _ in range(2)]
    assert all(r.status_code == 200 and "Retry-After" not in r.headers for r in ok)
    r = c.get("/api/v1/health")
    assert r.status_code == 429
    body = r.get_json()
    assert set(body) == {"status", "code", "message", "field"}
    assert body["status"] == 429 and body["code"] == "too_many_requests"
    assert "请求过于频繁" in body["message"] and "too many requests" in body["message"]
    assert 1 <= int(r.headers["Retry-After"]) <= 60


def _flood(get, seconds: float) -> list[float]:
    """Times of the answered (200) requests of a flood lasting ``seconds``."""
    ok: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        status = get()
        if status == 200:
            ok.append(time.monotonic())
    return ok


def _most_in_window(times: list[float], window: float) -> int:
    # Brute force over every answered request as a window start.
    return max((sum(1 for u in times if t <= u < t + window) for t in times), default=0)


@pytest.mark.slow
def test_flood_across_a_window_boundary_gets_one_windows_worth():
    c = _app(RATE_LIMIT="20 per 2 seconds").test_client()
    ok = _flood(lambda: c.get("/api/v1/health").status_code, 5.0)
    # A fixed window lets 20 through at the end of one window and 20 more at the
    # start of the next: 40 inside two seconds. A moving window keeps to 20 (plus one
    # or two: our timestamps are taken after each answer, the limiter's before it).
    assert _most_in_window(ok, 2.0) <= 22
    assert len(ok) >= 40  # and it does let the client go on after each window


@pytest.mark.slow
def test_redis_shared_by_two_workers_and_fails_open():
    with redis_server() as redis:
        if redis is None:
            pytest.skip("redis-server not installed")
        env = {"LOCATOR_RATE_LIMIT": "30 per minute",
               "LOCATOR_RATE_LIMIT_STORAGE_URI": redis.url}
        with live_server(workers=2, threads=4, env=env) as live:
            # Each request on a new connection, so both workers take some. The
            # start-up probes used a few of the 30; the first answer says how many remain.
            status, headers, _ = live.get("/api/v1/vocabulary")
            assert status == 200
            left = int(headers["X-RateLimit-Remaining"])
            assert 20 <= left < 30
            codes = [live.get("/api/v1/vocabulary")[0] for _ in range(60)]
            # One budget for both processes: separate counters would give up to twice it.
            assert codes == [200] * left + [429] * (60 - left)
            # The counters are in Redis, not in either process.
            keys = subprocess.run(["redis-cli", "-p", str(redis.port), "--scan"],
                                  capture_output=True, text=True, check=True,
                                  timeout=10).stdout.split()
            assert any("locator" in k for k in keys), keys
            redis.stop()
            t = time.monotonic()
            codes = [live.get("/api/v1/vocabulary")[0] for _ in range(10)]
            assert codes == [200] * 10  # fails open
            assert time.monotonic() - t < 10
            log = live.log.read_text()
            assert "rate limit" in log.lower()
            redis.start()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("ogr2ogr") is None, reason="gdal-bin not installed")
def test_ogr2ogr_reads_every_demo_station_under_default_limits(tmp_path):
    expected = json.loads(subprocess.run(
        ["ogr2ogr", "-f", "GeoJSON", "/vsistdout/", str(DEMO), "-select", "id"],
        capture_output=True, text=True, check=True, timeout=120).stdout)
    want = {f["properties"]["id"] for f in expected["features"]}
    assert len(want) == 14_250
    dest = Path(tmp_path) / "out.geojson"
    with live_server(workers=1, threads=4) as live:
        # GDAL's default page size (10): about 1,425 item pages.
        proc = subprocess.run(["ogr2ogr", "-f", "GeoJSON", str(dest),
                               f"OAPIF:{live.url}/ogc", "stations"],
                              capture_output=True, text=True, timeout=400)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "429" not in proc.stderr
    got = [f["properties"]["id"] for f in json.loads(dest.read_text())["features"]]
    assert len(got) == 14_250
    assert set(got) == want
