"""The station dataset: loaded once, held immutable, swapped atomically.

A :class:`Dataset` bundles the table, the per-row arrays that queries filter on,
and the k-NN index. The web app holds a :class:`Store` whose ``current``
reference is replaced in one assignment, so a request that already took the
old dataset finishes on it while new requests see the new one.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from locator.domain import schema
from locator.errors import not_found
from locator.geo import datum
from locator.stations import navigation
from locator.stations.index import NearestIndex

LAYER = "stations"
STATUS_INDEX = {code: i for i, code in enumerate(schema.STATUS_CODES)}
OPEN = STATUS_INDEX["open"]
CLOSED = STATUS_INDEX["closed"]
TEMP_CLOSED = STATUS_INDEX["temporarily_closed"]


def file_version(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:12]


def normalise(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Bring a station table to the schema's columns and types, WGS-84 points."""
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    out = gdf.copy()
    defaults: dict[str, Any] = {"address": None, "county_adcode": None, "county": None,
                                "city": None, "opening_hours": None, "amenities": "",
                                "phone": None, "operator": None, "access": "public",
                                "status": "open", "verified_at": None, "source": None,
                                "demo": False, "approximate": False}
    for col, default in defaults.items():
        if col not in out.columns:
            out[col] = default
    out["id"] = out["id"].astype(str)
    out["county_adcode"] = out["county_adcode"].map(
        lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(int(v))
        if not isinstance(v, str) else v)
    out["amenities"] = out["amenities"].map(lambda v: ";".join(schema.split_amenities(v)))
    out["opening_hours"] = out["opening_hours"].map(
        lambda v: v if isinstance(v, str) and v.strip() else None)
    out["demo"] = out["demo"].fillna(False).astype(bool)
    out["approximate"] = out["approximate"].fillna(False).astype(bool)
    cols = [c for c in schema.FIELDS if c in out.columns]
    return gpd.GeoDataFrame(out[cols], geometry=out.geometry, crs="EPSG:4326")


