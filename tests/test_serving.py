"""Hostile clients against a live ``locator serve`` (waitress, and gunicorn
with two workers), on loopback, bounded in count and time."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time

import pytest

from locator import config
from locator.web import serving
from tests.liveserver import live_server, raw_exchange

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=[1, 2], ids=["waitress", "gunicorn-2"])
def live(request):
    with live_server(workers=request.param, threads=4) as srv:
        yield srv


def _timed_health(live) -> tuple[int, float]:
    t = time.monotonic()
    status = live.get("/api/v1/health", timeout=5)[0]
    return status, time.monotonic() - t


def test_100_idle_sockets_do_not_block_health(live):
    socks = [socket.create_connection(("127.0.0.1", live.port), timeout=5) for _ in range(100)]
    try:
        time.sleep(0.5)
        for _ in range(3):
            status, took = _timed_health(live)
            assert status == 200
            assert took < 2.0
    finally:
        for s in socks:
            s.close()


def test_200_byte_a_second_clients_do_not_block_a_normal_client(live):
    stop = threading.Event()

    def trickle() -> None:
        with contextlib.suppress(OSError), \
                socket.create_connection(("127.0.0.1", live.port), timeout=20) as s:
            for b in b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 60:
                if stop.is_set():
                    return
                s.send(bytes([b]))
                time.sleep(1.0)

    threads = [threading.Thread(target=trickle, daemon=True) for _ in range(200)]
    for th in threads:
        th.start()
    try:
        time.sleep(3)  # every slow client is connected and mid-headers
        for _ in range(4):
            status, took = _timed_health(live)
            assert status == 200
            assert took < 2.0
            time.sleep(0.5)
    finally:
        stop.set()
        for th in threads:
            th.join(5)


def _answer(raw: bytes) -> tuple[int, dict[str, str], dict]:
    """Status, lower-cased headers and JSON body of one raw HTTP answer."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split(" ", 2)[1]), {k.lower(): v for k, v in headers.items()}, \
        json.loads(body)


# MAX_HEADER_BYTES at its default, as a user's server runs it.
LIMIT = config.BY_NAME["MAX_HEADER_BYTES"].default


LINE = b"GET /api/v1/health?x=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
HEADERS = b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: %s\r\n\r\n"


@pytest.mark.parametrize(("template", "size", "status", "code"), [
    (LINE, LIMIT + 10, 414, "uri_too_long"), (LINE, 300_000, 414, "uri_too_long"),
    (HEADERS, LIMIT + 10, 431, "headers_too_large"),
    (HEADERS, 100_000, 431, "headers_too_large")])
def test_oversized_heads_get_414_or_431_json(live, template, size, status, code):
    got, headers, body = _answer(raw_exchange(live.port, template % (b"a" * size)))
    assert got == status
    assert headers["content-type"].startswith("application/json")
    assert set(body) == {"status", "code", "message", "field"}
    assert body["status"] == status and body["code"] == code and body["field"] is None


def test_long_line_within_the_limit_with_long_headers_gets_431(live):
    # The line fits; only the line and headers together are over the limit.
    line = b"GET /api/v1/health?x=" + b"a" * (LIMIT // 2) + b" HTTP/1.1\r\n"
    status, _, body = _answer(raw_exchange(
        live.port, line + b"Host: 127.0.0.1\r\nX-Big: " + b"a" * (LIMIT // 2) + b"\r\n\r\n"))
    assert status == 431 and body["status"] == 431


def test_head_just_under_the_limit_is_served(live):
    pad = LIMIT - 200
    status, _, body = _answer(raw_exchange(
        live.port, b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"X-Pad: " + b"a" * pad + b"\r\n\r\n"))
    assert status == 200 and body["status"] == "ok"


def test_huge_parameter_gives_a_short_error(live):
    status, _, body = live.get("/api/v1/nearest?lon=113.6&lat=" + "1" * 6000, timeout=5)
    assert status == 400
    assert len(body) < 600
    assert b'"field":"lat"' in body.replace(b" ", b"")


def test_public_url_required_off_loopback():
    with pytest.raises(SystemExit, match="PUBLIC_URL"):
        serving.check_public_url({"PUBLIC_URL": ""}, "0.0.0.0")
    serving.check_public_url({"PUBLIC_URL": "https://map.example.org"}, "0.0.0.0")
    serving.check_public_url({"PUBLIC_URL": ""}, "127.0.0.1")


def test_a_queue_of_requests_is_logged_once_not_per_request(live):
    """Past the request threads every request waits; waitress would log each one."""
    from concurrent.futures import ThreadPoolExecutor

    path = "/api/v1/nearest?lat=34.7536&lon=113.6645&k=10"
    with ThreadPoolExecutor(48) as pool:
        statuses = list(pool.map(lambda _: live.get(path, timeout=30)[0], range(200)))
    assert statuses == [200] * 200
    log = live.log.read_text()
    assert "Task queue depth" not in log
    said = log.count("requests waited for a thread")
    # At most once a minute per process (two under gunicorn); a queue did form.
    assert 1 <= said <= 2, log[-2000:]


def test_queue_log_keeps_the_deepest_queue_between_reports():
    import logging

    from locator.web.heads import QueueLog

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("test.waitress.queue")
    logger.addHandler(Keep())
    q = QueueLog(logger, every_s=0.2)
    for depth in (3, 9, 4, 1):
        q.warning("Task queue depth is %d", depth)
    assert [r.getMessage() for r in records] == [
        "requests waited for a thread; the task queue was up to 3 deep "
        "(reported at most every 0 s)"]
    time.sleep(0.25)
    q.warning("Task queue depth is %d", 2)
    assert "up to 9 deep" in records[-1].getMessage() and len(records) == 2
