"""``locator network build``: a street graph from an OpenStreetMap extract."""

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
