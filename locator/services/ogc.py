"""OGC API – Features, Part 1: Core, over the station dataset.

Plain functions that build the JSON documents of the standard from a
:class:`~locator.stations.dataset.Dataset`: the landing page, conformance, collections and
GeoJSON item pages in CRS84 (WGS-84 longitude, latitude). The web layer only
parses the request and picks JSON or HTML.

Collections: ``stations`` holds every station; one collection per kind
(``rest_station``, ``driver_home``, ``reading_room``) holds that kind only.
Closed stations stay in the data with ``status = "closed"`` so that a client
syncing incrementally learns about closures.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

import numpy as np

from locator.domain import params, schema
from locator.errors import invalid, not_found
from locator.services import ogc_schema
from locator.stations import filters
from locator.stations.columns import factorize
from locator.stations.dataset import STATUS_INDEX, Dataset
from locator.stations.nearest import dataset_meta

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
DEFAULT_LIMIT = params.OGC_DEFAULT_LIMIT
MAX_LIMIT = params.OGC_MAX_LIMIT
CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
)
GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA_JSON = "application/schema+json"
ITEM_PARAMS = ("f", "bbox", "limit", "offset", "datetime", "kind", "county_adcode", "amenity",
               "status", "modified_since")
_ADCODE = re.compile(r"^\d{6}$")
# More properties for rows, as columns: the feedback flags, which live above this layer.
Extra = Callable[[np.ndarray], Mapping[str, Sequence[Any]]]


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    kind: str | None


COLLECTIONS: dict[str, Collection] = {
    "stations": Collection("stations", "职工服务站点 · All union service stations",
                           "Every station of every kind.", None),
    **{k.code: Collection(k.code, f"{k.zh} · {k.en}", f"Stations of kind {k.code}.", k.code)
       for k in schema.KINDS},
}


@dataclass(frozen=True)
class ItemsQuery:
    """A validated items request."""

    bbox: tuple[float, float, float, float] | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    kinds: tuple[str, ...] = ()
    county_adcodes: tuple[str, ...] = ()
    amenity_mask: int = 0
    statuses: tuple[str, ...] = ()
    modified_since: date | None = None
    interval: tuple[date | None, date | None] | None = None


def collection(cid: str) -> Collection:
    try:
        return COLLECTIONS[cid]
    except KeyError:
        raise not_found(f"no collection {cid!r}; expected one of "
                        f"{', '.join(COLLECTIONS)}", "collectionId") from None


def _link(href: str, rel: str, type_: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": type_, "title": title}


def _self_links(url: str, type_: str) -> list[dict[str, str]]:
    """``self`` in ``type_`` plus the other representation as ``alternate``."""
    json_type = type_ if type_ != HTML else JSON
    return [_link(f"{url}?f=json" if type_ != HTML else f"{url}?f=html", "self", type_,
                  "this document"),
            _link(f"{url}?f=html" if type_ != HTML else f"{url}?f=json", "alternate",
                  HTML if type_ != HTML else json_type,
                  "this document as HTML" if type_ != HTML else "this document as JSON")]


def landing(base: str, *, api_url: str, docs_url: str, html: bool = False) -> dict[str, Any]:
    """The landing page: where the API definition, conformance and data are."""
    return {
        "title": "Locator · 河南职工服务站点 OGC API – Features",
        "description": "Henan trade-union service stations (户外劳动者爱心驿站, 司机之家, "
                       "职工书屋) as GeoJSON features in CRS84.",
        "links": [
            *_self_links(base, HTML if html else JSON),
            _link(api_url, "service-desc", OPENAPI, "the API definition (OpenAPI 3.0)"),
            _link(docs_url, "service-doc", HTML, "the API documentation"),
            _link(f"{base}/conformance?f=json", "conformance", JSON, "conformance classes"),
            _link(f"{base}/collections?f=json", "data", JSON, "the collections"),
        ],
    }


def conformance() -> dict[str, Any]:
    return {"conformsTo": list(CONFORMANCE)}


def collection_rows(ds: Dataset, cid: str) -> np.ndarray:
    col = collection(cid)
    if col.kind is None:
        return np.arange(len(ds))
    return np.flatnonzero(ds.kind == schema.KIND_INDEX[col.kind])


def describe(ds: Dataset, cid: str, base: str, *, html: bool = False) -> dict[str, Any]:
    """One collection's metadata, with its spatial and temporal extent."""
    col = collection(cid)
    rows = collection_rows(ds, cid)
    url = f"{base}/collections/{cid}"
    if len(rows):
        bbox = [round(float(v), 7) for v in (ds.lon[rows].min(), ds.lat[rows].min(),
                                              ds.lon[rows].max(), ds.lat[rows].max())]
    else:
        bbox = [-180.0, -90.0, 180.0, 90.0]
    verified = _verified(ds)[rows]
    known = verified[~np.isnat(verified)]
    interval = ([f"{known.min()}T00:00:00Z", f"{known.max()}T23:59:59Z"] if len(known)
                else [None, None])
    return {
        "id": col.id, "title": col.title, "description": col.description,
        "itemType": "feature",
        "crs": [CRS84], "storageCrs": CRS84,
        "extent": {"spatial": {"bbox": [bbox], "crs": CRS84},
                   "temporal": {"interval": [interval],
                                "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}},
        "links": [
            *_self_links(url, HTML if html else JSON),
            _link(f"{url}/items?f=json", "items", GEOJSON, "the stations as GeoJSON"),
            _link(f"{url}/items?f=html", "items", HTML, "the stations as HTML"),
            _link(f"{url}/schema", ogc_schema.SCHEMA_REL, SCHEMA_JSON, "the items' properties"),
            _link(f"{url}/queryables", ogc_schema.QUERYABLES_REL, SCHEMA_JSON,
                  "the properties items can be filtered on"),
        ],
        "numberOfStations": len(rows),
        "dataset": dataset_meta(ds),
    }


def collections(ds: Dataset, base: str, *, html: bool = False) -> dict[str, Any]:
    return {"links": _self_links(f"{base}/collections", HTML if html else JSON),
            "collections": [describe(ds, cid, base) for cid in COLLECTIONS]}




def _verified(ds: Dataset) -> np.ndarray:
    """``verified_at`` as datetime64[D] (NaT when missing), built once per dataset."""
    return _columns(ds)[0]


def _adcodes(ds: Dataset) -> np.ndarray:
    return _columns(ds)[1]


def _columns(ds: Dataset) -> tuple[np.ndarray, np.ndarray]:
    # Kept on the dataset, so it is freed with it after a swap.
    got = ds.cache.get("ogc.columns")
    if got is None:
        # From the columns, not ds.frame: a mapped snapshot has no frame until
        # something needs all of it.
        day_codes, day_values = factorize(ds.columns["verified_at"])
        days = np.array([*map(_to_day, day_values), np.datetime64("NaT", "D")],
                        dtype="datetime64[D]")[day_codes]
        ad_codes, ad_values = factorize(ds.columns["county_adcode"])
        codes = np.array([*map(str, ad_values), ""], dtype="U6")[ad_codes]
        got = ds.cache["ogc.columns"] = (days, codes)
    return got[0], got[1]


def _modified_since(ds: Dataset, day: date) -> np.ndarray:
    """Rows whose content changed on or after ``day`` (UTC), from ``modified_at``.

    A version published before change stamps existed has none; its rows count as
    modified, since re-sending a station is better than a client missing an edit.
    """
    if ds.modified_at is None:
        return np.ones(len(ds), dtype=bool)
    stamps = ds.modified_at.astype("datetime64[D]")
    return np.isnat(stamps) | (stamps >= np.datetime64(day, "D"))


def _to_day(value: Any) -> np.datetime64:
    try:
        return np.datetime64(date.fromisoformat(str(value)[:10]), "D")
    except (TypeError, ValueError):
        return np.datetime64("NaT", "D")


def select(ds: Dataset, cid: str, q: ItemsQuery) -> np.ndarray:
    """Rows of collection ``cid`` matching ``q``, in dataset order (one vectorised mask)."""
    col = collection(cid)
    kinds = set(q.kinds)
    if col.kind is not None:
        kinds = kinds & {col.kind} if kinds else {col.kind}
        if not kinds:
            return np.empty(0, dtype=np.int64)
    keep = filters.mask(ds, kinds=sorted(kinds), statuses=q.statuses,
                        amenity_mask=q.amenity_mask)
    if q.bbox is not None:
        x0, y0, x1, y1 = q.bbox
        across = (ds.lon >= x0) & (ds.lon <= x1) if x0 <= x1 else (ds.lon >= x0) | (ds.lon <= x1)
        keep &= across & (ds.lat >= y0) & (ds.lat <= y1)
    if q.county_adcodes:
        codes = _adcodes(ds)
        # A city code (ending in 00) stands for every county of that city.
        exact = [c for c in q.county_adcodes if not c.endswith("00")]
        cities = [c[:4] for c in q.county_adcodes if c.endswith("00")]
        hit = np.isin(codes, exact)
        if cities:
            hit |= np.isin(codes.astype("U4"), cities)
        keep &= hit
    if q.modified_since is not None:
        keep &= _modified_since(ds, q.modified_since)
    verified = _verified(ds) if q.interval else None
    if verified is not None and q.interval is not None:
        start, end = q.interval
        ok = ~np.isnat(verified)
        if start is not None:
            ok &= verified >= np.datetime64(start, "D")
        if end is not None:
            ok &= verified <= np.datetime64(end, "D")
        keep &= ok
    return np.flatnonzero(keep)


def features(ds: Dataset, rows: np.ndarray, extra: Extra | None = None) -> list[dict[str, Any]]:
    """GeoJSON features in CRS84; amenities as one ``;``-joined string for GIS tools.

    ``extra`` gives more properties as columns for ``rows`` (the feedback flags).
    """
    out = []
    more = list(extra(rows).items()) if extra else []
    for i, (r, x, y) in enumerate(zip(rows.tolist(), ds.lon[rows].tolist(),
                                      ds.lat[rows].tolist(), strict=True)):
        rec = ds.record(r)
        rec["amenities"] = ";".join(rec["amenities"])
        for name, column in more:
            rec[name] = column[i]
        out.append({"type": "Feature", "id": rec["id"],
                    "geometry": {"type": "Point", "coordinates": [round(x, 7), round(y, 7)]},
                    "properties": rec})
    return out


def items(ds: Dataset, cid: str, q: ItemsQuery, base: str, *, args: list[tuple[str, str]],
          now: datetime | None = None, extra: Extra | None = None) -> dict[str, Any]:
    """One page of features with ``numberMatched``, ``numberReturned`` and paging links.

    ``args`` are the request's query parameters; paging links repeat them with
    a new ``offset``.
    """
    rows = select(ds, cid, q)
    page = rows[q.offset:q.offset + q.limit]
    url = f"{base}/collections/{cid}/items"
    kept = [(k, v) for k, v in args if k not in ("offset", "f", "limit")]

    def href(offset: int, fmt: str) -> str:
        return url + "?" + urlencode([*kept, ("limit", str(q.limit)), ("offset", str(offset)),
                                      ("f", fmt)])

    links = [_link(href(q.offset, "json"), "self", GEOJSON, "this page"),
             _link(href(q.offset, "html"), "alternate", HTML, "this page as HTML"),
             _link(f"{base}/collections/{cid}?f=json", "collection", JSON, "the collection")]
    if q.offset + q.limit < len(rows):
        links.append(_link(href(q.offset + q.limit, "json"), "next", GEOJSON, "next page"))
    if q.offset > 0:
        links.append(_link(href(max(q.offset - q.limit, 0), "json"), "prev", GEOJSON,
                           "previous page"))
    stamp = (now or datetime.now(UTC)).replace(microsecond=0)
    return {"type": "FeatureCollection", "features": features(ds, page, extra),
            "numberMatched": len(rows), "numberReturned": len(page),
            "timeStamp": stamp.isoformat().replace("+00:00", "Z"),
            "links": links, "dataset": dataset_meta(ds)}


def item(ds: Dataset, cid: str, fid: str, base: str, *,
         extra: Extra | None = None) -> dict[str, Any]:
    """One feature of a collection; 404 when absent or of another kind."""
    col = collection(cid)
    row = ds.row(fid)
    if col.kind is not None and int(ds.kind[row]) != schema.KIND_INDEX[col.kind]:
        raise not_found(f"station {fid!r} is not in collection {cid!r}", "featureId")
    feat = features(ds, np.array([row]), extra)[0]
    url = f"{base}/collections/{cid}/items/{feat['id']}"
    feat["links"] = [_link(f"{url}?f=json", "self", GEOJSON, "this station"),
                     _link(f"{url}?f=html", "alternate", HTML, "this station as HTML"),
                     _link(f"{base}/collections/{cid}?f=json", "collection", JSON,
                           "the collection")]
    return feat


# ---------------------------------------------------------------- parameters


def parse_bbox(raw: str) -> tuple[float, float, float, float]:
    """``minlon,minlat,maxlon,maxlat`` (or six numbers with heights, ignored)."""
    parts = raw.split(",")
    if len(parts) == 6:
        parts = [parts[0], parts[1], parts[3], parts[4]]
    if len(parts) != 4:
        raise invalid("bbox", "bbox must have 4 (or 6) numbers: minlon,minlat,maxlon,maxlat")
    try:
        x0, y0, x1, y1 = (float(p) for p in parts)
    except ValueError:
        raise invalid("bbox", f"bbox must be numbers, got {raw!r}") from None
    if not all(np.isfinite([x0, y0, x1, y1])):
        raise invalid("bbox", "bbox must be finite numbers")
    if not (-180 <= x0 <= 180 and -180 <= x1 <= 180 and -90 <= y0 <= 90 and -90 <= y1 <= 90):
        raise invalid("bbox", "bbox must lie within -180..180 longitude, -90..90 latitude")
    # A west edge east of the east edge crosses the antimeridian, as the standard says;
    # the latitudes may come in either order.
    return (x0, min(y0, y1), x1, max(y0, y1))


def parse_day(field: str, raw: str) -> date:
    """An RFC 3339 date or date-time, reduced to its (UTC) date."""
    text = raw.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        stamp = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise invalid(field, f"{field} must be an RFC 3339 date or date-time such as "
                             f"2026-01-31 or 2026-01-31T08:00:00Z, got {raw!r}") from None
    if stamp.tzinfo is not None:
        try:
            stamp = stamp.astimezone(UTC)
        except OverflowError:  # an offset that moves the first day of year 1 back
            return date.min
    return stamp.date()


def parse_datetime(raw: str) -> tuple[date | None, date | None]:
    """``instant``, ``start/end``, ``../end`` or ``start/..`` over ``verified_at``."""
    if "/" not in raw:
        day = parse_day("datetime", raw)
        return (day, day)
    start_s, _, end_s = raw.partition("/")
    # Both ends open restricts nothing; a start after the end matches no station.
    start = None if start_s in ("", "..") else parse_day("datetime", start_s)
    end = None if end_s in ("", "..") else parse_day("datetime", end_s)
    return (start, end)


def parse_adcodes(values: list[str]) -> tuple[str, ...]:
    codes = [p.strip() for v in values for p in v.split(",") if p.strip()]
    for c in codes:
        if not _ADCODE.match(c):
            raise invalid("county_adcode", f"county_adcode must be 6 digits, got {c!r}")
    return tuple(dict.fromkeys(codes))


def parse_statuses(values: list[str]) -> tuple[str, ...]:
    codes = [p.strip() for v in values for p in v.split(",") if p.strip()]
    for c in codes:
        if c not in STATUS_INDEX:
            raise invalid("status", f"status must be one of {', '.join(STATUS_INDEX)}, "
                                    f"got {c!r}")
    return tuple(dict.fromkeys(codes))
