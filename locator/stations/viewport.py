"""Stations for a map viewport: points when few, grid clusters when many."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from locator.geo import datum
from locator.stations import filters
from locator.stations.dataset import Dataset
from locator.stations.nearest import dataset_meta, to_features

VIEW_FIELDS = ("id", "kind", "name", "address", "opening_hours", "opening_hours_text",
               "status", "access", "demo")


def in_view(
    ds: Dataset,
    bbox: tuple[float, float, float, float],
    *,
    crs: str = "wgs84",
    kinds: list[str] | None = None,
    amenity_mask: int = 0,
    open_now: bool = False,
    limit: int = 2000,
    grid: int = 12,
    lang: str = "zh",
    extra: Callable[[np.ndarray], Mapping[str, Sequence[Any]]] | None = None,
) -> dict[str, Any]:
    """Stations inside ``bbox`` (given in ``crs``), with coordinates in ``crs``.

    Over ``limit`` matches, the box is cut into ``grid`` x ``grid`` cells and one
    cluster feature per non-empty cell is returned with its count. ``extra``
    gives more properties of the markers, as columns for the rows it is handed.
    """
    x0, y0, x1, y1 = bbox
    if crs != "wgs84":
        # The box is in the map's datum; widen it slightly since the shift varies.
        (ax, bx), (ay, by) = datum.to_wgs84(np.array([x0, x1]), np.array([y0, y1]), crs)
        pad = 0.01
        x0, y0, x1, y1 = ax - pad, ay - pad, bx + pad, by + pad
    rows = ds.index.within_bbox((x0, y0, x1, y1))
    rows = rows[filters.mask(ds, rows, kinds=kinds, statuses=filters.OPEN_ONLY,
                             amenity_mask=amenity_mask, open_now=open_now)]
    meta = {"numberMatched": len(rows), "coordinates_datum": crs, "dataset": dataset_meta(ds)}
    if len(rows) <= limit:
        # Markers and short lists need only these; a card fetches the rest by id.
        feats = to_features(ds, rows, out_crs=crs, with_links=False, lang=lang,
                            fields=VIEW_FIELDS, extra=extra(rows) if extra else None)
        return {"type": "FeatureCollection", "features": feats,
                "numberReturned": len(feats), "clustered": False, **meta}
    lon, lat = ds.lon[rows], ds.lat[rows]
    if crs != "wgs84":
        lon, lat = datum.from_wgs84(lon, lat, crs)
    bx0, by0, bx1, by1 = bbox
    cx = np.clip(((lon - bx0) / max(bx1 - bx0, 1e-9) * grid).astype(int), 0, grid - 1)
    cy = np.clip(((lat - by0) / max(by1 - by0, 1e-9) * grid).astype(int), 0, grid - 1)
    cell = cy * grid + cx
    uniq, inverse, counts = np.unique(cell, return_inverse=True, return_counts=True)
    mx = np.bincount(inverse, weights=lon) / counts
    my = np.bincount(inverse, weights=lat) / counts
    feats = [{"type": "Feature", "id": f"cluster-{int(c)}",
              "geometry": {"type": "Point", "coordinates": [round(float(a), 6),
                                                            round(float(b), 6)]},
              "properties": {"cluster": True, "count": int(n)}}
             for c, a, b, n in zip(uniq, mx, my, counts, strict=True)]
    return {"type": "FeatureCollection", "features": feats, "numberReturned": len(feats),
            "clustered": True, **meta}
