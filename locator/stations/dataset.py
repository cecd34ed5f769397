"""The station dataset: loaded once, held immutable, swapped atomically.

A :class:`Dataset` bundles the table, the per-row arrays that queries filter on,
and the k-NN index. The web app holds a :class:`Store` whose ``current``
reference is replaced in one assignment, so a request that already took the
old dataset finishes on it while new requests see the new one.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio

from locator.domain import schema
from locator.errors import not_found
from locator.geo import datum
from locator.stations import navigation, snapshot
from locator.stations.columns import (
    Column,
    any_true,
    columns_of,
    compact,
    frame_of,
    lookup_codes,
    one_chunk,
    scalar,
    take,
    to_arrow,
)
from locator.stations.index import MergedIndex, NearestIndex

LAYER = "stations"
_MAX_LINKS = 20_000
# Answers of up to this many rows read whole records from a cache of _MAX_RECORDS.
_CACHED_ANSWER_ROWS = 64
# Fields whose stored values are turned into others when gathered.
_CONVERTED = frozenset({"amenities", "demo", "approximate"})
_MAX_RECORDS = 20_000
SNAPSHOTS = ".snapshots"
# Per-row arrays a served snapshot carries as they are.
_ARRAYS = ("lon", "lat", "kind", "amenities", "status", "hours_code")
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


def map_distinct(column: pd.Series, fn: Callable[[Any], Any]) -> pd.Series:
    """``column.map(fn)`` evaluated once per distinct value.

    Missing values (``None``/``NaN``) count as one value. Unhashable cells
    (lists of amenities from an in-memory frame) fall back to a plain map.
    """
    try:
        codes, uniques = pd.factorize(column, use_na_sentinel=False)
    except TypeError:
        return column.map(fn)
    mapped = np.empty(len(uniques), dtype=object)
    mapped[:] = [fn(None if _missing(v) else v) for v in uniques]
    return pd.Series(mapped[codes], index=column.index, dtype=object)


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA


def _adcode_text(v: Any) -> str | None:
    if v is None or isinstance(v, str):
        return v
    return str(int(v))


def normalise(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Bring a station table to the schema's columns and types, WGS-84 points."""
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    out = gdf.copy()
    defaults: dict[str, Any] = {"address": None, "county_adcode": None, "county": None,
                                "city": None, "opening_hours": None, "amenities": "",
                                "phone": None, "operator": None, "access": "public",
                                "status": "open", "verified_at": None, "source": None,
                                "demo": False, "approximate": False, "reopens_on": None,
                                "closed_reason": None}
    for col, default in defaults.items():
        if col not in out.columns:
            out[col] = default
    out["id"] = out["id"].astype(str)
    # Each column holds few distinct values (counties, hour texts, amenity
    # sets), so the per-value rules run once per distinct value, not per row.
    out["county_adcode"] = map_distinct(out["county_adcode"], _adcode_text)
    out["amenities"] = map_distinct(out["amenities"],
                                    lambda v: ";".join(schema.split_amenities(v)))
    out["opening_hours"] = map_distinct(
        out["opening_hours"], lambda v: v if isinstance(v, str) and v.strip() else None)
    out["demo"] = out["demo"].fillna(False).astype(bool)
    out["approximate"] = out["approximate"].fillna(False).astype(bool)
    cols = [c for c in schema.FIELDS if c in out.columns]
    return gpd.GeoDataFrame(out[cols], geometry=out.geometry, crs="EPSG:4326")


def build_trees(lon: np.ndarray, lat: np.ndarray, kind: np.ndarray, status: np.ndarray
                ) -> tuple[Any, Any]:
    """The k-NN trees of the open and of the temporarily closed stations, as
    :meth:`NearestIndex.state` gives them (see :class:`MergedIndex`).

    Built side by side: SciPy releases the GIL while it builds a tree.
    """
    with ThreadPoolExecutor(1) as pool:
        temporary = pool.submit(NearestIndex, lon, lat, kind, searchable=status == TEMP_CLOSED)
        open_only = NearestIndex(lon, lat, kind, searchable=status == OPEN)
        return open_only.state(), temporary.result().state()


