"""What every publish step shares: the connection, the run's parameters and the app schema profile,
and the column lists whose form depends on the app's schema state."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from rally_assets.core.schema.profile import AppSchemaProfile

STAMPS = ("created_at", "updated_at")


@dataclass
class Step:
    conn: psycopg.Connection
    profile: AppSchemaProfile
    p: dict  # league (string id), run, lid (the league's row id, once known)
    adoption: list[dict] = field(default_factory=list)  # rows of an older importer identified, renamed, or not

    def stamps(self, table: str) -> tuple[list[str], list[str]]:
        """created_at / updated_at of `table` as (columns, values): set explicitly, the app's model has no defaults."""
        columns = [c for c in STAMPS if self.profile.has(table, c)]
        return columns, ["now()"] * len(columns)

    def insert_columns(self, table: str, columns: dict[str, str]) -> tuple[str, str]:
        """`columns` (name -> expression) that `table` has, plus its stamps, as a column list and a value list."""
        present = {c: e for c, e in columns.items() if self.profile.has(table, c)}
        stamp_columns, stamp_values = self.stamps(table)
        return ", ".join([*present, *stamp_columns]), ", ".join([*present.values(), *stamp_values])

    def touch(self, table: str) -> str:
        """The `, updated_at = now()` of an UPDATE, where the table has the column."""
        return ", updated_at = now()" if self.profile.has(table, "updated_at") else ""
