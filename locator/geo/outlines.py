"""County outlines as a light GeoJSON base map for when map tiles fail.

Tile servers are blocked or slow on many workers' networks; without a base
map, "tap the map" means nothing on a grey square. Our own county polygons,
simplified to a few hundred kilobytes, give the map enough shape to pick a
place and read where the stations are.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import shapely

from locator import memo
from locator.geo import datum, regions

# About 400 m at Henan's latitude: coarse enough to stay small, fine enough
# that neighbouring counties still meet along their shared borders.
SIMPLIFY_DEG = 0.004


@memo.cached
def county_outlines(boundaries_dir: str | Path, *, crs: str = "wgs84") -> bytes:
    """County outlines as a GeoJSON FeatureCollection (UTF-8 bytes).

    Parameters
    ----------
    boundaries_dir
        Folder holding the county boundary file.
    crs
        Datum of the output coordinates, the datum of the map's tiles.

    Returns
    -------
    bytes
        Serialised GeoJSON with ``county`` and ``city`` properties and
        coordinates rounded to five decimals (about a metre).
    """
    cty = regions.counties(boundaries_dir)
    geoms = shapely.simplify(cty.geometry.to_numpy(), SIMPLIFY_DEG, preserve_topology=True)
    if crs != "wgs84":
        def move(xy: np.ndarray) -> np.ndarray:
            x, y = datum.from_wgs84(xy[:, 0], xy[:, 1], crs)
            return np.column_stack([x, y])

        geoms = shapely.transform(geoms, move)
    geoms = shapely.set_precision(geoms, 1e-5)
    shapes = shapely.to_geojson(geoms).tolist()
    names = zip(cty["county"].tolist(), cty["city"].tolist(), strict=True)
    # The geometries are already serialised; only the envelope is built here.
    props = [json.dumps({"county": c, "city": p}, ensure_ascii=False) for c, p in names]
    feats = [f'{{"type":"Feature","properties":{pr},"geometry":{g}}}'
             for pr, g in zip(props, shapes, strict=True)]
    return ('{"type":"FeatureCollection","features":[' + ",".join(feats) + "]}").encode()