class Dataset:
    """An immutable, query-ready snapshot of all stations.

    Built from a normalised frame (``Dataset(frame, version, path)``), or by
    :meth:`from_snapshot` from a served snapshot without any frame at all:
    queries need only the arrays, the columns and the trees, and the frame is
    rebuilt from the columns the first time a download or page asks for it.
    """

    lon: np.ndarray
    lat: np.ndarray
    kind: np.ndarray
    amenities: np.ndarray
    status: np.ndarray
    hours_code: np.ndarray
    hours_values: list[str | None]
    index: NearestIndex
    index_temporary: NearestIndex
    index_with_temporary: MergedIndex
    demo: bool
    columns: dict[str, Column]
    # When each row's content last changed (datetime64, UTC); set by the storage layer.
    modified_at: np.ndarray | None
    hour_state_cache: dict[int, np.ndarray]
    # Derived arrays other modules build on first use; they die with the dataset.
    cache: dict[str, Any]
    _frame: gpd.GeoDataFrame | None

    def __init__(self, frame: gpd.GeoDataFrame, version: str, path: Path | None = None,
                 modified_at: np.ndarray | None = None) -> None:
        f = frame.reset_index(drop=True)
        lon = f.geometry.x.to_numpy(float)
        lat = f.geometry.y.to_numpy(float)
        codes, uniques = pd.factorize(f["opening_hours"], use_na_sentinel=True)
        # Code len(uniques) stands for unknown hours so arrays index cleanly.
        arrays = {"lon": lon, "lat": lat,
                  "kind": lookup_codes(f["kind"], schema.KIND_INDEX, -1),
                  "amenities": schema.amenity_masks(f["amenities"]),
                  "status": lookup_codes(f["status"], STATUS_INDEX, 0),
                  "hours_code": np.where(codes < 0, len(uniques), codes).astype(np.int32)}
        # One array per field, missing values as None: a request builds only
        # the properties it returns, from these, instead of the dataset
        # holding a dict per station (28 s and about 1.5 GB at 1M stations).
        self._setup(arrays, columns_of(f), [*uniques.tolist(), None], version, path,
                    modified_at, trees=None)
        self._frame = f

    @classmethod
    def from_snapshot(cls, contents: snapshot.Contents, *, path: Path | None = None) -> Dataset:
        """The dataset a served snapshot holds, its arrays and text memory-mapped."""
        ds = cls.__new__(cls)
        # Plain ndarray views of the mapped files: the same pages, but indexing an
        # np.memmap goes through Python-level __getitem__ and __array_finalize__,
        # a measurable share of a nearest answer. Each view keeps its map alive.
        arrays = {k: v.view(np.ndarray) for k, v in contents.arrays.items()}
        modified = arrays.pop("modified_at", None)
        # One record batch, so each column is one chunk: taking it keeps the
        # memory map (combine_chunks would copy every string into the heap).
        cols = {name: one_chunk(contents.columns.column(name))
                for name in contents.columns.column_names}
        ds._setup(arrays, cols, list(contents.meta["hours_values"]),
                  str(contents.meta["version"]), path, modified, trees=contents.trees)
        return ds

    def snapshot_contents(self) -> snapshot.Contents:
        """What :func:`snapshot.write` needs to save this dataset."""
        arrays = {k: getattr(self, k) for k in _ARRAYS}
        arrays.update(gcj=self._gcj, bd=self._bd)
        if self.modified_at is not None:
            arrays["modified_at"] = np.asarray(self.modified_at, dtype="datetime64[us]")
        table = pa.table({k: compact(to_arrow(v)) for k, v in self.columns.items()})
        trees = (self.index.state(), self.index_temporary.state())
        meta = {"version": self.version, "hours_values": self.hours_values}
        return snapshot.Contents(arrays, table, trees, meta)

    def _setup(self, arrays: dict[str, np.ndarray], columns: dict[str, Column],
               hours_values: list[str | None], version: str, path: Path | None,
               modified_at: np.ndarray | None, *, trees: Any) -> None:
        self.version = version
        self.path = path
        self.modified_at = modified_at
        for k in _ARRAYS:
            setattr(self, k, arrays[k])
        self.hours_values = hours_values
        self.columns = columns
        demo = columns.get("demo")
        self.demo = bool(len(demo) and any_true(demo)) if demo is not None else False
        if trees is None:
            trees = build_trees(self.lon, self.lat, self.kind, self.status)
        self.index = NearestIndex.restore(self.lon, self.lat, self.kind, trees[0])
        self.index_temporary = NearestIndex.restore(self.lon, self.lat, self.kind, trees[1])
        self.index_with_temporary = MergedIndex(self.index, self.index_temporary)
        n = len(self.lon)
        if "gcj" in arrays:
            self._gcj, self._bd = arrays["gcj"], arrays["bd"]
        else:
            # Converted once for all rows: per-station scalar conversion would
            # dominate the cost of building navigation links.
            self._gcj = np.column_stack(datum.wgs84_to_gcj02(self.lon, self.lat)) if n else \
                np.empty((0, 2))
            self._bd = np.column_stack(datum.gcj02_to_bd09(self._gcj[:, 0], self._gcj[:, 1])) \
                if n else np.empty((0, 2))
        self._frame = None
        self._row_of: pd.Index | None = None
        self._lazy = threading.Lock()
        self._records: dict[int, dict[str, Any]] = {}
        self._links: dict[int, dict[str, dict[str, str]]] = {}
        self._web_links: dict[int, dict[str, dict[str, str]]] = {}
        self.hour_state_cache = {}
        self.cache = {}

    @property
    def frame(self) -> gpd.GeoDataFrame:
        """The whole table as a GeoDataFrame (rebuilt from the columns on first use)."""
        f = self._frame
        if f is None:
            with self._lazy:
                if self._frame is None:
                    self._frame = frame_of(self.columns, self.lon, self.lat)
                f = self._frame
        return f

    def __len__(self) -> int:
        return len(self.lon)

    def row(self, station_id: str) -> int:
        ids = self._row_of
        if ids is None:
            ids = self._row_of = pd.Index(np.asarray(take(self.columns["id"], None),
                                                     dtype=object))
        try:
            pos = ids.get_loc(station_id)
        except KeyError:
            raise not_found(f"no station with id {station_id!r}", "id") from None
        if not isinstance(pos, int | np.integer):
            pos = int(np.flatnonzero(np.asarray(pos))[0])
        return int(pos)

    def record(self, row: int) -> dict[str, Any]:
        """A fresh dict of one station's attributes (amenities as a list)."""
        return self.values([row], self.columns)[0]

    def values(self, rows: Sequence[int] | np.ndarray,
               fields: Iterable[str]) -> list[dict[str, Any]]:
        """The named attributes of ``rows``, one fresh dict each (unknown names skipped).

        A short list (a nearest answer, a card) comes from a bounded cache of
        whole records: nearby workers ask about the same stations again and
        again, and gathering a dozen text columns costs more than the search.
        Longer lists are gathered a column at a time, one take per field.
        """
        idx = np.asarray(rows, dtype=np.int64)
        names = [k for k in fields if k in self.columns]
        if len(idx) > _CACHED_ANSWER_ROWS:
            return self._gather(idx, names)
        wanted = idx.tolist()
        found = {r: self._records.get(r) for r in wanted}
        missing = [r for r, rec in found.items() if rec is None]
        if missing:
            if len(self._records) + len(missing) > _MAX_RECORDS:
                self._records.clear()  # bounded: paging clients must not grow it forever
            for r, rec in zip(missing, self._gather(np.asarray(missing, dtype=np.int64),
                                                    list(self.columns)), strict=True):
                found[r] = self._records[r] = rec
        out = []
        for r in wanted:
            whole = found[r]
            assert whole is not None
            got = {k: whole[k] for k in names}
            if "amenities" in got:
                got["amenities"] = list(got["amenities"])  # callers may change theirs
            out.append(got)
        return out

    def fields(self, row: int, names: Sequence[str]) -> dict[str, Any]:
        """A few named attributes of one row, gathered on their own (unknown names skipped).

        For a write that needs a station's id, name and county: the cache of
        :meth:`values` gathers the whole record, which under a burst of reports on
        stations nobody looked at cost more than filing the report.
        """
        plain = [k for k in names if k in self.columns]
        if any(k in _CONVERTED for k in plain):
            return self._gather(np.asarray([row], dtype=np.int64), plain)[0]
        # One element each: a take builds an index array and a list per column.
        return {k: scalar(self.columns[k], row) for k in plain}

    def _gather(self, idx: np.ndarray, names: list[str]) -> list[dict[str, Any]]:
        cols = {k: take(self.columns[k], idx) for k in names}
        if "amenities" in cols:
            cols["amenities"] = [schema.split_amenities(v) for v in cols["amenities"]]
        for k in ("demo", "approximate"):
            if k in cols:
                cols[k] = [bool(v) for v in cols[k]]
        return [dict(zip(names, vals, strict=True))
                for vals in zip(*(cols[k] for k in names), strict=True)] if names else \
            [{} for _ in range(len(idx))]

    def links(self, row: int, *, app: bool = True) -> dict[str, dict[str, str]]:
        """Navigation links for a row, built on first use and kept.

        ``web`` links work everywhere, WeChat included, and open the app where
        it is installed; ``app`` adds the services' URI schemes. The other
        variants :func:`navigation.links` makes would only lengthen downloads.
        """
        got = self._links.get(row)
        if got is None:
            g, b = self._gcj[row], self._bd[row]
            rec = self.values([row], ["name", "kind"])[0]
            got = navigation.links(float(self.lon[row]), float(self.lat[row]),
                                   name=str(rec["name"]),
                                   gcj02=(float(g[0]), float(g[1])),
                                   bd09=(float(b[0]), float(b[1])),
                                   mode=trip_mode(str(rec["kind"])))
            got = {svc: {"app": v["app"], "web": v["web"]} for svc, v in got.items()}
            if len(self._links) >= _MAX_LINKS:
                # Bounded: a client paging through every station must not
                # grow this to a few KB per station for the dataset's life.
                self._links.clear()
                self._web_links.clear()
            self._links[row] = got
            self._web_links[row] = {svc: {"web": v["web"]} for svc, v in got.items()}
        return got if app else self._web_links[row]

    def counts(self) -> dict[str, int]:
        kinds = self.kind[(self.status != CLOSED) & (self.kind >= 0)]
        per = np.bincount(kinds.astype(np.int64), minlength=len(schema.KIND_CODES))
        return {k: int(per[schema.KIND_INDEX[k]]) for k in schema.KIND_CODES}


def trip_mode(kind: str) -> str:
    """Driver homes are reached by truck or car; every other kind on foot."""
    return "drive" if kind == "driver_home" else "walk"


def read(path: str | Path) -> Dataset:
    """Load a station GeoPackage (or any vector file GDAL reads) into a Dataset."""
    p = Path(path)
    if not p.is_file():
        msg = f"station dataset not found: {p}"
        raise FileNotFoundError(msg)
    layers = [name for name, _ in pyogrio.list_layers(p)] if p.suffix == ".gpkg" else []
    layer = LAYER if LAYER in layers else None
    frame = normalise(gpd.read_file(p, layer=layer, engine="pyogrio", use_arrow=True))
    return Dataset(frame, file_version(p), p)


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
