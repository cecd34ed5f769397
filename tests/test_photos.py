"""Photos on workers' reports: re-encoded without metadata, size-limited, checked by
content, shown to the case's union only; on both databases.

Stored bytes are read back from the database with SQLAlchemy and decoded with Pillow,
not through the code that wrote them.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zlib

import pytest
from PIL import ExifTags, Image, PngImagePlugin
from sqlalchemy import create_engine, text

from locator.living import accounts, db
from tests.conftest import DEMO
from tests.staff import PASSWORD, _app, login

MAKE = "LocatorTestCam-SN4711"


@pytest.fixture(scope="module")
def stations():
    import geopandas as gpd

    f = gpd.read_file(DEMO)
    live = f[f["status"] == "open"]
    return {"jinshui": live[live["county_adcode"] == "410105"]["id"].tolist()}


def _jpeg_with_gps(size=(2400, 1200)) -> bytes:
    """A camera-like JPEG: GPS position, camera make and serial, rotated by its EXIF."""
    im = Image.new("RGB", size, (200, 30, 30))
    im.paste((20, 20, 200), (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = MAKE
    exif[ExifTags.Base.Orientation] = 6  # the sensor was turned: show it rotated 90°
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (34.0, 45.0, 30.0), 3: "E",
                                  4: (113.0, 41.0, 0.0)}
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    raw = out.getvalue()
    # The fixture really carries what must go: a test of stripping needs something to strip.
    back = Image.open(io.BytesIO(raw)).getexif()
    assert back.get_ifd(ExifTags.IFD.GPSInfo)[2] == (34.0, 45.0, 30.0)
    return raw


def _png_with_text() -> bytes:
    im = Image.new("RGBA", (300, 200), (0, 128, 0, 128))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret-gps 34.75,113.68")
    out = io.BytesIO()
    im.save(out, "PNG", pnginfo=info)
    return out.getvalue()


def _png_bomb(w=30_000, h=30_000) -> bytes:
    """A tiny PNG whose header claims a huge image (a decompression bomb)."""
    raw = io.BytesIO()
    Image.new("L", (1, 1)).save(raw, "PNG")
    data = bytearray(raw.getvalue())
    ihdr = struct.pack(">II", w, h) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return bytes(data)


def _send(client, sid, photo: bytes, name="photo.jpg", ctype="image/jpeg", **fields):
    form = {"reason": "locked", "text": "门锁着", **fields,
            "photo": (io.BytesIO(photo), name, ctype)}
    return client.post(f"/api/v1/stations/{sid}/reports", data=form,
                       content_type="multipart/form-data")


def _stored(cfg) -> list[tuple]:
    """Rows of the photos table, read with a plain engine of the same database."""
    db.engine(cfg)  # the tables exist even when no request made them
    eng = create_engine(db.database_url(cfg))
    try:
        with eng.connect() as c:
            return [tuple(r) for r in c.execute(text(
                "SELECT id, case_id, content_type, data FROM photos ORDER BY id"))]
    finally:
        eng.dispose()


def _cases(cfg) -> int:
    db.engine(cfg)
    eng = create_engine(db.database_url(cfg))
    try:
        with eng.connect() as c:
            return int(c.execute(text("SELECT count(*) FROM cases")).scalar_one())
    finally:
        eng.dispose()


@pytest.fixture
def setup(staff_cfg):
    cfg = {**staff_cfg, "REPORT_CHALLENGE": False}
    app, worker = _app(cfg)
    accounts.add(app.config, "jinshui@union.example", PASSWORD, union="410105", role="editor")
    accounts.add(app.config, "erqi@union.example", PASSWORD, union="410103", role="editor")
    return app, worker


def test_a_jpeg_keeps_no_exif_and_only_its_union_sees_it(setup, stations):
    app, worker = setup
    sid = stations["jinshui"][0]
    original = _jpeg_with_gps()
    r = _send(worker, sid, original)
    assert r.status_code == 201, r.get_json()
    code = r.get_json()["code"]

    [(pid, _case, ctype, data)] = _stored(app.config)
    data = bytes(data)
    assert ctype == "image/jpeg"
    stored = Image.open(io.BytesIO(data))
    assert stored.format == "JPEG"
    assert not stored.getexif() and "exif" not in stored.info
    assert not stored.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert MAKE.encode() not in data and b"Exif" not in data
    # Turned upright by its orientation tag (2400×1200 becomes 1200×2400), then shrunk.
    assert stored.size == (800, 1600)
    assert data != original

    # The public sees no photo: neither the ticket nor the station answer mention one.
    t = worker.get(f"/api/v1/reports/{code}").get_json()
    assert "photo" not in json.dumps(t)
    assert worker.get(f"/api/v1/admin/photos/{pid}").status_code == 401

    _, erqi = _app(app.config)
    login(erqi, "erqi@union.example")
    other = erqi.get(f"/api/v1/admin/photos/{pid}")
    assert other.status_code == 403 and other.get_json()["code"] == "forbidden"

    _, jinshui = _app(app.config)
    login(jinshui, "jinshui@union.example")
    got = jinshui.get(f"/api/v1/admin/photos/{pid}")
    assert got.status_code == 200 and got.data == data
    assert got.headers["Content-Type"] == "image/jpeg"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in got.headers["Cache-Control"]
    assert jinshui.get(f"/api/v1/admin/photos/{pid + 1000}").status_code == 404
    case = next(c for c in jinshui.get("/api/v1/admin/cases").get_json()["cases"]
                if c["station_id"] == sid)
    assert case["photos"] == [pid]

    hist = jinshui.get(f"/api/v1/admin/stations/{sid}/history").get_json()["entries"]
    entry = next(e for e in hist if e["action"] == "report_photo")
    after = json.loads(entry["after"])
    assert after["photo"] == pid and after["sha256"] == hashlib.sha256(data).hexdigest()
    assert after["width"] == 800 and after["height"] == 1600


def test_a_png_works_and_loses_its_text_chunks(setup, stations):
    app, worker = setup
    r = _send(worker, stations["jinshui"][1], _png_with_text(), name="shot.png",
              ctype="image/png")
    assert r.status_code == 201, r.get_json()
    [(_pid, _case, ctype, data)] = _stored(app.config)
    stored = Image.open(io.BytesIO(bytes(data)))
    assert ctype == "image/png" and stored.format == "PNG"
    assert stored.size == (300, 200) and stored.mode == "RGBA"
    assert stored.getpixel((10, 10)) == (0, 128, 0, 128)
    assert not stored.text and b"secret-gps" not in bytes(data)


def test_an_oversized_photo_is_413_and_nothing_is_kept(staff_cfg, stations):
    cfg = {**staff_cfg, "REPORT_CHALLENGE": False, "REPORT_PHOTO_MAX_BYTES": 20_000}
    app, worker = _app(cfg)
    big = _jpeg_with_gps()
    assert len(big) > 20_000
    r = _send(worker, stations["jinshui"][2], big)
    body = r.get_json()
    assert r.status_code == 413, body
    assert body == {"status": 413, "code": "photo_too_large", "field": "photo",
                    "message": body["message"]}
    # Far past the limit: refused from its Content-Length, before the body is parsed.
    huge = _send(worker, stations["jinshui"][2], big * 10)
    assert huge.status_code == 413 and huge.get_json()["field"] == "photo"
    assert _cases(app.config) == 0 and _stored(app.config) == []


def test_not_an_image_is_400_naming_photo_whatever_its_name(setup, stations):
    app, worker = setup
    sid = stations["jinshui"][3]
    fake = _send(worker, sid, b"just some text, not a picture\n" * 20, name="photo.jpg",
                 ctype="image/jpeg")
    assert fake.status_code == 400 and fake.get_json()["field"] == "photo", fake.get_json()
    broken = _send(worker, sid, b"\xff\xd8\xff\xe0" + b"\x00" * 500)
    assert broken.status_code == 400 and broken.get_json()["field"] == "photo"
    bomb = _send(worker, sid, _png_bomb(), name="a.png", ctype="image/png")
    assert bomb.status_code == 400 and bomb.get_json()["field"] == "photo"
    assert "pixels" in bomb.get_json()["message"]
    gif = _send(worker, sid, b"GIF89a" + b"\x00" * 100, name="a.gif", ctype="image/gif")
    assert gif.status_code == 400 and gif.get_json()["field"] == "photo"
    assert _cases(app.config) == 0 and _stored(app.config) == []
    # A report with no file chosen still goes through, with no photo.
    empty = _send(worker, sid, b"", name="")
    assert empty.status_code == 201 and _stored(app.config) == []
