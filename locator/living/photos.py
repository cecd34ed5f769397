"""Photos on workers' reports: checked by content, re-encoded, stripped of metadata.

A phone photo carries the place it was taken (EXIF GPS), the phone's make and
serial, and a timestamp; a worker who reports a locked station must not hand
those to anyone. So no uploaded byte is ever stored: the image is decoded by
Pillow, turned upright, shrunk to at most :data:`MAX_SIDE` pixels a side and
drawn into a fresh image with no metadata at all, which is what is kept.
The photo is stored in the living database beside its case, so that every
web process (and every machine of a PostgreSQL deployment) can serve it, and
only to officers of the case's union subtree; the public never sees it.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from locator.errors import LocatorError
from locator.living import db, unions
from locator.living.models import AuditEntry, Case, Photo

MAX_SIDE = 1600
# Checked from the header, before any pixel is decoded. JPEGs decode at a reduced
# scale (see ``draft``), so a large camera frame costs little; a PNG decodes whole.
MAX_PIXELS = {"JPEG": 80_000_000, "PNG": 30_000_000}
JPEG_QUALITY = 85
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}
# Room for the other form fields beside the photo in one multipart body.
FORM_MARGIN = 64 * 1024


@dataclass(frozen=True)
class Cleaned:
    """A re-encoded photo: the only form in which an upload is kept."""

    data: bytes
    content_type: str
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def bad_photo(message: str) -> LocatorError:
    return LocatorError(400, "invalid_parameter", message, "photo")


def too_large(limit: int) -> LocatorError:
    return LocatorError(413, "photo_too_large",
                        f"the photo is larger than {limit // (1024 * 1024)} MB "
                        f"({limit} bytes); send a smaller one", "photo")


def sniff(head: bytes) -> str | None:
    """The format by the file's first bytes, whatever its name or declared type says."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    return None


def clean(raw: bytes) -> Cleaned:
    """Decode a JPEG or PNG, and re-encode it upright, bounded and with no metadata.

    400 naming ``photo`` for anything else: another format, a broken file, or
    one whose header claims more pixels than :data:`MAX_PIXELS` (a
    decompression bomb).
    """
    fmt = sniff(raw[:8])
    if fmt is None:
        raise bad_photo("the photo must be a JPEG or PNG image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw), formats=[fmt]) as im:
                return _reencode(im, fmt)
    except LocatorError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own guard, which may trip while the header is read, before ours.
        raise bad_photo(f"the photo has too many pixels; at most "
                        f"{MAX_PIXELS[fmt] // 1_000_000} million") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise bad_photo(f"the photo could not be read as a {fmt} image "
                        f"({type(exc).__name__})") from None


def _reencode(im: Image.Image, fmt: str) -> Cleaned:
    w, h = im.size
    if w < 1 or h < 1 or w * h > MAX_PIXELS[fmt]:
        raise bad_photo(f"the photo has too many pixels ({w}×{h}); at most "
                        f"{MAX_PIXELS[fmt] // 1_000_000} million")
    scale = min(1.0, MAX_SIDE / max(w, h))
    if fmt == "JPEG":
        # Decode at the smallest of 1/1…1/8 that still covers the target size.
        im.draft("RGB", (math.ceil(w * scale), math.ceil(h * scale)))
    im.load()
    upright = ImageOps.exif_transpose(im)  # the orientation tag goes with the rest
    alpha = fmt == "PNG" and (upright.mode in ("RGBA", "LA", "PA")
                              or "transparency" in upright.info)
    mode = "RGBA" if alpha else "RGB"
    pixels = upright.convert(mode)
    pixels.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    # A new image holds pixels only: no EXIF, GPS, XMP, ICC, comments or text chunks.
    bare = Image.new(mode, pixels.size)
    bare.paste(pixels)
    out = io.BytesIO()
    if fmt == "JPEG":
        bare.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    else:
        bare.save(out, "PNG")
    return Cleaned(out.getvalue(), CONTENT_TYPES[fmt], bare.width, bare.height)


def attach(s: Session, case_id: int, station_id: str, photo: Cleaned) -> int:
    """Store a photo with its case, in the report's own transaction, and audit it."""
    row = Photo(case_id=case_id, content_type=photo.content_type, width=photo.width,
                height=photo.height, size=len(photo.data), sha256=photo.sha256,
                data=photo.data)
    s.add(row)
    s.flush()
    s.add(AuditEntry(actor="worker", action="report_photo", station_id=station_id,
                     before=None, after=json.dumps(
                         {"case": case_id, "photo": row.id, "type": photo.content_type,
                          "width": photo.width, "height": photo.height,
                          "bytes": len(photo.data), "sha256": photo.sha256})))
    return int(row.id)


def ids_by_case(s: Session, case_ids: Sequence[int]) -> dict[int, list[int]]:
    """The photo ids of each of these cases, oldest first, in one query."""
    out: dict[int, list[int]] = {}
    if not case_ids:
        return out
    rows = s.execute(select(Photo.case_id, Photo.id).where(Photo.case_id.in_(case_ids))
                     .order_by(Photo.id)).all()
    for case_id, photo_id in rows:
        out.setdefault(int(case_id), []).append(int(photo_id))
    return out


def fetch(cfg: Mapping[str, Any], photo_id: int, roles: Mapping[str, str]) -> Cleaned:
    """A stored photo for an officer of its case's union subtree; 404 or 403 otherwise."""
    with db.session(cfg) as s:
        row = s.execute(select(Photo.data, Photo.content_type, Photo.width, Photo.height,
                               Case.county_adcode)
                        .join(Case, Case.id == Photo.case_id)
                        .where(Photo.id == photo_id)).first()
        if row is None:
            raise LocatorError(404, "not_found", "no such photo", "id")
        allowed = unions.counties_of(roles, cfg["BOUNDARIES_DIR"])
        if row.county_adcode not in allowed:
            raise LocatorError(403, "forbidden", "this photo belongs to another union's area")
        return Cleaned(bytes(row.data), row.content_type, row.width, row.height)
