"""``locator network build`` and ``locator names build``: from an OpenStreetMap extract."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from locator import config
from locator.errors import LocatorError


@click.group("network")
def network_group() -> None:
    """Street networks for planning on walking, cycling or driving distance."""


@network_group.command("build")
@click.option("--osm", "osm_path", required=True, help="OpenStreetMap extract (.osm.pbf).")
@click.option("--mode", default="walk", show_default=True, help="walk, bike or drive.")
@click.option("--out", default=None,
              help="Folder for the graph (default DATA_DIR/networks, where it is found).")
def build_cmd(osm_path: str, mode: str, out: str | None) -> None:
    """Read the extract, keep the largest connected component and save the graph."""
    from locator.geo.network import build

    cfg = config.load()
    folder = Path(out) if out else Path(str(cfg["DATA_DIR"])) / "networks"
    try:
        g, path = build.build(osm_path, folder, mode=mode)
    except LocatorError as exc:
        click.echo(json.dumps(exc.to_dict(), ensure_ascii=False), err=True)
        sys.exit(2)
    click.echo(f"{g.mode} graph: {g.n_nodes:,} nodes, {g.n_edges:,} edges, "
               f"{len(g.names) if g.names is not None else 0:,} named ways")
    click.echo(f"wrote {path}")
    if out:
        click.echo(f"use it with LOCATOR_NETWORK_PATH={path}")


@click.group("names")
def names_group() -> None:
    """Place names from OpenStreetMap for the search box."""


@names_group.command("build")
@click.option("--osm", "osm_path", required=True, help="OpenStreetMap extract (.osm.pbf).")
@click.option("--out", default=None,
              help="Folder for the index (default DATA_DIR/osm_names, where it is found).")
def names_build_cmd(osm_path: str, out: str | None) -> None:
    """Read the extract's named places, roads and POIs and index them for search."""
    from locator.geo import osmnames
    from locator.stations import osm_search

    cfg = config.load()
    folder = Path(out) if out else Path(str(cfg["DATA_DIR"])) / "osm_names"
    try:
        table = osmnames.read(osm_path)
    except LocatorError as exc:
        click.echo(json.dumps(exc.to_dict(), ensure_ascii=False), err=True)
        sys.exit(2)
    path = osm_search.save(osm_search.build(table), folder)
    counts = {k: int((table.kind == i).sum()) for i, k in enumerate(osmnames.KINDS)}
    click.echo(f"{len(table.name):,} names ({', '.join(f'{n:,} {k}' for k, n in counts.items())})")
    click.echo(f"wrote {path}")
    if out:
        click.echo(f"use it with LOCATOR_OSM_NAMES_PATH={path}")
