"""Dagster resources: the app database and the landing zone. Empty config = environment defaults."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psycopg

from rally_assets import db
from rally_assets.settings import landing_dir


class RallyDatabase(dg.ConfigurableResource):
    """The app database. `url` empty: RALLY_DATABASE_URL, else the embedded PostgreSQL."""

    url: str = ""

    def resolved_url(self) -> str:
        return self.url or db.database_url()

    @contextlib.contextmanager
    def connect(self) -> Iterator[psycopg.Connection]:
        with db.connection(self.resolved_url()) as conn:
            yield conn


class LandingZone(dg.ConfigurableResource):
    """The folder league folders land in. `path` empty: RALLY_LANDING_DIR, else RALLY_HOME/landing."""

    path: str = ""

    def root(self) -> Path:
        return Path(self.path).expanduser().resolve() if self.path else landing_dir()
