"""Named places, roads and points of interest of an OpenStreetMap extract.

Read with pyrosm from the same kind of ``.osm.pbf`` extract the street
network is built from. A road is split into many ways that share its name;
it becomes one entry, at the way midpoint nearest the median of all of them,
which lies on the road. Places and POIs are their node, or a point inside
their outline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from locator.errors import LocatorError

PLACE, ROAD, POI = "place", "road", "poi"
KINDS = (PLACE, ROAD, POI)


@dataclass(frozen=True)
class OsmNames:
    """Aligned arrays: the name as written, its kind (index into KINDS), WGS-84 point."""

    name: np.ndarray
    kind: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    source: str


def _points(gdf: Any) -> tuple[np.ndarray, np.ndarray]:
    pts = gdf.geometry.representative_point()
    return pts.x.to_numpy(float), pts.y.to_numpy(float)


def _named(gdf: Any) -> Any:
    if gdf is None or not len(gdf) or "name" not in gdf.columns:
        return None
    keep = gdf["name"].notna() & (gdf["name"].astype(str).str.strip() != "")
    return gdf[keep & gdf.geometry.notna() & ~gdf.geometry.is_empty]


def read(path: str | Path) -> OsmNames:
    """Every named place, road and POI of the extract at ``path``."""
    import pyrosm

    p = Path(path)
    if not p.is_file():
        raise LocatorError(400, "invalid_parameter", f"OSM extract not found: {p}", "osm")
    osm = pyrosm.OSM(str(p))
    names: list[np.ndarray] = []
    kinds: list[np.ndarray] = []
    lons: list[np.ndarray] = []
    lats: list[np.ndarray] = []

    def add(kind: str, nm: pd.Series, x: np.ndarray, y: np.ndarray) -> None:
        names.append(nm.astype(str).str.strip().to_numpy(object))
        kinds.append(np.full(len(nm), KINDS.index(kind), np.int8))
        lons.append(x)
        lats.append(y)

    # pyrosm leaves every tag outside its filter in a JSON ``tags`` column unless
    # asked: without ``extra_attributes`` no place would have a name.
    places = _named(osm.get_data_by_custom_criteria(
        custom_filter={"place": True}, keep_nodes=True, keep_ways=True, keep_relations=True,
        extra_attributes=["name"]))
    if places is not None and len(places):
        add(PLACE, places["name"], *_points(places))
    roads = _named(osm.get_network(network_type="all"))
    if roads is not None and len(roads):
        import shapely

        # Halfway along each way; degrees are fine for a point that only has to be on it.
        mid = shapely.get_coordinates(shapely.line_interpolate_point(
            roads.geometry.to_numpy(), 0.5, normalized=True))
        frame = pd.DataFrame({"name": roads["name"].astype(str).str.strip().to_numpy(),
                              "x": mid[:, 0], "y": mid[:, 1]})
        # One entry per street name: the segment midpoint nearest the median of them all.
        med = frame.groupby("name")[["x", "y"]].transform("median")
        frame["d"] = (frame["x"] - med["x"]) ** 2 + (frame["y"] - med["y"]) ** 2
        best = frame.loc[frame.groupby("name")["d"].idxmin()]
        add(ROAD, best["name"], best["x"].to_numpy(float), best["y"].to_numpy(float))
    pois = _named(osm.get_pois())
    if pois is not None and len(pois):
        add(POI, pois["name"], *_points(pois))
    if not names:
        raise LocatorError(400, "invalid_parameter", f"{p.name}: no named features", "osm")
    return OsmNames(name=np.concatenate(names), kind=np.concatenate(kinds),
                    lon=np.concatenate(lons), lat=np.concatenate(lats), source=p.name)
