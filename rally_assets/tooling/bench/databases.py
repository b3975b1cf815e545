"""The server the benchmark runs on and its throwaway databases."""

from __future__ import annotations

import contextlib
import uuid

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from rally_assets.core.errors import RallyError


def with_dbname(url: str, dbname: str) -> str:
    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo(**params)


def server_admin_url() -> str:
    """A URL on the server the benchmark creates its databases on: RALLY_DATABASE_URL's, else the embedded one."""
    from rally_assets.core import db

    return db.configured_database_url() or db.embedded_server_url(database="postgres")


def create_database(admin_url: str, tag: str) -> tuple[str, str]:
    name = f"rally_bench_{tag}_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        from rally_assets.core.db import redact

        raise RallyError(
            f"cannot create a benchmark database on {redact(admin_url)}: {str(exc).strip().splitlines()[0]}"
        ) from exc
    return name, with_dbname(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    with contextlib.suppress(psycopg.Error), psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def fresh_database(admin_url: str, tag: str):
    name, url = create_database(admin_url, tag)
    try:
        yield url
    finally:
        drop_database(admin_url, name)


def settle(admin_url: str) -> None:
    """Flush what earlier measurements left dirty in the server, so the next one does not pay for it
    (a CHECKPOINT needs superuser or pg_checkpoint; without them the measurement just runs)."""
    with contextlib.suppress(psycopg.Error), psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
