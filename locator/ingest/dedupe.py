"""Stable ids, duplicate stations, and replacing one source inside the dataset."""

from __future__ import annotations

import difflib
import hashlib
import re
import unicodedata
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy.spatial import cKDTree

from locator.geo import datum
from locator.ingest.report import ImportRefusedError

_NAME_NOISE = re.compile(r"[\s()（）\[\]【】·,，.。、\-_/]|工会|户外劳动者|爱心|驿站|服务站")


def name_key(names: pd.Series) -> pd.Series:
    """Names folded for comparison: width, case, punctuation and generic words removed."""
    uniq = pd.unique(names)
    folded = {u: unicodedata.normalize("NFKC", str(u)).lower() for u in uniq}
    return names.map(folded)


def stable_ids(source: str, kinds: pd.Series, names: pd.Series, lon: np.ndarray,
               lat: np.ndarray) -> np.ndarray:
    """An id per row that a re-import of the same list reproduces.

    It hashes the source, kind and folded name, so a station keeps its id when
    its point is corrected. Only when one list repeats a name is the rounded
    point (about 10 m) added to tell the namesakes apart.
    """
    key = kinds.astype(str) + "\x1f" + name_key(names)
    repeated = key.duplicated(keep=False).to_numpy()
    if repeated.any():
        where = pd.Series(np.char.add(np.char.add(np.round(lon, 4).astype(str), ","),
                                      np.round(lat, 4).astype(str)), index=key.index)
        key = key.where(~repeated, key + "\x1f" + where)
    prefix = source + "\x1f"
    return np.array(["st-" + hashlib.sha1((prefix + k).encode()).hexdigest()[:16]
                     for k in key.to_numpy()], dtype=object)


_DIGITS = re.compile(r"\d+")


def similar(a: str, b: str) -> bool:
    """Names that plausibly denote one station: equal or contained after dropping
    generic words, or close in spelling. Different numbers ("1号" vs "2号") never are."""
    ca, cb = _NAME_NOISE.sub("", a), _NAME_NOISE.sub("", b)
    if _DIGITS.findall(ca) != _DIGITS.findall(cb):
        return False
    if not ca or not cb:
        return a == b
    if ca in cb or cb in ca:
        return True
    return difflib.SequenceMatcher(None, ca, cb).ratio() >= 0.6


_TO_METRIC = Transformer.from_crs("EPSG:4326", datum.METRIC_CRS, always_xy=True)


def near_duplicates(lon: np.ndarray, lat: np.ndarray, kinds: np.ndarray, names: np.ndarray,
                    *, within_m: float) -> np.ndarray:
    """Pairs ``(i, j)``, i < j, of same-kind stations within ``within_m`` metres
    whose names are similar."""
    if len(lon) < 2:
        return np.empty((0, 2), dtype=np.int64)
    x, y = _TO_METRIC.transform(lon, lat)
    pairs = cKDTree(np.column_stack([x, y])).query_pairs(within_m, output_type="ndarray")
    if len(pairs) == 0:
        return np.empty((0, 2), dtype=np.int64)
    pairs = pairs[kinds[pairs[:, 0]] == kinds[pairs[:, 1]]]
    keep = [similar(str(names[i]), str(names[j])) for i, j in pairs]
    out = pairs[np.asarray(keep, dtype=bool)] if len(pairs) else pairs
    return np.sort(out, axis=1)


def near_existing(lon: np.ndarray, lat: np.ndarray, kinds: np.ndarray, names: np.ndarray,
                  other: gpd.GeoDataFrame, *, within_m: float) -> np.ndarray:
    """Pairs ``(i, k)``: new row i looks like station k of ``other`` (another source)."""
    if len(lon) == 0 or len(other) == 0:
        return np.empty((0, 2), dtype=np.int64)
    ox, oy = _TO_METRIC.transform(other.geometry.x.to_numpy(float),
                                  other.geometry.y.to_numpy(float))
    x, y = _TO_METRIC.transform(lon, lat)
    hits = cKDTree(np.column_stack([ox, oy])).query_ball_point(np.column_stack([x, y]),
                                                               within_m)
    pairs = np.array([(i, k) for i, ks in enumerate(hits) for k in ks], dtype=np.int64)
    if len(pairs) == 0:
        return np.empty((0, 2), dtype=np.int64)
    okind = other["kind"].to_numpy(object)
    oname = other["name"].to_numpy(object)
    pairs = pairs[kinds[pairs[:, 0]] == okind[pairs[:, 1]]]
    keep = [similar(str(names[i]), str(oname[k])) for i, k in pairs]
    return pairs[np.asarray(keep, dtype=bool)] if len(pairs) else pairs


@dataclass
class Plan:
    """The dataset after replacing one source, and what changed."""

    frame: gpd.GeoDataFrame
    source: str
    added: int
    updated: int
    removed: int
    unchanged: int
    before: int

    def summary(self) -> dict[str, int | str]:
        return {"source": self.source, "added": self.added, "updated": self.updated,
                "removed": self.removed, "unchanged": self.unchanged,
                "stations_before": self.before, "stations_after": len(self.frame)}


_COMPARE = ("kind", "name", "address", "county_adcode", "opening_hours", "amenities", "phone",
            "operator", "access", "status", "verified_at", "approximate")


def _as_text(f: pd.DataFrame) -> pd.DataFrame:
    """Cells as text with every kind of missing value as ''."""
    return f.astype(object).apply(lambda s: s.map(lambda v: "" if v is None or v != v
                                                  else str(v)))


def replace_source(base: gpd.GeoDataFrame, new: gpd.GeoDataFrame, source: str, *,
                   max_vanish: float, force: bool) -> Plan:
    """Swap ``source``'s stations in ``base`` for ``new``; other sources stay as they are.

    Raises :class:`ImportRefusedError` when more than ``max_vanish`` of the source's
    current stations would disappear and ``force`` is not set.
    """
    mine = (base["source"] == source).to_numpy() if len(base) else np.zeros(0, bool)
    old = base[mine]
    old_ids = pd.Index(old["id"])
    new_ids = pd.Index(new["id"])
    vanish = old_ids.difference(new_ids)
    if len(old) and len(vanish) / len(old) > max_vanish and not force:
        raise ImportRefusedError(
            f"{len(vanish)} of the {len(old)} stations of source {source!r} are not in this "
            f"file ({len(vanish) / len(old):.0%}, more than the {max_vanish:.0%} allowed); "
            "check that this is the full list, then repeat with --force",
            f"来源“{source}”现有 {len(old)} 个站点中有 {len(vanish)} 个不在本文件中"
            f"（{len(vanish) / len(old):.0%}，超过允许的 {max_vanish:.0%}）；请确认是完整名单后"
            "加 --force 重试")
    both = new_ids.intersection(old_ids)
    changed = 0
    if len(both):
        a = old.set_index("id").loc[both]
        b = new.set_index("id").loc[both]
        cols = [c for c in _COMPARE if c in a.columns and c in b.columns]
        differs = (_as_text(a[cols]) != _as_text(b[cols])).any(axis=1).to_numpy()
        moved = (np.hypot(a.geometry.x.to_numpy() - b.geometry.x.to_numpy(),
                          a.geometry.y.to_numpy() - b.geometry.y.to_numpy()) > 1e-7)
        changed = int((differs | moved).sum())
    kept = base[~mine]
    frame = pd.concat([kept, new], ignore_index=True) if len(kept) else new.reset_index(drop=True)
    out = gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326")
    return Plan(out, source, added=len(new_ids.difference(old_ids)), updated=changed,
                removed=len(vanish), unchanged=len(both) - changed, before=len(base))
