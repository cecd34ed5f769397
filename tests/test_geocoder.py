"""The optional online geocoder, against a local server speaking Tianditu's and Amap's APIs.

The real services cannot be reached from here, so a loopback server answers in
their documented formats; what is checked is what we send, how we read the
answers (Amap's GCJ-02 back to WGS-84, checked geodesically), and that search
never depends on the service: slow, refusing or broken, search still answers.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from pyproj import Geod

from locator import create_app, memo
from locator.geo import datum
from tests.conftest import DEMO

GEOD = Geod(ellps="WGS84")
# A point in 金水区 (WGS-84) and an address no station, county or city name holds.
WGS = (113.68251, 34.78716)
ADDRESS = "花园路与农业路交叉口东北角"


class _Fake(BaseHTTPRequestHandler):
    mode: ClassVar[str] = "ok"
    seen: ClassVar[list[dict[str, list[str]]]] = []

    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(url.query)
        type(self).seen.append({"path": [url.path], **q})
        if self.mode == "slow":
            time.sleep(1.5)
        if self.mode == "error":
            self.send_response(500)
            self.end_headers()
            return
        if url.path == "/amap":
            gx, gy = datum.wgs84_to_gcj02(*WGS)
            body = {"status": "1", "info": "OK", "geocodes": [
                {"formatted_address": "河南省郑州市金水区<img src=x onerror=alert(1)>",
                 "location": f"{gx:.6f},{gy:.6f}"}]}
            if self.mode == "refused":
                body = {"status": "0", "info": "INVALID_USER_KEY", "geocodes": []}
        else:
            keyword = json.loads(q["ds"][0])["keyWord"]
            body = {"status": "0", "msg": "ok",
                    "location": {"lon": WGS[0], "lat": WGS[1], "level": "门址", "keyWord": keyword}}
            if self.mode == "refused":
                body = {"status": "101", "msg": "非法key"}
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def fake():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Fake)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


@pytest.fixture(autouse=True)
def _fresh():
    _Fake.mode, _Fake.seen = "ok", []
    memo.store().discard(lambda k: isinstance(k, tuple) and k[:1] == ("geocoder",))


def _client(service, url, **extra):
    cfg = {"TESTING": True, "DATA_PATH": str(DEMO), "GEOCODER": service,
           "GEOCODER_KEY": "k-123", "GEOCODER_URL": url, "GEOCODER_TIMEOUT": 0.5, **extra}
    return create_app(cfg).test_client()


def _metres(lon, lat):
    return GEOD.inv(lon, lat, *WGS)[2]


def test_amap_answers_are_turned_from_gcj02_into_wgs84(fake):
    c = _client("amap", f"{fake}/amap")
    body = c.get("/api/v1/search", query_string={"q": ADDRESS}).get_json()
    assert body["geocoder"] == {"service": "amap", "status": "ok"}
    hit = body["results"][-1]
    assert hit["type"] == "geocoder" and hit["context"].startswith("高德")
    assert _metres(hit["lon"], hit["lat"]) < 1.0
    # The label is passed on as text; the page puts it in text nodes.
    assert hit["label"].endswith("<img src=x onerror=alert(1)>")
    (asked,) = _Fake.seen
    assert asked["address"] == [ADDRESS] and asked["key"] == ["k-123"]
    assert asked["city"] == ["河南"]


def test_tianditu_is_asked_with_its_json_keyword_and_key(fake):
    c = _client("tianditu", f"{fake}/tianditu")
    body = c.get("/api/v1/search", query_string={"q": ADDRESS}).get_json()
    hit = body["results"][-1]
    assert hit["type"] == "geocoder" and _metres(hit["lon"], hit["lat"]) < 0.01
    (asked,) = _Fake.seen
    assert json.loads(asked["ds"][0]) == {"keyWord": ADDRESS} and asked["tk"] == ["k-123"]


def test_answers_are_cached_so_the_quota_is_spent_once(fake):
    c = _client("amap", f"{fake}/amap")
    for _ in range(3):
        assert c.get("/api/v1/search", query_string={"q": ADDRESS}).status_code == 200
    assert len(_Fake.seen) == 1


def test_a_full_list_of_our_own_names_does_not_ask(fake):
    c = _client("amap", f"{fake}/amap")
    body = c.get("/api/v1/search", query_string={"q": "金水区", "limit": 1}).get_json()
    assert body["numberReturned"] == 1 and body["results"][0]["type"] != "geocoder"
    assert "geocoder" not in body and _Fake.seen == []


@pytest.mark.parametrize("mode", ["slow", "error", "refused"])
def test_search_answers_without_a_failing_geocoder(fake, mode):
    _Fake.mode = mode
    c = _client("amap", f"{fake}/amap")
    t = time.perf_counter()
    # A station's own name: some of our results, fewer than asked for, so the service is asked.
    r = c.get("/api/v1/search", query_string={"q": "二七区文化路邮政网点户外劳动者爱心驿站",
                                              "limit": 50})
    took = time.perf_counter() - t
    body = r.get_json()
    assert r.status_code == 200
    assert body["geocoder"] == {"service": "amap", "status": "unavailable"}
    assert body["results"] and all(h["type"] != "geocoder" for h in body["results"])
    assert took < 1.4  # the 0.5 s timeout, not the server's 1.5 s


def test_no_key_means_no_geocoder(fake):
    c = _client("amap", f"{fake}/amap", GEOCODER_KEY="")
    body = c.get("/api/v1/search", query_string={"q": ADDRESS}).get_json()
    assert "geocoder" not in body and _Fake.seen == []
