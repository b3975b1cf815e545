"""The baselines, on the same rows and the same database: the COPY floor and the old row-by-row INSERTs."""

from __future__ import annotations

from pathlib import Path

import psycopg

from rally_assets.core.file_types import STAGED_FRAMES  # the staged tables the baselines count and copy
from rally_assets.tooling.bench.common import _now


class _Baselines:
    """The COPY floor and the row-by-row INSERTs, on the rows each league stages.

    The floor runs beside the import, one short transaction per league. The row-by-row pass runs
    after it (the leagues parsed again, untimed): its one long transaction would otherwise hold
    back VACUUM for everything the import deletes meanwhile, and slow the import it is compared to.
    """

    def __init__(self, url: str, floor: bool, rowwise: bool):
        from rally_assets.core.staging import _columns

        self.columns = {table: _columns(table) for table in STAGED_FRAMES}
        self.floor, self.rowwise = floor, rowwise
        self.floor_s = self.rowwise_s = self.build_s = 0.0
        self.rowwise_statements = 0
        self.conn = psycopg.connect(url, autocommit=True)
        self.conn.execute("CREATE SCHEMA IF NOT EXISTS bench_floor")
        self.conn.execute("CREATE SCHEMA IF NOT EXISTS bench_rowwise")
        for table in STAGED_FRAMES:
            # The floor: the staging tables' columns only (no index), unlogged. The old way: logged
            # tables of the staging tables' shape (columns, defaults, the run_id index).
            self.conn.execute(f"CREATE UNLOGGED TABLE IF NOT EXISTS bench_floor.{table} (LIKE rally_etl.{table})")
            self.conn.execute(
                f"CREATE TABLE IF NOT EXISTS bench_rowwise.{table} (LIKE rally_etl.{table} INCLUDING ALL)"
            )
        self.url = url

    def rows(self, parsed, run_id: str, count: bool = True) -> dict[str, list[tuple]]:
        """The rows stage_league COPYs, as tuples (built outside the timings)."""
        from rally_assets.core.staging import _rows

        t = _now()
        data = {
            table: list(_rows(getattr(parsed, attr), self.columns[table], {"run_id": run_id, "league": parsed.league}))
            for table, attr in STAGED_FRAMES.items()
        }
        if count:
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

    def rowwise_pass(self, leagues: list[tuple[Path, Path, str]]) -> None:
        """The old way over the same rows: (folder, landing, run_id) per league, parsed again untimed."""
        from rally_assets.core.parsing.league import parse_league

        # As the old ETL ran it (psycopg2): each row its own INSERT, the values bound on the client,
        # no prepared statement; all in one transaction.
        with psycopg.connect(
            self.url, autocommit=False, cursor_factory=psycopg.ClientCursor, prepare_threshold=None
        ) as conn:
            for folder, landing, run_id in leagues:
                parsed = parse_league(folder, landing_root=landing)
                data = self.rows(parsed, run_id, count=False)
                del parsed
                t = _now()
                with conn.cursor() as cur:
                    for table, rows in data.items():
                        cols = self.columns[table]
                        sql = f"INSERT INTO bench_rowwise.{table} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"
                        for row in rows:
                            cur.execute(sql, row)
                        self.rowwise_statements += len(rows)
                self.rowwise_s += _now() - t
            t = _now()
            conn.commit()
            self.rowwise_s += _now() - t

    def finish(self) -> dict:
        self.conn.close()
        out: dict = {}
        if self.floor:
            out["copy_floor_s"] = round(self.floor_s, 3)
            out["copy_floor_rows_from_frames_s"] = round(self.build_s, 3)  # building the tuples, not in the floor
        if self.rowwise:
            out["rowwise_s"] = round(self.rowwise_s, 3)
            out["rowwise_statements"] = self.rowwise_statements
        return out
