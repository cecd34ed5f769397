"""``locator coverage`` and ``locator suggest``: planning from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from locator import config
from locator.cli.options import param_option
from locator.domain import schema
from locator.errors import LocatorError
from locator.planning import coverage, names, render, reports, runs
from locator.stations import dataset
from locator.storage import watcher

# Every stage a run may report, in order, with the word the progress bar shows for it.
STEPS = {"grid": "grid", "demand": "demand", "coverage": "distances", "suggest": "sites",
         "matrix": "distances to sites", "greedy": "greedy", "swap": "swaps", "bound": "bound",
         "lp": "solver (LP)", "milp": "solver (MILP)"}
ORDER = list(STEPS)


def _run(args: dict[str, Any], *, with_n: bool, demand_file: str | None,
         candidates: str | None, data_path: str | None) -> runs.Plan:
    cfg = config.load()
    try:
        p = runs.parse(args, cfg, with_n=with_n)
        if demand_file:
            if not Path(demand_file).is_file():
                raise LocatorError(400, "invalid_parameter",
                                   f"demand file not found: {demand_file}", "demand")
            p = runs.PlanParams(**{**p.__dict__, "demand": str(Path(demand_file))})
        if candidates:
            p = runs.PlanParams(**{**p.__dict__, "candidates": candidates})
        ds = (dataset.read(data_path) if data_path else watcher.live_dataset(cfg))
        with tqdm(total=len(STEPS), desc="planning", unit="step", file=sys.stderr) as bar:
            def step(name: str) -> None:
                # Stages a run skips are jumped over, so the bar only moves forward.
                bar.set_postfix_str(STEPS.get(name, name))
                if name in STEPS:
                    bar.update(max(0, ORDER.index(name) - bar.n))

            plan = runs.run(p, ds, cfg, progress=step)
            bar.update(bar.total - bar.n)
    except LocatorError as exc:
        click.echo(json.dumps(exc.to_dict(), ensure_ascii=False), err=True)
        sys.exit(2)
    return plan


def _summary(plan: runs.Plan) -> None:
    pv = plan.province
    p = plan.params
    if plan.demo:
        click.echo("演示数据 / demo data: synthetic stations")
    kinds = ", ".join(schema.label(schema.KINDS, k) for k in p.kinds)
    how = (f"network distance (graph {pv.get('network_version', '')})"
           if p.distance == "network" else f"straight-line distance, detour {p.detour:g}")
    click.echo(f"{kinds} · radius {p.radius:g} m · {how} · demand {p.demand}")
    if p.distance == "network" and pv.get("unreachable_cells"):
        click.echo(f"{int(pv['unreachable_cells']):,} cells are farther than NETWORK_MAX_SNAP_M "
                   "from any road: unreachable, counted as not covered")
    if p.region:
        click.echo(f"limited to {pv['name']} ({p.region}): demand and sites inside it; "
                   "stations within the radius outside it still count")
    area = "province" if not p.region else str(pv["name"])
    click.echo(f"{area}: {pv['area_share']:.1%} of area covered "
               f"({pv['covered_km2']:,.0f} of {pv['area_km2']:,.0f} km²)"
               + (f", {pv['demand_share']:.1%} of demand ({pv['covered_demand']:,.0f} of "
                  f"{pv['demand']:,.0f})" if plan.unit == "people" else ""))
    col = "demand_share" if plan.unit == "people" else "area_share"
    worst = plan.counties.sort_values(col).head(5)
    click.echo("least covered: " + "; ".join(f"{r.city}{r.county} {getattr(r, col):.1%}"
                                             for r in worst.itertuples()))
    if len(plan.gaps):
        g = plan.gaps.iloc[0]
        amount = (f"{g['uncovered_demand']:,.0f} people" if plan.unit == "people"
                  else f"{g['gap_km2']:,.1f} km²")
        click.echo(f"worst gap area: {g['city']}{g['county']} ({g['lat']:.4f}, {g['lon']:.4f}),"
                   f" {amount} uncovered")


def _out(plan: runs.Plan, out: str | None) -> None:
    if not out:
        return
    try:
        reports.write(plan, out, html=_html(plan) if out.lower().endswith(".html") else None)
    except ValueError as exc:
        click.echo(json.dumps({"status": 400, "code": "invalid_parameter",
                               "message": str(exc), "field": "out"}), err=True)
        sys.exit(2)
    click.echo(f"wrote {out}")


def _html(plan: runs.Plan) -> str:
    # The file is read offline, so it draws no tiles that would need a network.
    return render.report_html(plan, cfg={**config.load(), "TILES": "none"})


@click.command("coverage")
@click.option("--kind", multiple=True, help="Station kind (repeatable; default rest_station).")
@click.option("--preset", default=None, help="Job preset: sanitation, delivery or truck.")
@param_option("radius", default=None, default_help="(default 1000).")
@param_option("detour", default=None, default_help="(default setting COVERAGE_DETOUR).")
@click.option("--demand", "demand_file", default=None,
              help="Demand file (county CSV, points CSV, polygons, GeoTIFF).")
@param_option("by", default="county", show_default=True, default_help="county, city or province.")
@param_option("region", default=None, default_help="(default: the whole province).")
@click.option("--out", default=None, help="Report file: .csv, .geojson, .gpkg or .html.")
@click.option("--distance", default=None,
              help="network (along the street graph) or straight; default network when a "
                   "graph is configured.")
@click.option("--gap-cells", default=None,
              help="CSV of every gap cell: centre, county, demand, distance to nearest station.")
@click.option("--data", "data_path", default=None, help="Station dataset.")
def coverage_cmd(kind: tuple[str, ...], preset: str | None, radius: str | None,
                 detour: str | None, demand_file: str | None, by: str, region: str | None,
                 out: str | None, distance: str | None, gap_cells: str | None,
                 data_path: str | None) -> None:
    """Coverage by county or city: share of area and of demand within the radius."""
    args = {"kind": list(kind), "preset": preset, "radius": radius, "detour": detour,
            "by": by, "demand": None if demand_file else "none", "distance": distance,
            "region": region}
    plan = _run({k: v for k, v in args.items() if v}, with_n=False, demand_file=demand_file,
                candidates=None, data_path=data_path)
    _summary(plan)
    _out(plan, out)
    if gap_cells and plan.cov is not None:
        cells = coverage.gap_cells(plan.cov)
        cells.to_csv(gap_cells, index=False, encoding="utf-8-sig")
        click.echo(f"wrote {len(cells):,} gap cells to {gap_cells}")


@click.command("suggest")
@param_option("n", default="10", show_default=True)
@click.option("--kind", multiple=True, help="Station kind (repeatable; default rest_station).")
@click.option("--preset", default=None, help="Job preset: sanitation, delivery or truck.")
@param_option("radius", default=None, default_help="(default 1000).")
@click.option("--demand", "demand_file", default=None, help="Demand file.")
@click.option("--candidates", default=None,
              help="Possible sites: CSV lon,lat[,name] or a point layer (default: grid).")
@click.option("--distance", default=None,
              help="network (along the street graph) or straight; default network when a "
                   "graph is configured.")
@param_option("region", default=None, default_help="(default: the whole province).")
@click.option("--out", default=None, help="Output: .csv, .geojson or .gpkg of the sites.")
@click.option("--data", "data_path", default=None, help="Station dataset.")
def suggest_cmd(n: str, kind: tuple[str, ...], preset: str | None, radius: str | None,
                demand_file: str | None, candidates: str | None, distance: str | None,
                region: str | None, out: str | None, data_path: str | None) -> None:
    """Suggest n new sites covering the most demand not yet covered."""
    args = {"kind": list(kind), "preset": preset, "radius": radius, "n": n,
            "demand": None if demand_file else "none", "distance": distance,
            "region": region}
    plan = _run({k: v for k, v in args.items() if v}, with_n=True, demand_file=demand_file,
                candidates=candidates, data_path=data_path)
    _summary(plan)
    c = plan.certificate
    click.echo(f"{len(plan.suggestions)} new sites add {c['objective']:,.0f} {plan.unit} "
               f"(bound {c['bound']:,.0f}, certified gap {c['gap']:.2%}, {c['status']})")
    top = plan.suggestions.head(20)
    for r, name in zip(top.itertuples(), names.label(top, "zh"), strict=True):
        click.echo(f"  {r.rank:3d}. {name} ({r.lat:.5f}, {r.lon:.5f}) +{r.adds:,.0f}")
    if out:
        suffix = Path(out).suffix.lower().lstrip(".")
        if suffix not in reports.FORMATS:
            click.echo(json.dumps({"status": 400, "code": "invalid_parameter",
                                   "message": "use .csv, .geojson or .gpkg", "field": "out"}),
                       err=True)
            sys.exit(2)
        Path(out).write_bytes(reports.to_bytes(plan, "suggestions", suffix))
        click.echo(f"wrote {out}")
