"""Forgiving place search: station names and addresses, county and city names,
and, when an OpenStreetMap names index is configured, its places, roads and POIs
(:mod:`locator.stations.osm_search`).

Workers type on small keyboards, in traditional or simplified characters, in
full-width or half-width forms, sometimes only the pinyin initials of a place
("zz" for 郑州), and with typos. Every searchable text is folded once, when
the index is built, into the same normal form the query is folded into; the
query then runs as a few vectorised passes over a numpy array of strings.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rapidfuzz import fuzz, process

from locator.geo import regions
from locator.stations.dataset import CLOSED, Dataset

if TYPE_CHECKING:
    from locator.stations.osm_search import OsmIndex

MAX_QUERY_CHARS = 64
# Entry types, in the order they win ties: a place name typed in full is more
# likely meant as the place than as a station named after it.
CITY, COUNTY, STATION = 0, 1, 2
# OpenStreetMap entries follow ours in ties: osm_place, osm_road, osm_poi.
OSM_FIRST = 3
TYPE_NAMES = ("city", "county", "station", "osm_place", "osm_road", "osm_poi")
OSM_CONTEXT = "OpenStreetMap"

# Scores per way of matching; the largest one of an entry counts.
_EXACT, _PREFIX, _SUBSTRING, _INITIALS, _ADDRESS, _FUZZY = 100.0, 90.0, 80.0, 75.0, 60.0, 50.0


def fold(text: str) -> str:
    """Fold ``text`` for matching: NFKC width folding, simplified characters, lower case."""
    # zhconv and pypinyin load their dictionaries (about a second) on the
    # first search, not at every worker's start-up.
    import zhconv

    text = unicodedata.normalize("NFKC", text)
    return zhconv.convert(text, "zh-cn").lower().replace(" ", "")


def initials(text: str) -> str:
    """Pinyin initials of the Chinese characters in ``text`` (郑州市 -> zzs)."""
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(text, style=Style.FIRST_LETTER, errors="ignore")).lower()


@dataclass(frozen=True)
class SearchIndex:
    """Folded texts of every searchable entry, aligned arrays."""

    label: np.ndarray       # what the user sees
    kind: np.ndarray        # CITY, COUNTY or STATION
    name: np.ndarray        # folded name
    address: np.ndarray     # folded address ("" for places)
    initials: np.ndarray    # pinyin initials of place names ("" for stations)
    lon: np.ndarray
    lat: np.ndarray
    ref: np.ndarray         # station id, or adcode for a place
    context: np.ndarray     # city of a county, county of a station
    bigrams: dict[str, np.ndarray]  # character pair -> entries whose name holds it


def _bigram_index(names: list[str]) -> dict[str, np.ndarray]:
    # Built once per dataset; it narrows the typo pass to a few hundred
    # candidates instead of scoring every name on every keystroke.
    pairs: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        for bg in {n[j:j + 2] for j in range(len(n) - 1)}:
            pairs.setdefault(bg, []).append(i)
    return {k: np.asarray(v, dtype=np.int64) for k, v in pairs.items()}


def _place_initials(names: list[str]) -> list[str]:
    # Both with and without the 市/县/区 suffix: "zz" and "zzs" both find 郑州市.
    out = []
    for n in names:
        full = initials(n)
        out.append(full[:-1] if len(full) > 2 and n[-1:] in "市县区" else full)
    return out


def build_index(ds: Dataset, boundaries_dir: str | Path) -> SearchIndex:
    """Fold the dataset's open and temporarily closed stations and Henan's places."""
    cty = regions.counties(boundaries_dir)
    cities = regions.cities(boundaries_dir)
    # A city's label point: the mean of its counties' label points.
    cpos = cty.groupby("city_adcode")[["label_lon", "label_lat"]].mean()
    cities = cities.join(cpos, on="city_adcode")
    # Permanently closed stations are never offered.
    keep = np.flatnonzero(ds.status != CLOSED)
    f = ds.frame.iloc[keep]
    st_names = f["name"].fillna("").astype(str).tolist()
    st_addr = f["address"].fillna("").astype(str).tolist()
    county_names = cty["county"].tolist()
    city_names = cities["city"].tolist()
    labels = city_names + county_names + st_names
    n_city, n_county, n_st = len(city_names), len(county_names), len(st_names)
    folded = [fold(t) for t in labels]
    return SearchIndex(
        bigrams=_bigram_index(folded),
        label=np.array(labels, dtype=object),
        kind=np.repeat(np.array([CITY, COUNTY, STATION], np.int8), [n_city, n_county, n_st]),
        name=np.array(folded, dtype=str),
        address=np.array([""] * (n_city + n_county) + [fold(t) for t in st_addr], dtype=str),
        initials=np.array(_place_initials(city_names + county_names) + [""] * n_st, dtype=str),
        lon=np.concatenate([cities["label_lon"].to_numpy(float), cty["label_lon"].to_numpy(float),
                            ds.lon[keep]]),
        lat=np.concatenate([cities["label_lat"].to_numpy(float), cty["label_lat"].to_numpy(float),
                            ds.lat[keep]]),
        ref=np.array(cities["city_adcode"].tolist() + cty["county_adcode"].tolist()
                     + f["id"].astype(str).tolist(), dtype=object),
        context=np.array(["河南省"] * n_city + cty["city"].tolist()
                         + f["county"].fillna("").astype(str).tolist(), dtype=object),
    )


def index_for(ds: Dataset, boundaries_dir: str | Path) -> SearchIndex:
    """The search index of ``ds``, built on first use and kept while ``ds`` lives.

    It is kept on the dataset itself, so a replaced version's index goes with it.
    """
    key = f"search.index:{boundaries_dir}"
    got = ds.cache.get(key)
    if got is None:
        got = ds.cache[key] = build_index(ds, boundaries_dir)
    return got


def _typo_candidates(idx: SearchIndex, q: str, *, min_shared: int) -> np.ndarray:
    """Entries sharing at least ``min_shared`` character pairs with ``q``."""
    lists = [idx.bigrams[b] for b in {q[j:j + 2] for j in range(len(q) - 1)} if b in idx.bigrams]
    if not lists:
        return np.empty(0, dtype=np.int64)
    rows, counts = np.unique(np.concatenate(lists), return_counts=True)
    return rows[counts >= min_shared]


def scores(idx: SearchIndex, q: str) -> np.ndarray:
    """Score of every entry for the folded query ``q`` (0 = no match)."""
    name_pos = np.char.find(idx.name, q)
    s = np.where(name_pos == 0, _PREFIX, np.where(name_pos > 0, _SUBSTRING, 0.0))
    # Earlier and tighter matches rank higher within a tier.
    s = np.where(name_pos >= 0, s - np.minimum(name_pos, 9) * 0.5
                 - np.char.str_len(idx.name) * 0.01, s)
    s = np.where(idx.name == q, _EXACT, s)
    if q.isascii() and q.isalpha():
        init = np.char.startswith(idx.initials, q) & (np.char.str_len(idx.initials) > 0)
        s = np.maximum(s, np.where(init, _INITIALS - np.char.str_len(idx.initials) * 0.1, 0.0))
    addr = np.char.find(idx.address, q) >= 0
    s = np.maximum(s, np.where(addr, _ADDRESS, 0.0))
    if len(q) >= 3:
        # One typo allowed in 3-5 characters, two in longer queries, measured
        # against the best-matching stretch of each name (partial ratio). A
        # substitution breaks at most two character pairs per typo.
        typos = 1 if len(q) <= 5 else 2
        cand = _typo_candidates(idx, q, min_shared=max(1, len(q) - 1 - 2 * typos))
        cand = cand[s[cand] == 0]
        if len(cand):
            cutoff = 100.0 * (1.0 - typos / len(q)) - 0.5
            fz = process.cdist([q], idx.name[cand].tolist(), scorer=fuzz.partial_ratio,
                               score_cutoff=cutoff, workers=1)[0]
            s[cand] = np.where(fz > 0, _FUZZY - (100.0 - fz) * 0.1, 0.0)
    return s


TIERS = {"exact": _EXACT, "prefix": _PREFIX, "substring": _SUBSTRING, "fuzzy": _FUZZY}


def search(ds: Dataset, raw_q: str, *, boundaries_dir: str | Path,
           limit: int = 10, osm: OsmIndex | None = None) -> list[dict[str, Any]]:
    """Ranked matches for ``raw_q`` as plain dicts (WGS-84 ``lon``/``lat``).

    The caller validates ``raw_q`` (non-empty, at most ``MAX_QUERY_CHARS``).
    ``osm`` adds the names of an OpenStreetMap extract, on the same scale.
    """
    idx = index_for(ds, boundaries_dir)
    q = fold(raw_q)
    if not q:
        return []
    s = scores(idx, q) if len(idx.name) else np.zeros(0)
    hit = np.flatnonzero(s > 0)
    sc, kind = s[hit], idx.kind[hit]
    rows = np.empty(0, np.int64)
    if osm is not None and len(osm.name):
        # Typos in OSM names are looked for only when the exact matches fall short.
        strong = int((sc >= _ADDRESS).sum())
        rows, osc = osm_scores(osm, q, want=limit - strong)
        sc = np.concatenate([sc, osc])
        kind = np.concatenate([kind, osm.kind[rows].astype(np.int8) + OSM_FIRST])
    top = _best(sc, kind, limit)
    out = []
    for i in top.tolist():
        if i < len(hit):
            j = int(hit[i])
            lab, ctx, ref = idx.label[j], idx.context[j], idx.ref[j]
            lon, lat = float(idx.lon[j]), float(idx.lat[j])
        else:
            assert osm is not None  # only OSM rows lie past the station index's hits
            j = int(rows[i - len(hit)])
            lab, ctx, ref = str(osm.label[j]), OSM_CONTEXT, f"osm:{j}"
            lon, lat = float(osm.lon[j]), float(osm.lat[j])
        out.append({"type": TYPE_NAMES[int(kind[i])], "label": lab, "context": ctx, "ref": ref,
                    "lon": round(lon, 6), "lat": round(lat, 6), "score": round(float(sc[i]), 2)})
    return out


def _best(sc: np.ndarray, kind: np.ndarray, limit: int) -> np.ndarray:
    """Positions of the ``limit`` best matches: highest score, then entry type.

    Only the matches scoring at least the ``limit``-th best are sorted, so a
    common query (thousands of addresses in 郑州市) sorts a handful.
    """
    if len(sc) > limit:
        kth = np.partition(-sc, limit - 1)[limit - 1]
        sel = np.flatnonzero(-sc <= kth)
    else:
        sel = np.arange(len(sc))
    return sel[np.lexsort((kind[sel], -sc[sel]))][:limit]


def osm_scores(osm: OsmIndex, q: str, *, want: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``osm`` matching the folded ``q`` and their scores."""
    from locator.stations import osm_search

    return osm_search.scores(osm, q, want=want, tiers=TIERS)

