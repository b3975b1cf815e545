"""`rally init-db`: make a database ready for the import, as a guest in the app's schema.

On an empty database: the app's current schema exactly as the app defines it
(sql/app_models_2025-11-14.sql), then the ETL's own schema, then the additive extras. On an
existing app database: its state is read (profile.py) and refused in one line if the import
cannot write into it; else only the ETL's schema and the extras are added: never a NOT NULL
column, a UNIQUE index, a dropped table or a generated column on the app's tables. Idempotent:
a second run plans nothing. `plan_init` says what it would do without doing it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from rally_assets.core.constants import ETL_SCHEMA, FACT_TABLES
from rally_assets.core.errors import RallyError
from rally_assets.core.schema import etl
from rally_assets.core.schema.profile import APP_SCHEMA, AppSchemaProfile, read_profile
from rally_assets.core.sql import load_sql

APP_MODELS_FILE = "app_models_2025-11-14.sql"


@dataclass
class InitPlan:
    creates_app_schema: bool = False  # the database was empty: the app's schema is created as the app defines it
    etl_schema: list[str] = field(default_factory=list)  # DDL of the ETL's own schema
    app_extras: list[str] = field(default_factory=list)  # the additive DDL on the app's tables

    @property
    def statements(self) -> list[str]:
        app = [f"-- the app's schema as {APP_MODELS_FILE} defines it"] if self.creates_app_schema else []
        return app + self.etl_schema + self.app_extras

    @property
    def empty(self) -> bool:
        return not self.statements


def _names(conn: psycopg.Connection, sql: str, params: tuple = ()) -> set[str]:
    return {r[0] for r in conn.execute(sql, params).fetchall()}


def _function_differs(conn: psycopg.Connection, name: str, ddl: str) -> bool:
    row = conn.execute(
        "SELECT p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = %s AND p.proname = %s",
        (ETL_SCHEMA, name),
    ).fetchone()
    return row is None or row[0].strip() != ddl.split("$fn$")[1].strip()


def _etl_statements(conn: psycopg.Connection) -> list[str]:
    """The ETL's own schema: what is missing of it."""
    stmts = []
    if not _names(conn, "SELECT nspname FROM pg_namespace WHERE nspname = %s", (ETL_SCHEMA,)):
        stmts.append(f"CREATE SCHEMA {ETL_SCHEMA}")
    stmts += [ddl.strip() for name, ddl in etl.ETL_FUNCTIONS.items() if _function_differs(conn, name, ddl)]
    tables = _names(conn, "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (ETL_SCHEMA,))
    for table, columns in etl.ETL_TABLES.items():
        if table not in tables:
            stmts.append(f"CREATE TABLE {ETL_SCHEMA}.{table} ({', '.join(columns)})")
    for table, columns in etl.STAGING_TABLES.items():
        if table not in tables:
            stmts.append(f"CREATE UNLOGGED TABLE {ETL_SCHEMA}.{table} ({', '.join(columns)})")
    indexes = _names(conn, "SELECT indexname FROM pg_indexes WHERE schemaname = %s", (ETL_SCHEMA,))
    wanted = {**etl.ETL_INDEXES, **{f"ix_{t}_run": f"{t} (run_id)" for t in etl.STAGING_TABLES}}
    stmts += [f"CREATE INDEX {name} ON {ETL_SCHEMA}.{target}" for name, target in wanted.items() if name not in indexes]
    return stmts


def _app_extras(conn: psycopg.Connection, profile: AppSchemaProfile) -> list[str]:
    """The additive extras on the app's tables that are missing (nullable columns, plain indexes, guards)."""
    stmts = [
        f"ALTER TABLE {APP_SCHEMA}.{table} ADD COLUMN {etl.ROW_HASH_COLUMN} text"
        for table in FACT_TABLES
        if profile.has(table) and not profile.has(table, etl.ROW_HASH_COLUMN)
    ]
    indexes = _names(conn, "SELECT indexname FROM pg_indexes WHERE schemaname = %s", (APP_SCHEMA,))
    stmts += [
        f"CREATE INDEX {name} ON {APP_SCHEMA}.{table} {definition}"
        for name, (table, definition) in etl.APP_INDEXES.items()
        if profile.has(table) and name not in indexes
    ]
    triggers = _names(conn, "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
    stmts += [
        etl.guard_trigger(table)
        for table in etl.GUARDED_TABLES
        if profile.has(table) and etl.guard_trigger_name(table) not in triggers
    ]
    return stmts


def plan_init(conn: psycopg.Connection) -> InitPlan:
    """What init_db would do (nothing is written). Refuses a state the import cannot write into."""
    profile = read_profile(conn)
    if profile.is_empty:
        # Everything, as on any empty database: the extras are those the app's own schema lacks.
        return InitPlan(creates_app_schema=True, etl_schema=["-- the ETL's schema, rally_etl"], app_extras=[])
    profile.check_supported()
    return InitPlan(etl_schema=_etl_statements(conn), app_extras=_app_extras(conn, profile))


def _create_app_schema(conn: psycopg.Connection) -> None:
    search_path = conn.execute("SELECT current_setting('search_path')").fetchone()[0]
    conn.execute(load_sql(__name__, APP_MODELS_FILE))
    conn.execute("SELECT set_config('search_path', %s, false)", (search_path,))  # the dump clears it


def init_db(conn: psycopg.Connection) -> InitPlan:
    """Make the database ready, in one transaction; return what was done (empty plan: nothing to do)."""
    with conn.transaction():
        # One init at a time: two processes racing on CREATE TABLE would otherwise collide.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('rally_init_db'))")
        plan = plan_init(conn)
        if plan.creates_app_schema:
            _create_app_schema(conn)
            plan.etl_schema = _etl_statements(conn)
            for stmt in plan.etl_schema:
                conn.execute(stmt)
            plan.app_extras = _app_extras(conn, read_profile(conn))
            for stmt in plan.app_extras:
                conn.execute(stmt)
            return plan
        for stmt in plan.etl_schema + plan.app_extras:
            conn.execute(stmt)
    return plan


class NotReady(RallyError):
    """The database lacks the app's tables or the ETL's schema."""


def require_ready(conn: psycopg.Connection) -> AppSchemaProfile:
    """The profile of a database ready for the import; else one line saying what is missing and what to run."""
    profile = read_profile(conn)
    if profile.is_empty:
        raise NotReady("this database has none of the app's tables: run `rally init-db` to create the app's schema")
    profile.check_supported()
    missing = plan_init(conn)
    if missing.etl_schema or missing.app_extras:
        raise NotReady(
            f"the ETL's schema ({ETL_SCHEMA}) is missing or incomplete here: run `rally init-db` "
            "(`rally init-db --dry-run` lists what it adds)"
        )
    return profile
