"""The app schema profile: which state the app's own schema is in, read once per run from the catalog.

The app owns its tables and they have changed over time (data/rally_schema/README.md): series global
(`UNIQUE (name)`, leagues through `series_leagues`) or per league (`series.league_id`); `display_name`
columns required or absent; `users.league_context` or only the older `users.league_id`;
`user_contexts` with one set of column names, another, or not at all. Every statement whose form
depends on the state asks the profile; a state the import cannot write into is refused before
anything is written, in one line naming what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from rally_assets.core.errors import RallyError

APP_SCHEMA = "public"

# What the import reads and writes in the app's tables: without these it cannot work at all.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "leagues": ("id", "league_id", "league_name"),
    "clubs": ("id", "name"),
    "series": ("id", "name"),
    "teams": ("id", "club_id", "series_id", "league_id", "team_name"),
    "players": ("id", "tenniscores_player_id", "first_name", "last_name", "league_id", "club_id", "series_id"),
    "match_scores": ("id", "league_id", "match_date", "home_team", "away_team", "scores", "winner"),
    "schedule": ("id", "league_id", "match_date", "home_team", "away_team"),
    "series_stats": ("id", "league_id", "series", "team"),
    "player_history": ("id", "player_id", "league_id", "date", "end_pti"),
    "users": ("id", "email", "first_name", "last_name"),
    "user_player_associations": ("user_id", "tenniscores_player_id"),
    "player_availability": ("id", "user_id", "player_id", "player_name", "series_id", "match_date"),
}
APP_TABLES_READ_OR_WRITTEN = (*REQUIRED_COLUMNS, "club_leagues", "series_leagues", "user_contexts", "polls")


class UnsupportedSchema(RallyError):
    """The app's schema is in a state the import cannot write into (nothing was written)."""


@dataclass(frozen=True)
class Column:
    name: str
    not_null: bool
    has_default: bool


@dataclass(frozen=True)
class AppSchemaProfile:
    tables: frozenset[str]
    columns: dict[str, dict[str, Column]]  # table -> column name -> Column
    unique_keys: dict[str, frozenset[frozenset[str]]]  # table -> the column sets of its full unique indexes
    triggers: dict[str, tuple[str, ...]]  # table -> the app's own triggers on it (not the ETL's)

    # --- what is there ----------------------------------------------------------------------

    def has(self, table: str, column: str | None = None) -> bool:
        if column is None:
            return table in self.tables
        return column in self.columns.get(table, {})

    def present(self, table: str, *candidates: str) -> tuple[str, ...]:
        """The candidate columns the table has, in the order given."""
        return tuple(c for c in candidates if self.has(table, c))

    def unique_on(self, table: str, *columns: str) -> bool:
        return frozenset(columns) in self.unique_keys.get(table, frozenset())

    @property
    def is_empty(self) -> bool:
        """No app table at all: a database the ETL may create the app's schema in."""
        return not (self.tables & set(APP_TABLES_READ_OR_WRITTEN))

    # --- the states -------------------------------------------------------------------------

    @property
    def series_per_league(self) -> bool:
        """Series rows belong to one league (app model 2025-11-14); else they are global (production 07-09)."""
        return self.has("series", "league_id")

    @property
    def context_column(self) -> str:
        """The users' league context: `league_context`, else the older `league_id`."""
        return "league_context" if self.has("users", "league_context") else "league_id"

    @property
    def context_columns(self) -> tuple[str, ...]:
        """Every users column holding the league context (production keeps the older one beside it)."""
        return self.present("users", "league_context", "league_id")

    @property
    def user_context_columns(self) -> tuple[str, str] | None:
        """user_contexts' (league, team) columns in this state, or None when the app has no such table."""
        for league, team in (("league_id", "team_id"), ("active_league_id", "active_team_id")):
            if self.has("user_contexts", league) and self.has("user_contexts", team):
                return league, team
        return None

    @property
    def one_team_per_club_series(self) -> bool:
        """`unique_team_club_series_league`: a club has one team per series in a league."""
        return self.unique_on("teams", "club_id", "series_id", "league_id")

    def missing(self) -> list[str]:
        """What the import needs and this database lacks (empty: supported)."""
        gaps = [f"table {t}" for t in REQUIRED_COLUMNS if t not in self.tables]
        gaps += [
            f"column {t}.{c}"
            for t, cols in REQUIRED_COLUMNS.items()
            if t in self.tables
            for c in cols
            if not self.has(t, c)
        ]
        if "users" in self.tables and not self.context_columns:
            gaps.append("column users.league_context (or the older users.league_id)")
        if "series" in self.tables and not self.series_per_league and not self.has("series_leagues"):
            gaps.append("table series_leagues (series carry no league_id, so they are linked to leagues through it)")
        return gaps

    def check_supported(self) -> None:
        gaps = self.missing()
        if gaps:
            raise UnsupportedSchema(
                "the app's schema lacks " + ", ".join(gaps) + "; the import writes nothing into this state "
                "(load the app's schema, or run `rally init-db` on an empty database)"
            )


PROFILE_COLUMNS = """
SELECT c.relname, a.attname, a.attnotnull, a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> ''
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
"""
PROFILE_UNIQUE_KEYS = """
SELECT c.relname, array_agg(a.attname ORDER BY a.attname)
FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY (i.indkey)
WHERE n.nspname = %(schema)s AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
GROUP BY c.relname, i.indexrelid
"""
PROFILE_TRIGGERS = """
SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND NOT t.tgisinternal AND t.tgname NOT LIKE 'rally\\_%%'
ORDER BY 1, 2
"""


def read_profile(conn: psycopg.Connection) -> AppSchemaProfile:
    p = {"schema": APP_SCHEMA}
    columns: dict[str, dict[str, Column]] = {}
    for table, name, not_null, has_default in conn.execute(PROFILE_COLUMNS, p).fetchall():
        columns.setdefault(table, {})[name] = Column(name, not_null, has_default)
    unique: dict[str, set[frozenset[str]]] = {}
    for table, names in conn.execute(PROFILE_UNIQUE_KEYS, p).fetchall():
        unique.setdefault(table, set()).add(frozenset(names))
    triggers: dict[str, list[str]] = {}
    for table, name in conn.execute(PROFILE_TRIGGERS, p).fetchall():
        triggers.setdefault(table, []).append(name)
    return AppSchemaProfile(
        tables=frozenset(columns),
        columns=columns,
        unique_keys={t: frozenset(keys) for t, keys in unique.items()},
        triggers={t: tuple(names) for t, names in triggers.items()},
    )
