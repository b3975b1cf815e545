"""The name this import gives a series row the league already has: the app's own
series_name_mappings first (where the app still has that table), then the normalisation of the old
importer's names (`Chicago 22` -> `Series 22`). One rule, for the publish's adoption and for the
scope of a landing."""

from __future__ import annotations

import psycopg

from rally_assets.core.parsing.normalize import legacy_series_name

SERIES_NAME_MAPPINGS = """
SELECT m.database_series_name, m.user_series_name FROM series_name_mappings m WHERE m.league_id = %(league)s
"""


def canonical_series_names(conn: psycopg.Connection, league: str, names: list[str]) -> dict[str, str]:
    """name -> the name this import gives it (itself when no rule renames it)."""
    mapped: dict[str, str] = {}
    if conn.execute("SELECT to_regclass('public.series_name_mappings')").fetchone()[0] is not None:
        mapped = dict(conn.execute(SERIES_NAME_MAPPINGS, {"league": league}).fetchall())
    return {name: mapped.get(name) or legacy_series_name(name) or name for name in names}