@dataclass
class Dataset:
    """An immutable, query-ready snapshot of all stations."""

    frame: gpd.GeoDataFrame
    version: str
    path: Path | None = None
    lon: np.ndarray = field(init=False)
    lat: np.ndarray = field(init=False)
    kind: np.ndarray = field(init=False)
    amenities: np.ndarray = field(init=False)
    status: np.ndarray = field(init=False)
    hours_code: np.ndarray = field(init=False)
    hours_values: list[str | None] = field(init=False)
    index: NearestIndex = field(init=False)
    index_with_temporary: NearestIndex = field(init=False)
    demo: bool = field(init=False)
    records: list[dict[str, Any]] = field(init=False, repr=False)
    hour_state_cache: dict[int, np.ndarray] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        f = self.frame.reset_index(drop=True)
        self.frame = f
        self.lon = f.geometry.x.to_numpy(float)
        self.lat = f.geometry.y.to_numpy(float)
        self.kind = f["kind"].map(schema.KIND_INDEX).fillna(-1).to_numpy(np.int8)
        self.amenities = schema.amenity_masks(f["amenities"])
        self.status = f["status"].map(STATUS_INDEX).fillna(0).to_numpy(np.int8)
        codes, uniques = pd.factorize(f["opening_hours"], use_na_sentinel=True)
        # Code len(uniques) stands for unknown hours so arrays index cleanly.
        self.hours_values = [*uniques.tolist(), None]
        self.hours_code = np.where(codes < 0, len(uniques), codes).astype(np.int32)
        self.demo = bool(f["demo"].any()) if len(f) else False
        # Two indexes so that the common query (open stations only) needs no
        # status filter at all; temporarily closed ones are added on request.
        self.index = NearestIndex(self.lon, self.lat, self.kind,
                                  searchable=self.status == OPEN)
        self.index_with_temporary = NearestIndex(self.lon, self.lat, self.kind,
                                                 searchable=self.status != CLOSED)
        self._row_of = pd.Index(f["id"])
        self.records = _records(f)
        self._links: dict[int, dict[str, dict[str, str]]] = {}
        self._web_links: dict[int, dict[str, dict[str, str]]] = {}
        # Converted once for all rows: per-station scalar conversion would
        # dominate the cost of building navigation links.
        self._gcj = np.column_stack(datum.wgs84_to_gcj02(self.lon, self.lat)) if len(f) else \
            np.empty((0, 2))
        self._bd = np.column_stack(datum.gcj02_to_bd09(self._gcj[:, 0], self._gcj[:, 1])) \
            if len(f) else np.empty((0, 2))
        self.hour_state_cache = {}

    def __len__(self) -> int:
        return len(self.frame)

    def row(self, station_id: str) -> int:
        try:
            pos = self._row_of.get_loc(station_id)
        except KeyError:
            raise not_found(f"no station with id {station_id!r}", "id") from None
        if not isinstance(pos, int | np.integer):
            pos = int(np.flatnonzero(np.asarray(pos))[0])
        return int(pos)

    def record(self, row: int) -> dict[str, Any]:
        """A fresh copy of one station's attributes (amenities as a list)."""
        rec = dict(self.records[row])
        rec["amenities"] = list(rec["amenities"])
        return rec

    def links(self, row: int, *, app: bool = True) -> dict[str, dict[str, str]]:
        """Navigation links for a row, built on first use and kept.

        ``web`` links work everywhere, WeChat included, and open the app where
        it is installed; ``app`` adds the services' URI schemes. The other
        variants :func:`navigation.links` makes would only lengthen downloads.
        """
        got = self._links.get(row)
        if got is None:
            g, b = self._gcj[row], self._bd[row]
            got = navigation.links(float(self.lon[row]), float(self.lat[row]),
                                   name=str(self.records[row]["name"]),
                                   gcj02=(float(g[0]), float(g[1])),
                                   bd09=(float(b[0]), float(b[1])),
                                   mode=trip_mode(str(self.records[row]["kind"])))
            got = {svc: {"app": v["app"], "web": v["web"]} for svc, v in got.items()}
            self._links[row] = got
            self._web_links[row] = {svc: {"web": v["web"]} for svc, v in got.items()}
        return got if app else self._web_links[row]

    def counts(self) -> dict[str, int]:
        vc = self.frame.loc[self.status != CLOSED, "kind"].value_counts()
        return {k: int(vc.get(k, 0)) for k in schema.KIND_CODES}


def trip_mode(kind: str) -> str:
    """Driver homes are reached by truck or car; every other kind on foot."""
    return "drive" if kind == "driver_home" else "walk"


def _records(f: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """Plain-Python rows, built once so that answering a query touches no pandas."""
    cols = [c for c in schema.FIELDS if c in f.columns]
    plain = pd.DataFrame(f[cols]).astype(object)
    recs = cast(list[dict[str, Any]], plain.where(plain.notna(), None).to_dict("records"))
    for rec in recs:
        rec["amenities"] = tuple(schema.split_amenities(rec.get("amenities")))
        rec["demo"] = bool(rec.get("demo"))
        rec["approximate"] = bool(rec.get("approximate"))
    return recs


def read(path: str | Path) -> Dataset:
    """Load a station GeoPackage (or any vector file GDAL reads) into a Dataset."""
    p = Path(path)
    if not p.is_file():
        msg = f"station dataset not found: {p}"
        raise FileNotFoundError(msg)
    layers = [name for name, _ in pyogrio.list_layers(p)] if p.suffix == ".gpkg" else []
    layer = LAYER if LAYER in layers else None
    gdf = gpd.read_file(p, layer=layer, engine="pyogrio")
    return Dataset(normalise(gdf), file_version(p), p)


def write(gdf: gpd.GeoDataFrame, path: str | Path) -> None:
    """Write a station table as a single-layer GeoPackage."""
    out = normalise(gdf)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    pyogrio.write_dataframe(out, path, layer=LAYER, driver="GPKG")


class Store:
    """Holds the live dataset; ``swap`` replaces it atomically."""

    def __init__(self, dataset: Dataset) -> None:
        self._lock = threading.Lock()
        self._current = dataset

    @property
    def current(self) -> Dataset:
        return self._current

    def swap(self, dataset: Dataset) -> Dataset:
        with self._lock:
            old, self._current = self._current, dataset
        return old
