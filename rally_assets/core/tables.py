"""What the published tables hold of one league, and what their columns are: the catalog's view of
the Rally tables (row counts and column schemas shown on each table's asset)."""

from __future__ import annotations

import psycopg

from rally_assets.core.publish.report import PUBLISHED_TABLES

# How each published table's rows belong to a league. Clubs and series may be shared between leagues
# (club_leagues; global series): the league's are those its teams play in.
_LEAGUE_ROWS = {
    "leagues": "SELECT count(*) FROM leagues WHERE id = %(league_id)s",
    "clubs": "SELECT count(DISTINCT club_id) FROM teams WHERE league_id = %(league_id)s",
    "series": "SELECT count(DISTINCT series_id) FROM teams WHERE league_id = %(league_id)s",
}


def league_rows(conn: psycopg.Connection, league: str) -> dict[str, int]:
    """The league's rows in each published table (all zero when the league was never published)."""
    row = conn.execute("SELECT id FROM leagues WHERE upper(league_id) = %s", (league.upper(),)).fetchone()
    if row is None:
        return dict.fromkeys(PUBLISHED_TABLES, 0)
    counts = {}
    for table in PUBLISHED_TABLES:
        query = _LEAGUE_ROWS.get(table, f"SELECT count(*) FROM {table} WHERE league_id = %(league_id)s")
        counts[table] = conn.execute(query, {"league_id": row[0]}).fetchone()[0]
    return counts


def table_columns(conn: psycopg.Connection, tables: tuple[str, ...]) -> dict[str, list[tuple[str, str, bool]]]:
    """Each table's columns in the app's schema as it is now: (name, type, nullable), in column order."""
    rows = conn.execute(
        """SELECT table_name, column_name, data_type, is_nullable = 'YES'
           FROM information_schema.columns
           WHERE table_schema = 'public' AND table_name = ANY(%s)
           ORDER BY table_name, ordinal_position""",
        (list(tables),),
    ).fetchall()
    columns: dict[str, list[tuple[str, str, bool]]] = {table: [] for table in tables}
    for table, name, data_type, nullable in rows:
        columns[table].append((name, data_type, nullable))
    return columns


def table_row_count(conn: psycopg.Connection, table: str) -> int:
    """All rows of an app table (the app's own tables, shown on their external assets)."""
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
