"""Build a street graph from an OpenStreetMap ``.osm.pbf`` extract with pyosmium.

pyosmium decodes the extract in compiled code and keeps node locations in its
own index, so each way arrives once with its tags, node ids and coordinates.
Python touches a way only to test its tags and copy its node list; everything
after that is numpy: consecutive nodes of a way become edges with WGS-84
geodesic lengths, ways join at the nodes they share, and the largest connected
component is kept so that every snapped point can reach every other.

A province extract holds millions of nodes. Building GeoDataFrames of every
edge (as pyrosm does) took over ten minutes and 7 GB for a synthetic
five-million-node grid; streaming ways into flat arrays needs a small fraction
of both.

Which ways a mode uses follows pyrosm's network filters (written after
OSMnx's), read from pyrosm's configuration so that the two never disagree.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from locator.errors import LocatorError
from locator.geo.network import graph
from locator.progress import Steps

# pyrosm's names for the network filters.
PYROSM_TYPES = {"walk": "walking", "bike": "cycling", "drive": "driving"}
STEPS = ("read", "edges", "component", "save")


def way_filter(mode: str) -> Callable[[dict[str, str]], bool]:
    """Whether a way with these tags belongs to ``mode``'s network (pyrosm's rules)."""
    from pyrosm.config.osm_filters import get_osm_filter

    rules = get_osm_filter(PYROSM_TYPES[mode])
    excluded = {k: v for k, v in rules.items() if hasattr(v, "__contains__")}
    access = [v for v in rules.values() if hasattr(v, "closes")]

    def keep(tags: dict[str, str]) -> bool:
        if "highway" not in tags:
            return False
        for key, values in excluded.items():
            value = tags.get(key)
            if value is not None and value in values:
                return False
        return not any(rule.closes(tags) for rule in access)

    return keep


@dataclass
class _Ways:
    """Node lists of the kept ways, flattened: one entry per node reference."""

    # Typed arrays, not lists: eight or four bytes per entry instead of a Python
    # object each, for the tens of millions of node references of a province.
    refs: array = field(default_factory=lambda: array("q"))
    # libosmium's fixed-point coordinates (1e-7 degrees); an unset one is out of range.
    lon: array = field(default_factory=lambda: array("i"))
    lat: array = field(default_factory=lambda: array("i"))
    counts: list[int] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


def _ways(path: Path) -> Iterator[Any]:
    import osmium

    fp = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY) \
        .with_locations() \
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY)) \
        .with_filter(osmium.filter.KeyFilter("highway"))
    yield from fp


def _read(path: Path, keep: Callable[[dict[str, str]], bool]) -> _Ways:
    out = _Ways()
    refs, lon, lat = out.refs, out.lon, out.lat
    for way in _ways(path):
        tags = {t.k: t.v for t in way.tags}
        if not keep(tags):
            continue
        n0 = len(refs)
        for nd in way.nodes:
            # Fixed-point integers: no float conversion or validity check per node here.
            loc = nd.location
            refs.append(nd.ref)
            lon.append(loc.x)
            lat.append(loc.y)
        out.counts.append(len(refs) - n0)
        out.names.append(tags.get("name", ""))
    return out


def read_osm(path: str | Path, *, mode: str = "walk", progress: Steps | None = None
             ) -> graph.Graph:
    """The graph of ``mode`` ways in the extract at ``path`` (largest component only)."""
    from pyproj import Geod

    if mode not in graph.MODES:
        raise LocatorError(400, "invalid_parameter",
                           f"mode must be one of {', '.join(graph.MODES)}, got {mode!r}", "mode")
    p = Path(path)
    if not p.is_file():
        raise LocatorError(400, "invalid_parameter", f"OSM extract not found: {p}", "osm")
    say = progress.step if progress else (lambda _s: None)
    say("read")
    try:
        got = _read(p, way_filter(mode))
    except RuntimeError as exc:  # libosmium's error for a file it cannot decode
        raise LocatorError(400, "invalid_parameter", f"{p.name}: not a readable OSM extract "
                           f"({exc})", "osm") from None
    if not got.counts:
        raise LocatorError(400, "invalid_parameter", f"{p.name}: no {mode} ways", "osm")
    say("edges")
    refs = np.frombuffer(got.refs, dtype=np.int64)
    x = np.frombuffer(got.lon, dtype=np.int32).astype(np.int64)
    y = np.frombuffer(got.lat, dtype=np.int32).astype(np.int64)
    # A node the extract cut off (its way crosses the border) has no location.
    located = (np.abs(x) <= 1_800_000_000) & (np.abs(y) <= 900_000_000)
    lon, lat = x / 1e7, y / 1e7
    counts = np.asarray(got.counts, dtype=np.int64)
    way_of = np.repeat(np.arange(len(counts)), counts)
    # An edge joins each node of a way to the next one of the same way.
    a = np.flatnonzero(way_of[:-1] == way_of[1:])
    b = a + 1
    a, b = a[located[a] & located[b]], b[located[a] & located[b]]
    _, first, node = np.unique(refs, return_index=True, return_inverse=True)
    u, v = node[a], node[b]
    length = Geod(ellps="WGS84").inv(lon[a], lat[a], lon[b], lat[b])[2]
    g = graph.from_edges(lon[first], lat[first], u, v, length, mode=mode, source=p.name)
    names = np.asarray(got.names, dtype=object)
    named = names[way_of[a]] != ""
    if named.any():
        import pandas as pd

        codes, uniques = pd.factorize(names[way_of[a]][named])
        g.name_u, g.name_v = u[named], v[named]
        g.name_code = codes.astype(np.int32)
        g.names = np.asarray(uniques, dtype=str)
    say("component")
    # Nodes no kept edge touches (unlocated ones) fall out with the small components.
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
