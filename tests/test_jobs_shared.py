"""Planner jobs on the shared Redis queue, run by real ``locator worker`` processes.

Each test talks to the apps over their WSGI interface as an API client would:
start a job on one app, poll it on another, hit the bounds, walk away from a
job, and run one over its memory cap.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis as RedisClient
from rq import Worker
from rq.job import Job, JobStatus

from locator import create_app
from tests.conftest import DEMO, ROOT
from tests.jobclient import planned
from tests.servers import redis_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as r:
        if r is None:
            pytest.skip("redis-server is not installed")
        yield r.url


@contextlib.contextmanager
def worker(url: str, tmp: Path) -> Iterator[subprocess.Popen[bytes]]:
    """One ``locator worker`` process, registered before this yields."""
    env = {**os.environ, "LOCATOR_DATA_PATH": str(DEMO), "LOCATOR_DATA_DIR": str(tmp)}
    proc = subprocess.Popen([sys.executable, "-m", "locator", "worker", "--url", url],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    conn = RedisClient.from_url(url)
    try:
        end = time.monotonic() + 60
        while not Worker.all(connection=conn):
            assert proc.poll() is None, "locator worker exited"
            assert time.monotonic() < end, "locator worker did not register"
            time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        for w in Worker.all(connection=conn):
            w.register_death()
        conn.flushdb()
        conn.close()


def _app(url: str, tmp: Path, **extra):
    return create_app({"TESTING": True, "DATA_PATH": str(DEMO), "DATA_DIR": str(tmp),
                       "TILES": "osm", "GRID_CELL_M": 2000.0, "JOBS_URL": url,
                       "POPULATION_PATH": str(tmp / "absent.csv"), **extra})


def test_a_job_started_on_one_app_is_polled_on_another(redis_url, tmp_path):
    one = _app(redis_url, tmp_path).test_client()
    other = _app(redis_url, tmp_path).test_client()
    local = create_app({"TESTING": True, "DATA_PATH": str(DEMO), "DATA_DIR": str(tmp_path),
                        "TILES": "osm", "GRID_CELL_M": 2000.0,
                        "POPULATION_PATH": str(tmp_path / "absent.csv")}).test_client()
    with worker(redis_url, tmp_path):
        r = one.get("/api/v1/coverage?radius=2500&by=city&wait=0")
        assert r.status_code == 202 and r.headers["Location"] == r.json["poll"]
        job_id = r.json["job"]
        for _ in range(600):
            r = other.get(r.json["poll"] if r.status_code == 202 else f"/api/v1/jobs/{job_id}")
            if r.status_code != 202:
                break
            time.sleep(0.1)
        assert r.status_code == 200, r.json
        shared = r.json
        # Asking again anywhere finds the same finished job, not a new one.
        again = other.get("/api/v1/coverage?radius=2500&by=city")
        assert again.status_code == 200
        assert other.get("/api/v1/jobs/0000000000000000").status_code == 404
    # The same plan computed by the in-process backend, without Redis or a worker.
    mine = planned(local, "/api/v1/coverage?radius=2500&by=city").json
    assert shared["params"] == mine["params"] and shared["dataset"] == mine["dataset"]
    assert shared["province"] == pytest.approx(mine["province"])
    assert shared["regions"] == mine["regions"]


def test_a_full_queue_answers_429_with_retry_after(redis_url, tmp_path):
    # No worker runs: submitted jobs stay queued and keep counting.
    client = _app(redis_url, tmp_path, JOBS_MAX_PER_CLIENT=2, JOBS_MAX_QUEUED=3).test_client()
    other = _app(redis_url, tmp_path, JOBS_MAX_PER_CLIENT=2, JOBS_MAX_QUEUED=3)
    other_client = other.test_client()
    try:
        for radius in (1100, 1200):
            assert client.get(f"/api/v1/coverage?radius={radius}").status_code == 202
        r = client.get("/api/v1/coverage?radius=1300")
        assert r.status_code == 429
        assert set(r.json) == {"status", "code", "message", "field"}
        assert r.json["code"] == "too_many_jobs" and int(r.headers["Retry-After"]) >= 1
        # The same parameters are not a new job: they answer with the queued one.
        assert client.get("/api/v1/coverage?radius=1100").status_code == 202
        # Another client has its own share, until the whole queue is full.
        far = {"REMOTE_ADDR": "192.0.2.7"}
        assert other_client.get("/api/v1/coverage?radius=1400",
                                environ_base=far).status_code == 202
        full = other_client.get("/api/v1/coverage?radius=1500",
                                environ_base={"REMOTE_ADDR": "192.0.2.8"})
        assert full.status_code == 429 and "busy" in full.json["message"]
    finally:
        RedisClient.from_url(redis_url).flushdb()


def test_an_abandoned_job_is_stopped(redis_url, tmp_path):
    # A target gap of zero keeps the solver proving optimality for up to its
    # time limit, so the job is still running when nobody has polled for 3 s.
    app = _app(redis_url, tmp_path, GRID_CELL_M=500.0, JOBS_ABANDON_SECONDS=3.0,
               SUGGEST_TIME_LIMIT=120.0, SUGGEST_TARGET_GAP=0.0, JOBS_MAX_PER_CLIENT=5)
    client = app.test_client()
    conn = RedisClient.from_url(redis_url)
    with worker(redis_url, tmp_path):
        r = client.get("/api/v1/suggest?n=200&radius=400&wait=0")
        assert r.status_code == 202
        job_id = r.json["job"]
        end = time.monotonic() + 60
        status = None
        # Watch the queue directly: a poll through the app would keep the job wanted.
        while time.monotonic() < end:
            status = Job.fetch(job_id, connection=conn).get_status(refresh=True)
            if status in (JobStatus.STOPPED, JobStatus.FINISHED, JobStatus.FAILED):
                break
            time.sleep(0.3)
        assert status == JobStatus.STOPPED
        assert Worker.all(connection=conn)[0].get_current_job_id() is None
        r = client.get(f"/api/v1/jobs/{job_id}")
        assert r.status_code == 409 and r.json["code"] == "job_cancelled"
    conn.close()


def test_a_job_over_its_memory_cap_fails_clearly(redis_url, tmp_path):
    # A 100 m grid over Henan needs arrays of well over 64 MB.
    client = _app(redis_url, tmp_path, JOBS_MEMORY_MB=64, GRID_CELL_M=100.0).test_client()
    with worker(redis_url, tmp_path):
        r = planned(client, "/api/v1/coverage?radius=1700", timeout=60)
    assert r.status_code == 507, r.json
    assert r.json["code"] == "job_over_memory_limit"
    assert "64 MB" in r.json["message"] and "JOBS_MEMORY_MB" in r.json["message"]
