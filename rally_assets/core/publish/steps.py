"""Shared by the publish steps: every statement goes through the protected-table guard."""

from __future__ import annotations

import psycopg

from rally_assets.core.constants import ETL_SCHEMA
from rally_assets.core.protection.guard import guarded_execute

S = ETL = ETL_SCHEMA  # staging tables and the ETL's functions live in the ETL's schema


def run(conn: psycopg.Connection, sql: str, params: dict | None = None):
    return guarded_execute(conn, sql, params)


def temp_table(conn: psycopg.Connection, name: str, select_sql: str, params: dict | None = None) -> None:
    """A temp table for this transaction. Not ANALYZEd: with nested loops off the plans are hash
    joins whatever the statistics say, and the planner sizes an unanalysed table from its pages.
    Dropped first: a dry run publishes several leagues in one transaction (pipeline.rehearse_import)."""
    run(conn, f"DROP TABLE IF EXISTS {name}")
    run(conn, f"CREATE TEMP TABLE {name} ON COMMIT DROP AS {select_sql}", params)


def count(conn: psycopg.Connection, sql: str, params: dict) -> int:
    """Rows a statement RETURNING something touched."""
    return len(run(conn, sql, params).fetchall())


def inserted_and_updated(rows: list[tuple]) -> tuple[int, int]:
    """From the rows of an upsert `RETURNING (xmax = 0)`: how many were inserted, how many updated."""
    inserted = sum(1 for (was_inserted,) in rows if was_inserted)
    return inserted, len(rows) - inserted
