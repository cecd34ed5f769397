"""Checks a version passes before it may become (or stay) live.

A version is usable when it opens, has the station layer with the schema's
required columns, and holds the number of rows its metadata promises. These
checks read only the file's header and counts, never its rows, so running them
at start-up, on reload and before a rollback costs milliseconds.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pyogrio

from locator.errors import LocatorError
from locator.stations import dataset

log = logging.getLogger(__name__)
REQUIRED = ("id", "name", "kind", "status")


class BadVersionError(LocatorError):
    """A stored version that cannot be served."""

    def __init__(self, name: str, why: str) -> None:
        super().__init__(500, "bad_version", f"version {name} cannot be served: {why}",
                         "version")
        self.name = name
        self.why = why


def check_gpkg(path: Path, *, expect: int | None = None) -> int:
    """Open ``path``'s station layer, check its columns and row count; return the count."""
    try:
        layers = [n for n, _ in pyogrio.list_layers(path)]
        layer = dataset.LAYER if dataset.LAYER in layers else None
        info = pyogrio.read_info(path, layer=layer, force_feature_count=True)
    except Exception as exc:  # any GDAL failure means the file is unusable
        raise BadVersionError(path.stem, f"{type(exc).__name__}: {exc}") from None
    missing = [c for c in REQUIRED if c not in set(info["fields"])]
    if missing:
        raise BadVersionError(path.stem, f"missing columns {', '.join(missing)}")
    count = int(info["features"])
    if expect is not None and count != expect:
        raise BadVersionError(path.stem, f"holds {count} rows, its metadata says {expect}")
    return count


def usable(path: Path, meta: dict[str, Any]) -> bool:
    """True when :func:`check_gpkg` passes against the metadata's row count."""
    try:
        stations = meta.get("stations")
        check_gpkg(path, expect=int(stations) if stations is not None else None)
    except BadVersionError as exc:
        log.warning("skipping version %s: %s", path.stem, exc.why)
        return False
    return True
