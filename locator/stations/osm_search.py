"""Search over the named places, roads and POIs of an OpenStreetMap extract.

A province extract holds hundreds of thousands of names, too many for the
station index's approach (a vectorised pass over every name per keystroke
costs tens of milliseconds at that size). This index answers from two
structures built once, when ``locator names build`` writes the file:

- the entries in the order of their folded names, so exact and prefix
  matches are a binary search and a contiguous run of rows;
- an inverted index of character pairs (CSR arrays: sorted pair codes, their
  start offsets, the rows holding them), so a substring query checks only the
  rows that hold all of its pairs, and a typo query only rows sharing most.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

from locator.geo import osmnames

# Longest folded name kept for the pair index; longer names still match by
# prefix and substring within their first MAX_CHARS characters.
MAX_CHARS = 48
# A prefix or substring check looks at no more rows than this per query.
MAX_ROWS = 4000
MAX_TYPO_ROWS = 300
SUFFIX = ".names.npz"


@dataclass(frozen=True)
class OsmIndex:
    label: np.ndarray     # the name as written
    kind: np.ndarray      # index into osmnames.KINDS
    name: np.ndarray      # folded; the rows are sorted by it
    lon: np.ndarray
    lat: np.ndarray
    pair_key: np.ndarray  # sorted unique character-pair codes
    pair_start: np.ndarray
    pair_row: np.ndarray
    source: str


def _codes(names: np.ndarray) -> np.ndarray:
    """Unicode code points of fixed-width names, one row per name (0 = padding)."""
    fixed = np.asarray(names, dtype=f"<U{MAX_CHARS}")
    return fixed.view(np.uint32).reshape(len(fixed), MAX_CHARS)


def _pair_codes(cp: np.ndarray) -> np.ndarray:
    return (cp[:, :-1].astype(np.int64) << 21) | cp[:, 1:].astype(np.int64)


def pair_index(names: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR inverted index of the character pairs of ``names`` (each row once per pair)."""
    cp = _codes(names)
    codes = _pair_codes(cp)
    valid = (cp[:, :-1] != 0) & (cp[:, 1:] != 0)
    rows = np.nonzero(valid)[0].astype(np.int32)
    keys = codes[valid]
    order = np.lexsort((rows, keys))
    keys, rows = keys[order], rows[order]
    first = np.ones(len(keys), bool)
    first[1:] = (keys[1:] != keys[:-1]) | (rows[1:] != rows[:-1])
    keys, rows = keys[first], rows[first]
    uniq, start = np.unique(keys, return_index=True)
    return uniq, np.append(start, len(keys)).astype(np.int64), rows


def build(table: osmnames.OsmNames) -> OsmIndex:
    """Fold the names and build the sorted list and the pair index."""
    from locator.stations.search import fold

    folded = np.array([fold(str(n)) for n in table.name], dtype=str)
    order = np.argsort(folded, kind="stable")
    folded = folded[order]
    key, start, row = pair_index(folded)
    return OsmIndex(label=np.asarray(table.name, dtype=str)[order],
                    kind=table.kind.astype(np.int8)[order], name=folded,
                    lon=np.asarray(table.lon, float)[order],
                    lat=np.asarray(table.lat, float)[order],
                    pair_key=key, pair_start=start, pair_row=row, source=table.source)


def save(idx: OsmIndex, out_dir: str | Path) -> Path:
    """Write the index as ``names-<source>-<time>.names.npz`` in ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = Path(idx.source).name.split(".")[0] or "osm"
    path = out / f"names-{stem}-{time.strftime('%Y%m%d%H%M%S')}{SUFFIX}"
    tmp = path.with_suffix(".tmp.npz")
    arrays = {f: getattr(idx, f) for f in OsmIndex.__dataclass_fields__ if f != "source"}
    np.savez(tmp, source=np.array(idx.source), **arrays)
    tmp.replace(path)
    return path


# The one index a process serves, with the file version it was read from. A
# province's index is around a hundred megabytes: kept here rather than in the
# shared byte-bounded cache, where it would crowd out everything else or, past
# the budget, be read from disk again on every keystroke.
_LOADED: dict[str, Any] = {}
_LOCK = threading.Lock()


def load(path: str | Path) -> OsmIndex:
    """The index at ``path``, read once per file version (the last one read is kept)."""
    p = Path(path)
    key = (str(p), p.stat().st_mtime)
    with _LOCK:
        if _LOADED.get("key") != key:
            with np.load(p, allow_pickle=False) as z:
                fields = {f: z[f] for f in OsmIndex.__dataclass_fields__ if f != "source"}
                _LOADED["index"] = OsmIndex(source=str(z["source"]), **fields)
            _LOADED["key"] = key
        got: OsmIndex = _LOADED["index"]
    return got


def latest(folder: str | Path) -> Path | None:
    """The most recently written index in ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    found = sorted(p for p in folder.glob(f"names-*{SUFFIX}"))
    return found[-1] if found else None


