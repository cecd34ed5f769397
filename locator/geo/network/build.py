"""Build a street graph from an OpenStreetMap ``.osm.pbf`` extract with pyrosm.

pyrosm parses the extract in compiled code and splits every way at its nodes,
so each edge is one straight segment with its geodesic length; we keep the
largest connected component so every snapped point can reach every other.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from locator.errors import LocatorError
from locator.geo.network import graph
from locator.progress import Steps

# pyrosm's names for the network filters.
PYROSM_TYPES = {"walk": "walking", "bike": "cycling", "drive": "driving"}
STEPS = ("read", "edges", "component", "save")


def read_osm(path: str | Path, *, mode: str = "walk", progress: Steps | None = None
             ) -> graph.Graph:
    """The graph of ``mode`` ways in the extract at ``path`` (largest component only)."""
    import pyrosm

    if mode not in graph.MODES:
        raise LocatorError(400, "invalid_parameter",
                           f"mode must be one of {', '.join(graph.MODES)}, got {mode!r}", "mode")
    p = Path(path)
    if not p.is_file():
        raise LocatorError(400, "invalid_parameter", f"OSM extract not found: {p}", "osm")
    say = progress.step if progress else (lambda _s: None)
    say("read")
    osm = pyrosm.OSM(str(p))
    got = osm.get_network(network_type=PYROSM_TYPES[mode], nodes=True)
    if got is None or got[1] is None or not len(got[1]):
        raise LocatorError(400, "invalid_parameter", f"{p.name}: no {mode} ways", "osm")
    nodes, edges = got
    say("edges")
    node_ids = nodes["id"].to_numpy(np.int64)
    order = np.argsort(node_ids)
    sorted_ids = node_ids[order]
    u_osm = edges["u"].to_numpy(np.int64)
    v_osm = edges["v"].to_numpy(np.int64)
    u = order[np.searchsorted(sorted_ids, u_osm).clip(0, len(sorted_ids) - 1)]
    v = order[np.searchsorted(sorted_ids, v_osm).clip(0, len(sorted_ids) - 1)]
    ok = (node_ids[u] == u_osm) & (node_ids[v] == v_osm)
    length = edges["length"].to_numpy(float)
    g = graph.from_edges(nodes["lon"].to_numpy(float), nodes["lat"].to_numpy(float),
                         u[ok], v[ok], length[ok], mode=mode, source=p.name)
    if "name" in edges.columns:
        import pandas as pd

        name = pd.Series(edges["name"].to_numpy(object)[ok]).fillna("").astype(str)
        has = (name != "").to_numpy()
        codes, uniques = pd.factorize(name[has])
        g.name_u, g.name_v = u[ok][has], v[ok][has]
        g.name_code = codes.astype(np.int32)
        g.names = np.asarray(uniques, dtype=str)
    say("component")
    return graph.largest_component(g)


def build(path: str | Path, out_dir: str | Path, *, mode: str = "walk",
          progress: bool = True) -> tuple[graph.Graph, Path]:
    """Read, reduce and save the graph; returns it and the file written."""
    bar = Steps(len(STEPS), f"network {mode}", enabled=progress)
    try:
        g = read_osm(path, mode=mode, progress=bar)
        bar.step("save")
        out = graph.save(g, out_dir)
    finally:
        bar.close()
    return g, out
