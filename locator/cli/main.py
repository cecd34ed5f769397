"""The ``locator`` command."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any, ClassVar

import click

from locator import config
from locator.cli import tabular
from locator.domain import params, schema
from locator.errors import LocatorError
from locator.stations import dataset
from locator.storage import watcher

SHARED_POPULATION = (config.ROOT.parent / "shared" / "data" / "population"
                     / "henan_county_population_2020.csv")


def _fail(exc: LocatorError) -> None:
    click.echo(json.dumps(exc.to_dict(), ensure_ascii=False), err=True)
    sys.exit(2)


class _LazyGroup(click.Group):
    """A group whose other command modules load only when one of their commands runs.

    ``locator serve`` would otherwise import the import pipeline, the planner
    commands, the network builder and the account tools at every start of every
    worker, a second or more of start-up that serving never uses.
    """

    LAZY: ClassVar[dict[str, str]] = {
        "import": "data:import_cmd", "export": "data:export_cmd",
        "datasets": "data:datasets_cmd", "rollback": "data:rollback_cmd",
        "db": "data:db_group", "coverage": "planning:coverage_cmd",
        "suggest": "planning:suggest_cmd", "network": "network:network_group",
        "names": "network:names_group",
        "users": "users:users", "worker": "worker:worker"}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.LAZY})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.LAZY.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, attr = target.split(":")
        command = getattr(importlib.import_module(f"locator.cli.{module}"), attr)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=_LazyGroup)
def main() -> None:
    """Locator: Henan trade-union service stations (站点查找)."""


@main.command()
@click.option("--host", default=None, help="Address to listen on (default: setting HOST).")
@click.option("--port", type=int, default=None, help="Port (default: setting PORT).")
@click.option("--data", "data_path", default=None,
              help="Serve this station file instead of the published version.")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Web processes (default: setting WORKERS); 1 = waitress, more = gunicorn.")
@click.option("--threads", type=click.IntRange(1, 256), default=None,
              help="Request threads per process (default: setting THREADS).")
def serve(host: str | None, port: int | None, data_path: str | None, workers: int | None,
          threads: int | None) -> None:
    """Serve the web app: waitress for one process, gunicorn (gthread) for several."""
    from locator import create_app
    from locator.web import serving, warmup

    overrides = {"DATA_PATH": data_path, "FOLLOW_PUBLISHED": False} if data_path else None
    cfg = config.load(overrides=overrides)
    h = host or cfg["HOST"]
    p = port or cfg["PORT"]
    n = workers or cfg["WORKERS"]
    t = threads or cfg["THREADS"]
    serving.check_public_url(cfg, h)
    took = warmup.prepare(cfg)
    if took is not None:
        click.echo(f"planning grid prepared in {took:.1f} s (once per boundary file), "
                   f"kept in {cfg['DATA_DIR']}/grids")
    if n == 1:
        app = warmup.start(create_app(overrides))
        store = app.extensions["locator.store"]
        click.echo(f"Locator on http://{h}:{p}/  ({len(store.current)} stations from "
                   f"{store.current.path}; waitress, {t} threads)")
        serving.run_waitress(app, host=h, port=p, threads=t)
        return
    click.echo(f"Locator on http://{h}:{p}/  (gunicorn, {n} workers x {t} threads)")
    serving.run_gunicorn(lambda: warmup.start(create_app(overrides)), cfg, host=h, port=p,
                         workers=n, threads=t)


@main.command("demo-data")
@click.option("--out", default=None, help="Output GeoPackage (default: setting DATA_PATH).")
@click.option("--population", default=None,
              help="County population CSV (adcode,pop2020); default ../shared/data/... "
                   "when present, else stations follow county area.")
@click.option("--seed", type=int, default=20230501, show_default=True)
@click.option("--boundaries", default=None, help="Boundaries folder (default: setting).")
def demo_data(out: str | None, population: str | None, seed: int,
              boundaries: str | None) -> None:
    """Generate the synthetic demo dataset (演示数据), deterministically."""
    from locator.stations.demodata import DemoOptions, generate

    cfg = config.load()
    pop = population or (str(SHARED_POPULATION) if SHARED_POPULATION.is_file() else None)
    gdf = generate(boundaries or cfg["BOUNDARIES_DIR"], population_csv=pop,
                   options=DemoOptions(seed=seed))
    target = Path(out or cfg["DATA_PATH"])
    tmp = target.with_name(".tmp-" + target.name)
    tmp.unlink(missing_ok=True)
    dataset.write(gdf, tmp)
    tmp.replace(target)
    counts = gdf["kind"].value_counts().to_dict()
    click.echo(f"wrote {len(gdf)} demo stations to {target} "
               f"(weights: {'population ' + pop if pop else 'county area'}): {counts}")


@main.command()
@click.option("--lat", required=True, help="Latitude.")
@click.option("--lon", required=True, help="Longitude.")
@click.option("--k", default="10", show_default=True, help="How many stations (1-50).")
@click.option("--kind", multiple=True, help=f"One of {', '.join(schema.KIND_CODES)}.")
@click.option("--amenity", multiple=True, help="Required amenity code (repeatable).")
@click.option("--open-now", is_flag=True, help="Only stations open right now.")
@click.option("--crs", default="wgs84", show_default=True, help="Datum of lat/lon.")
@click.option("--data", "data_path", default=None, help="Station dataset.")
@click.option("--json", "as_json", is_flag=True, help="Print GeoJSON instead of a table.")
def nearest(lat: str, lon: str, k: str, kind: tuple[str, ...], amenity: tuple[str, ...],
            open_now: bool, crs: str, data_path: str | None, as_json: bool) -> None:
    """Print the nearest stations to a point."""
    from locator.stations.nearest import NearestQuery, Walking, find_nearest

    cfg = config.load()
    try:
        q = NearestQuery(lat=params.number("lat", lat, lo=-90, hi=90),
                         lon=params.number("lon", lon, lo=-180, hi=180),
                         k=params.integer("k", k, lo=1, hi=cfg["MAX_K"], default=10),
                         kinds=params.kinds(list(kind)),
                         amenity_mask=params.amenities(list(amenity)),
                         open_now=open_now, crs=params.crs(crs))
    except LocatorError as exc:
        _fail(exc)
        return
    ds = (dataset.read(data_path) if data_path else watcher.live_dataset(cfg))
    from locator.planning.network_distance import network_walk

    fc = find_nearest(ds, q, walking=Walking(cfg["WALK_SPEED_M_PER_MIN"], cfg["DETOUR_FACTOR"]),
                      with_links=as_json, network_walk=network_walk(cfg))
    if as_json:
        click.echo(json.dumps(fc, ensure_ascii=False, indent=1))
        return
    state_zh = {"open": "开放", "closed": "关闭", "unknown": "未知"}
    rows: list[list[Any]] = []
    for i, f in enumerate(fc["features"], 1):
        p = f["properties"]
        dist = f"{p['distance_m']:.0f} m" if p["distance_m"] < 1000 else \
            f"{p['distance_m'] / 1000:.2f} km"
        rows.append([i, p["name"], schema.label(schema.KINDS, p["kind"]), dist,
                     f"{p.get('drive_min', p['walk_min'])} min", state_zh[p["open_state"]],
                     p["id"]])
    if ds.demo:
        click.echo("演示数据 / demo data: synthetic stations")
    if not rows:
        click.echo("no matching station / 没有符合条件的站点")
        return
    click.echo(tabular.render(["#", "名称 name", "类型 kind", "距离", "步行", "现在", "id"], rows))
    if fc["query"]["walk_distance"] == "network":
        click.echo("步行时间沿路网计算 / walk times along the street graph")
    else:
        click.echo("步行时间为直线距离×绕行系数的估算 / walk times estimated from the "
                   "straight distance")


@main.command("settings")
def list_settings() -> None:
    """List every setting with its current value and help."""
    values = config.load()
    rows = [[s.name, values[s.name], s.help] for s in config.SETTINGS]
    click.echo(tabular.render(["setting", "value", "help"], rows))


if __name__ == "__main__":  # pragma: no cover
    main()
