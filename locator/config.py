"""The one table of settings.

Each setting has a name, a default, a type and help text. Values come from, in
order of precedence: ``test_config`` passed to the app factory, environment
variables ``LOCATOR_<NAME>``, the instance file ``instance/locator.toml``, and
the defaults below. ``docs/settings.md`` documents every setting and a test
keeps the two in step.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent


def _assets_root() -> Path:
    """Where ``templates/``, ``static/`` and ``data/`` are.

    A checkout keeps them beside the package; a built wheel carries copies
    inside the package (see ``setup.py``), so ``pip install .`` gives a
    working server too.
    """
    checkout = PACKAGE_DIR.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "templates").is_dir():
        return checkout
    return PACKAGE_DIR


ROOT = _assets_root()
INSTALLED = ROOT == PACKAGE_DIR
ENV_PREFIX = "LOCATOR_"
# An installed package must not write into site-packages: its published
# versions go to the user's data folder unless DATA_DIR says otherwise.
_DEFAULT_DATA_DIR = (Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
                     / "locator") if INSTALLED else ROOT / "var"


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    msg = f"expected a boolean, got {value!r}"
    raise ValueError(msg)


def _str_list(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [part.strip() for part in str(value).split(",") if part.strip()]


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    type: Callable[[Any], Any]
    help: str
    choices: tuple[str, ...] | None = None


SETTINGS: tuple[Setting, ...] = (
    Setting("DATA_PATH", str(ROOT / "data" / "stations" / "demo_stations.gpkg"), str,
            "Station dataset (GeoPackage) served at start-up."),
    Setting("BOUNDARIES_DIR", str(ROOT / "data" / "boundaries"), str,
            "Folder with henan_province/city/county GeoJSON boundaries."),
    Setting("TILES", "amap", str,
            "Base-map tile source for pages. Markers are drawn in its datum.",
            ("amap", "tianditu", "osm", "none")),
    Setting("TIANDITU_KEY", "", str, "Tianditu browser key (tk), needed when TILES=tianditu."),
    Setting("DEFAULT_LANG", "zh", str, "Page language when none is asked for.", ("zh", "en")),
    Setting("DEFAULT_K", 10, int, "Stations returned by a nearest query when k is not given."),
    Setting("MAX_K", 50, int, "Largest k a nearest query may ask for."),
    Setting("MAX_DISTANCE_M", 200_000.0, float,
            "Largest max_distance_m a nearest query may ask for, in metres."),
    Setting("WALK_SPEED_M_PER_MIN", 75.0, float,
            "Walking speed used for walk times (75 m/min = 4.5 km/h)."),
    Setting("DETOUR_FACTOR", 1.3, float,
            "Street distance over straight-line distance, used for walk times."),
    Setting("BBOX_LIMIT", 2000, int,
            "Most stations one map-viewport request returns before clustering."),
    Setting("MAP_CENTER", "34.7466,113.6254", str,
            "Map centre 'lat,lon' (WGS-84) before locating."),
    Setting("MAP_ZOOM", 12, int, "Initial map zoom."),
    Setting("HOST", "127.0.0.1", str, "Address `locator serve` listens on."),
    Setting("PORT", 5000, int, "Port `locator serve` listens on."),
    Setting("WORKERS", 1, int,
            "Web processes of `locator serve`: 1 runs waitress, more run gunicorn (gthread)."),
    Setting("THREADS", 8, int, "Request threads per web process."),
    Setting("WRITE_THREADS", 32, int,
            "More request threads per web process that only writes (reports, edits) use. A "
            "write mostly waits for the commit that makes it durable, and one commit holds "
            "every write waiting at once: more of them share one disk flush."),
    Setting("CONNECTION_LIMIT", 1000, int,
            "Most client connections one web process holds open at once; idle and slow "
            "clients use up these slots, not request threads."),
    Setting("IDLE_TIMEOUT", 10, int,
            "Seconds an idle connection (kept alive, or silent before its request) stays open."),
    Setting("REQUEST_TIMEOUT", 30, int,
            "Seconds gunicorn lets one request run before the worker is restarted."),
    Setting("MAX_HEADER_BYTES", 16384, int,
            "Largest request head (request line plus headers) in bytes: a longer request line "
            "gets 414, a longer head 431, both as JSON errors."),
    Setting("CACHE_MB", 256.0, float,
            "Most memory (MB, estimated from array and frame sizes) that each process's "
            "caches of derived data (boundaries, planning grids, outlines, downloads) hold "
            "together; the least recently used go first and a larger value is never kept."),
    Setting("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"], _str_list,
            "Host names (with optional :port) that links may be built from when PUBLIC_URL is "
            "empty, comma-separated; a request naming another Host gets links on the first "
            "entry. `locator serve` on a non-loopback address needs PUBLIC_URL."),
    Setting("TRUSTED_PROXIES", [], _str_list,
            "Addresses or networks (e.g. 127.0.0.1, 10.0.0.0/8) of reverse proxies whose "
            "X-Forwarded-For names the client; from any other peer the header is ignored."),
    Setting("EMBED_FRAME_ANCESTORS", ["*"], _str_list,
            "Origins allowed to frame /embed (CSP frame-ancestors), comma-separated; "
            "'*' allows any site. Every other page refuses framing."),
    Setting("PUBLIC_URL", "", str,
            "Public base URL (e.g. https://map.example.org) for links other sites keep: embed "
            "snippets, oEmbed, OGC API links, the OpenAPI server; empty means the request's "
            "host if it is in ALLOWED_HOSTS. Required when serving on a non-loopback address."),
    Setting("RATE_LIMIT_ENABLED", True, _bool,
            "Limit requests per client address on /api/v1, /ogc and /oembed."),
    Setting("RATE_LIMIT", "300 per minute; 6000 per hour", str,
            "Per-client limits (flask-limiter syntax, ';'-separated) when rate limiting is on."),
    Setting("RATE_LIMIT_STORAGE_URI", "memory://", str,
            "Where rate-limit counters live: memory:// (one process only) or "
            "redis://host:port/db shared by every web process. If Redis is down, requests "
            "are let through and the failure is logged."),
    Setting("OGC_ITEMS_RATE_LIMIT", "3000 per minute; 60000 per hour", str,
            "Per-client limits on OGC API item pages (paging GIS clients), instead of "
            "RATE_LIMIT; a page costs 1 plus 1 per 1000 features of its limit."),
    Setting("API_MAX_AGE", 60, int,
            "Seconds public API answers may be cached by clients and proxies (Cache-Control)."),
    Setting("DATA_DIR", str(_DEFAULT_DATA_DIR), str,
            "Folder of published station versions (versions/, the `current` pointer, "
            "import reports). While nothing is published, DATA_PATH is served."),
    Setting("DATABASE_TIMEOUT", 3.0, float,
            "Seconds to wait for the database to connect or answer one statement; past "
            "it, requests that need the database answer 503."),
    Setting("DATA_RELOAD_SECONDS", 2.0, float,
            "How often a running server checks for a newly published version (0 = never)."),
    Setting("IMPORT_MAX_ROWS", 100_000, int, "Most data rows one imported file may have."),
    Setting("IMPORT_MAX_BYTES", 200_000_000, int, "Largest file `locator import` reads."),
    Setting("IMPORT_MAX_CELL_CHARS", 10_000, int,
            "A cell longer than this makes the whole file refused as not a station list."),
    Setting("IMPORT_MAX_VANISH_SHARE", 0.2, float,
            "Largest share of a source's stations one re-import may remove without --force."),
    Setting("IMPORT_DUPLICATE_M", 30.0, float,
            "Stations of one kind closer than this, with similar names, are duplicates."),
    Setting("GRID_CELL_M", 500.0, float,
            "Side of the planning grid's square cells in metres (coverage, gaps, siting)."),
    Setting("COVERAGE_DETOUR", 1.0, float,
            "Detour factor for coverage: a cell is covered when straight-line distance "
            "x detour <= radius (1.0 = straight line)."),
    Setting("COVERAGE_AREA", "exact", str,
            "How covered area is measured: exact geometry or the grid's cell centres.",
            ("exact", "grid")),
    Setting("POPULATION_PATH", str(ROOT.parent / "shared" / "data" / "population"
                                   / "henan_county_population_2020.csv"), str,
            "County population table (adcode,pop2020) offered as the 'population' demand layer."),
    Setting("DEMAND_DIR", "", str,
            "Folder whose .csv/.geojson/.gpkg/.tif files are offered as demand layers by name."),
    Setting("PRESET_SANITATION_M", 1000.0, float,
            "Radius of the 'sanitation' preset (walking to a rest station), metres."),
    Setting("PRESET_DELIVERY_M", 3000.0, float,
            "Radius of the 'delivery' preset (rider on an e-bike to a rest station), metres."),
    Setting("PRESET_TRUCK_M", 30000.0, float,
            "Radius of the 'truck' preset (truck driver to a driver home), metres."),
    Setting("MAX_SUGGEST_N", 200, int, "Most new sites one suggest request may ask for."),
    Setting("SUGGEST_TIME_LIMIT", 10.0, float,
            "Seconds one suggest run may spend (greedy, swaps, then HiGHS)."),
    Setting("SUGGEST_TARGET_GAP", 0.01, float,
            "A suggest run stops once its sites are proven within this share of the best."),
    Setting("SUGGEST_FIRST_SECONDS", 0.5, float,
            "Seconds the planner page's first answer may spend on siting; the full run "
            "then tightens it in the background and the page updates."),
    Setting("NETWORK_PATH", "", str,
            "Street graph (.npz from `locator network build`) for network distances; empty "
            "means the latest graph built in DATA_DIR/networks, if any."),
    Setting("OSM_NAMES_PATH", "", str,
            "OpenStreetMap names index (.names.npz from `locator names build`) that place "
            "search also looks in; empty means the latest built in DATA_DIR/osm_names, if any."),
    Setting("GEOCODER", "none", str,
            "Optional online geocoder that search also asks when our own names give fewer "
            "results than asked for; never required.", ("none", "tianditu", "amap")),
    Setting("GEOCODER_KEY", "", str,
            "Key for GEOCODER (Tianditu tk, or an Amap Web service key); without one the "
            "geocoder stays off."),
    Setting("GEOCODER_URL", "", str,
            "Endpoint for GEOCODER instead of the service's official one (a proxy)."),
    Setting("GEOCODER_TIMEOUT", 2.0, float,
            "Seconds search waits for the geocoder before answering without it."),
    Setting("NETWORK_MAX_SNAP_M", 500.0, float,
            "Points farther than this from any graph node count as unreachable on the network."),
    Setting("PLANNING_DISTANCE", "auto", str,
            "Default distance for coverage and suggest: network when a graph is configured "
            "(auto), or always straight.", ("auto", "network", "straight")),
    Setting("PLANNER_WORKERS", 1, int,
            "Background threads computing planner jobs (coverage, suggestions)."),
    Setting("PLANNER_WARMUP", True, _bool,
            "When serving, compute the default /planner page (its plan and map) at start-up "
            "and after each new version, so that its first visitor does not wait for it."),
    Setting("JOBS_URL", "", str,
            "Shared planner job queue, e.g. redis://127.0.0.1:6379/0 (RQ on Redis; run "
            "`locator worker` beside the web processes); empty keeps jobs in this process's "
            "threads."),
    Setting("JOBS_MAX_QUEUED", 8, int,
            "Planner jobs waiting or running at once (per process, or in the shared queue); "
            "more answer 429 with Retry-After."),
    Setting("JOBS_MAX_PER_CLIENT", 2, int,
            "Planner jobs one client address may have waiting or running; more answer 429."),
    Setting("JOBS_RESULT_TTL", 600.0, float,
            "Seconds a finished planner job stays answerable at its poll URL."),
    Setting("JOBS_ABANDON_SECONDS", 30.0, float,
            "An unfinished planner job nobody polls for this long is cancelled."),
    Setting("JOBS_MEMORY_MB", 1024, int,
            "Memory one planner job may add to its worker, in MB (Redis backend; 0 = no cap). "
            "A job over it fails with job_over_memory_limit."),
    Setting("JOBS_TIMEOUT", 120.0, float, "Seconds one planner job may run before it is stopped."),
    Setting("JOBS_MAX_WAIT", 2.0, float,
            "Longest a planner request waits for its job before answering 202 with the poll "
            "URL; the `wait` parameter is capped to it."),
    # The write path: staff accounts and sessions.
    Setting("DATABASE_URL", "", str,
            "PostgreSQL database (postgresql://user@host:port/db) shared by every process: "
            "station versions (PostGIS) and accounts; empty = embedded files (GeoPackage "
            "versions in DATA_DIR, accounts in DATA_DIR/living.sqlite)."),
    Setting("SECRET_KEY", "", str,
            "Key signing staff sessions and CSRF tokens; empty = one generated once and kept "
            "in DATA_DIR/secret_key, shared by every process on that folder."),
    Setting("SESSION_COOKIE_SECURE", True, _bool,
            "Send the staff session cookie over HTTPS only (browsers also accept it on "
            "http://localhost). Turn off only for a plain-HTTP test host."),
    Setting("LOGIN_MAX_FAILURES", 5, int,
            "Failed logins for one address within LOGIN_LOCK_SECONDS before further tries "
            "are refused (429); a client address may fail four times as often."),
    Setting("LOGIN_LOCK_SECONDS", 900, int, "Window over which failed logins are counted."),
    # Workers' feedback and the unions' queue.
    Setting("REPORT_CHALLENGE", True, _bool,
            "Ask a proof-of-work challenge (ALTCHA, self-hosted) before accepting a report, "
            "confirmation or suggestion. Turn off only for scripted tests."),
    Setting("REPORT_RATE_LIMIT", "10 per minute; 60 per day", str,
            "Per-client limits on reports, confirmations and suggestions (flask-limiter syntax)."),
    Setting("REPORT_PHOTO_MAX_BYTES", 8 * 1024 * 1024, int,
            "Largest photo a worker's report may carry, in bytes as uploaded; a larger one "
            "is refused with 413. Kept photos are re-encoded to at most 1600 pixels a side "
            "with no metadata, so they are much smaller."),
    Setting("ESCALATE_DAYS", 7.0, float,
            "Days a case may stay open before it also shows in the parent union's queue."),
    Setting("STALE_DAYS", 180.0, float,
            "A station with no positive check (verification or worker confirmation) for this "
            "many days shows as stale in its union's queue."),
)

BY_NAME = {s.name: s for s in SETTINGS}


def coerce(setting: Setting, value: Any) -> Any:
    """Convert ``value`` to the setting's type, checking choices."""
    try:
        out = setting.type(value)
    except (TypeError, ValueError) as exc:
        msg = f"setting {setting.name}: {exc}"
        raise ValueError(msg) from exc
    if setting.choices is not None and out not in setting.choices:
        msg = f"setting {setting.name} must be one of {', '.join(setting.choices)}, got {out!r}"
        raise ValueError(msg)
    return out


def load(
    *,
    instance_path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Resolve every setting from defaults, instance file, environment and overrides."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {s.name: s.default for s in SETTINGS}
    if instance_path is not None:
        file = instance_path / "locator.toml"
        if file.is_file():
            with file.open("rb") as fh:
                data = tomllib.load(fh)
            values.update({k.upper(): v for k, v in data.items() if k.upper() in BY_NAME})
    for s in SETTINGS:
        if ENV_PREFIX + s.name in environ:
            values[s.name] = environ[ENV_PREFIX + s.name]
    if overrides:
        values.update({k: v for k, v in overrides.items() if k in BY_NAME})
    return {name: coerce(BY_NAME[name], value) for name, value in values.items()}


__all__ = ["BY_NAME", "SETTINGS", "Setting", "_bool", "_str_list", "coerce", "load"]
