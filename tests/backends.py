"""One fixture, ``backend``, over both station sources, and the session's cluster.

``files`` is a fresh ``DATA_DIR`` in the test's tmp dir; ``postgis`` is a fresh
database (copied from the PostGIS-enabled ``locator`` template) on the
session's one throwaway cluster, ``pg_cluster``, which the write-path tests
share (:mod:`tests.staff`). Both set the environment the CLI reads, so a test
drives ``locator`` as a user would. Apps made with :meth:`Backend.app` are
closed at teardown, so no watcher outlives its test.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from flask import Flask

from locator import create_app
from locator.storage import base
from locator.web import state
from tests.servers import Postgres, postgres_server

_count = itertools.count()


@dataclass
class Backend:
    name: str
    source: base.StationSource
    root: Path
    url: str = ""
    apps: list[Flask] = field(default_factory=list)

    def app(self, **extra: Any) -> Flask:
        """An app on this backend, closed (watcher stopped) when the test ends."""
        made = create_app({"TESTING": True, "DATA_DIR": str(self.root),
                           "DATA_PATH": str(self.root.parent / "none.gpkg"),
                           "DATABASE_URL": self.url, "DATABASE_TIMEOUT": 3.0, **extra})
        self.apps.append(made)
        return made

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


def fresh_database(pg: Postgres, scheme: str = "postgresql+psycopg") -> str:
    """A new, empty PostGIS-enabled database on ``pg``; its URL."""
    name = f"t{next(_count)}"
    pg.psql(f"CREATE DATABASE {name} TEMPLATE locator", db="postgres")
    return f"{scheme}://postgres@127.0.0.1:{pg.port}/{name}"


@pytest.fixture
def closing():
    """``closing(app)`` registers an app whose watcher and connections end with the test."""
    apps: list[Flask] = []
    yield lambda app: apps.append(app) or app
    for app in apps:
        state.close(app)


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
    for app in b.apps:
        state.close(app)
    close = getattr(b.source, "close", None)
    if close is not None:
        close()
