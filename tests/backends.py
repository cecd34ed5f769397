"""One fixture, ``backend``, over both station sources.

``files`` is a fresh ``DATA_DIR`` in the test's tmp dir; ``postgis`` is a fresh
database (copied from the PostGIS-enabled ``locator`` template) on the
session's throwaway cluster from :func:`tests.servers.postgres_server`. Both
set the environment the CLI reads, so a test drives ``locator`` as a user would.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pytest

from locator.storage import base
from tests.servers import Postgres, postgres_server

_count = itertools.count()


@dataclass
class Backend:
    name: str
    source: base.StationSource
    root: Path
    url: str = ""

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    def current(self) -> str | None:
        return self.source.version()

    def versions(self) -> list[base.VersionInfo]:
        return self.source.versions()

    def frame(self) -> gpd.GeoDataFrame:
        return self.source.frame()

    def env(self) -> dict[str, str]:
        return {"LOCATOR_DATA_DIR": str(self.root), "LOCATOR_DATABASE_URL": self.url}


@pytest.fixture(scope="session")
def pg_cluster():
    with postgres_server() as pg:
        yield pg


def fresh_database(pg: Postgres) -> str:
    name = f"t{next(_count)}"
    pg.psql(f"CREATE DATABASE {name} TEMPLATE locator", db="postgres")
    return pg.url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["files", "postgis"])
def backend(request, tmp_path, monkeypatch):
    root = tmp_path / "data"
    url = ""
    if request.param == "postgis":
        pg = request.getfixturevalue("pg_cluster")
        if pg is None:
            pytest.skip("PostgreSQL is not installed")
        url = fresh_database(pg)
    monkeypatch.setenv("LOCATOR_DATA_DIR", str(root))
    monkeypatch.setenv("LOCATOR_DATABASE_URL", url)
    config = {"DATA_DIR": str(root), "DATA_PATH": str(tmp_path / "none.gpkg"),
              "DATABASE_URL": url, "DATABASE_TIMEOUT": 3.0}
    b = Backend(request.param, base.open_source(config), root, url)
    yield b
    close = getattr(b.source, "close", None)
    if close is not None:
        close()