def configured(cfg: Any) -> OsmIndex | None:
    """``OSM_NAMES_PATH``, else the latest index built in ``DATA_DIR/osm_names``, if any."""
    explicit = str(cfg.get("OSM_NAMES_PATH", "") or "")
    path = Path(explicit) if explicit else latest(Path(str(cfg.get("DATA_DIR", "var")))
                                                  / "osm_names")
    if path is None or not path.is_file():
        return None
    return load(path)


def _rows_with_pair(idx: OsmIndex, code: int) -> np.ndarray:
    i = int(np.searchsorted(idx.pair_key, code))
    if i >= len(idx.pair_key) or idx.pair_key[i] != code:
        return np.empty(0, np.int32)
    return idx.pair_row[idx.pair_start[i]:idx.pair_start[i + 1]]


def _query_pairs(q: str) -> list[int]:
    cp = [ord(c) for c in q[:MAX_CHARS]]
    return sorted({(a << 21) | b for a, b in pairwise(cp)})


def scores(idx: OsmIndex, q: str, *, want: int, tiers: dict[str, float]
           ) -> tuple[np.ndarray, np.ndarray]:
    """Rows matching the folded query ``q`` and their scores, on the station index's scale.

    ``tiers`` gives the scores of ``exact``, ``prefix``, ``substring`` and
    ``fuzzy`` matches; typos are tried only when fewer than ``want`` rows
    matched otherwise (the caller counts its own matches into ``want``).
    """
    lo = int(np.searchsorted(idx.name, q, side="left"))
    hi = int(np.searchsorted(idx.name, q + "\U0010ffff", side="left"))
    pre = np.arange(lo, min(hi, lo + MAX_ROWS))
    plen = np.char.str_len(idx.name[pre])
    pre_s = np.where(plen == len(q), tiers["exact"], tiers["prefix"] - plen * 0.01)
    rows, s = [pre], [pre_s]
    pairs = _query_pairs(q)
    lists = sorted((_rows_with_pair(idx, c) for c in pairs), key=len)
    if pairs and all(len(r) for r in lists):
        cand = lists[0]
        for other in lists[1:]:
            if len(cand) <= 64:
                break  # few enough to check directly
            cand = np.intersect1d(cand, other, assume_unique=True)
        cand = cand[:MAX_ROWS]
        pos = np.char.find(idx.name[cand], q)
        sub = (pos > 0)
        cand, pos = cand[sub], pos[sub]
        rows.append(cand)
        s.append(tiers["substring"] - np.minimum(pos, 9) * 0.5
                 - np.char.str_len(idx.name[cand]) * 0.01)
    found = sum(len(r) for r in rows)
    if found < want and len(q) >= 3 and lists:
        typos = 1 if len(q) <= 5 else 2
        cand, counts = np.unique(np.concatenate(lists), return_counts=True)
        keep = counts >= max(1, len(q) - 1 - 2 * typos)
        # The rows sharing most pairs first; the string comparison sees only MAX_TYPO_ROWS.
        cand = cand[keep][np.argsort(-counts[keep], kind="stable")][:MAX_TYPO_ROWS]
        cand = np.setdiff1d(cand, np.concatenate(rows), assume_unique=False)
        if len(cand):
            cutoff = 100.0 * (1.0 - typos / len(q)) - 0.5
            fz = process.cdist([q], idx.name[cand].tolist(), scorer=fuzz.partial_ratio,
                               score_cutoff=cutoff, workers=1)[0]
            ok = fz > 0
            rows.append(cand[ok])
            s.append(tiers["fuzzy"] - (100.0 - fz[ok]) * 0.1)
    return np.concatenate(rows).astype(np.int64), np.concatenate(s).astype(float)
