"""The floors of the import, on the same rows and the same database.

- `_Baselines`: the staged rows, as Python tuples, COPY'd into empty UNLOGGED tables of the staging
  shape (information only: nothing the publish writes is that cheap).
- `live_copy_floor`: the rows the publish wrote, COPY'd into empty copies of the LIVE tables with
  their indexes, constraints and foreign keys, logged, in one transaction: the real floor of the publish.
"""

from __future__ import annotations

import contextlib
import graphlib

import psycopg

from rally_assets.core.file_types import STAGED_FRAMES  # the staged tables the floor counts and copies
from rally_assets.tooling.bench.common import LIVE_TABLES, _now

LIVE_FLOOR_SCHEMA = "bench_live_floor"


class _Baselines:
    """The COPY floor on the rows each league stages: one short transaction per league, beside the import."""

    def __init__(self, url: str):
        from rally_assets.core.staging import _columns

        self.columns = {table: _columns(table) for table in STAGED_FRAMES}
        self.floor_s = self.build_s = 0.0
        self.conn = psycopg.connect(url, autocommit=True)
        self.conn.execute("CREATE SCHEMA IF NOT EXISTS bench_floor")
        for table in STAGED_FRAMES:
            # the staging tables' columns only (no index), unlogged
            self.conn.execute(f"CREATE UNLOGGED TABLE IF NOT EXISTS bench_floor.{table} (LIKE rally_etl.{table})")

    def rows(self, parsed, run_id: str) -> dict[str, list[tuple]]:
        """The rows stage_league COPYs, as tuples (built outside the floor's timing)."""
        from rally_assets.core.staging import _rows

        t = _now()
        data = {
            table: list(_rows(getattr(parsed, attr), self.columns[table], {"run_id": run_id, "league": parsed.league}))
            for table, attr in STAGED_FRAMES.items()
        }
        self.build_s += _now() - t
        return data

    def copy_floor(self, data: dict[str, list[tuple]]) -> None:
        t = _now()
        with self.conn.transaction(), self.conn.cursor() as cur:
            for table, rows in data.items():
                with cur.copy(f"COPY bench_floor.{table} ({', '.join(self.columns[table])}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        self.floor_s += _now() - t

    def finish(self) -> dict:
        self.conn.close()
        return {
            "copy_floor_s": round(self.floor_s, 3),
            "copy_floor_rows_from_frames_s": round(self.build_s, 3),  # building the tuples, not in the floor
        }


# --- the live-table floor ------------------------------------------------------------------------


def _foreign_keys(conn: psycopg.Connection, tables: tuple[str, ...]) -> list[tuple[str, str, str, str]]:
    """(table, constraint name, referenced table, definition) of each foreign key of the live `tables`."""
    return conn.execute(
        """SELECT c.conrelid::regclass::text, c.conname, c.confrelid::regclass::text, pg_get_constraintdef(c.oid)
           FROM pg_constraint c
           WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
             AND c.conrelid::regclass::text = ANY(%s)
           ORDER BY 1, 2""",
        (list(tables),),
    ).fetchall()


def _copyable_columns(conn: psycopg.Connection, table: str) -> list[str]:
    """The columns a COPY can write (not the generated ones), in order."""
    rows = conn.execute(
        """SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped
           AND attgenerated = '' ORDER BY attnum""",
        (f"public.{table}",),
    ).fetchall()
    return [f'"{r[0]}"' for r in rows]


def _create_copies(conn: psycopg.Connection, tables: tuple[str, ...]) -> tuple[list[str], list[list[str]]]:
    """Empty logged copies of the live tables (indexes, constraints, defaults), their foreign keys
    re-created between the copies; returns the tables parents first (the order their rows go in)
    and the [child, parent] pairs of those keys."""
    schema = LIVE_FLOOR_SCHEMA
    conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    conn.execute(f"CREATE SCHEMA {schema}")
    for table in tables:
        conn.execute(f"CREATE TABLE {schema}.{table} (LIKE public.{table} INCLUDING ALL)")
    order = graphlib.TopologicalSorter({t: set() for t in tables})
    edges = []
    for table, name, parent, definition in _foreign_keys(conn, tables):
        if parent in tables:
            order.add(table, parent)
            edges.append([table, parent])
            # "REFERENCES parent(col)": the copy's key points at the parent's copy
            definition = definition.replace(f"REFERENCES {parent}(", f"REFERENCES {schema}.{parent}(", 1)
        conn.execute(f'ALTER TABLE {schema}.{table} ADD CONSTRAINT "{name}" {definition}')
    return list(order.static_order()), edges


def live_copy_floor(url: str, tables: tuple[str, ...] = LIVE_TABLES) -> dict:
    """COPY every row of the live `tables` (what the publish wrote) into their empty copies, parents first,
    logged, in one transaction (commit included); the rows are read out of the live tables beforehand."""
    with psycopg.connect(url, autocommit=True) as conn:
        tables = tuple(t for t in tables if conn.execute("SELECT to_regclass(%s)", (f"public.{t}",)).fetchone()[0])
        order, edges = _create_copies(conn, tables)
        columns = {t: _copyable_columns(conn, t) for t in order}
        data: dict[str, list[bytes]] = {}
        for table in order:
            with conn.cursor().copy(f"COPY (SELECT {', '.join(columns[table])} FROM public.{table}) TO STDOUT") as out:
                data[table] = [bytes(chunk) for chunk in out]
        rows = {t: conn.execute(f"SELECT count(*) FROM public.{t}").fetchone()[0] for t in order}
        with contextlib.suppress(psycopg.Error):
            conn.execute("CHECKPOINT")  # as every measurement: the floor does not pay for earlier dirty pages
        per_table: dict[str, float] = {}
        t_all = _now()
        with conn.transaction(), conn.cursor() as cur:
            for table in order:
                t = _now()
                with cur.copy(f"COPY {LIVE_FLOOR_SCHEMA}.{table} ({', '.join(columns[table])}) FROM STDIN") as copy:
                    for chunk in data[table]:
                        copy.write(chunk)
                per_table[table] = round(_now() - t, 4)
            t_commit = _now()
        commit_s = _now() - t_commit
        total = _now() - t_all
        copied = {t: conn.execute(f"SELECT count(*) FROM {LIVE_FLOOR_SCHEMA}.{t}").fetchone()[0] for t in order}
        foreign_keys, indexes = conn.execute(
            """SELECT (SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = %(s)s::text::regnamespace),
                      (SELECT count(*) FROM pg_indexes WHERE schemaname = %(s)s::text::name)""",
            {"s": LIVE_FLOOR_SCHEMA},
        ).fetchone()
        conn.execute(f"DROP SCHEMA {LIVE_FLOOR_SCHEMA} CASCADE")
    return {
        "live_copy_floor_s": round(total, 3),
        "tables_s": per_table,
        "commit_s": round(commit_s, 4),
        "rows": rows,
        "rows_copied": copied,
        "rows_total": sum(rows.values()),
        "foreign_keys": foreign_keys,  # on the copies, between them
        "indexes": indexes,  # on the copies
        "order": order,
        "references": edges,  # [child, parent] of each foreign key between the copies
    }
