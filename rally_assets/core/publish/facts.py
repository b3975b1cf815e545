"""The fact tables, replaced per league as a row diff keyed by `etl_row_hash` (a hash of the
resolved row plus its occurrence number): rows that disappeared are deleted, new ones inserted,
the rest left alone. App-created schedule rows (practice times) have no hash and are never
considered. A fact table is replaced only from a file that was there, and only inside the
publish's scope (a partial scrape replaces the rows of the series it covers, nothing else)."""

from __future__ import annotations

from dataclasses import dataclass

from rally_assets.core.constants import PRACTICE_ROWS, SERIES_STATS_COUNTS
from rally_assets.core.publish.context import Step
from rally_assets.core.publish.report import TableChanges
from rally_assets.core.publish.scope import in_scope
from rally_assets.core.publish.steps import S, count, run, temp_table


def _team(alias: str, column: str) -> str:
    return f"LEFT JOIN pub_team_ids {alias} ON {alias}.name = {column}"


@dataclass(frozen=True)
class FactSource:
    """How a fact table's rows come from its staged table: the FROM clause (alias m) and the
    expression of each column (league_id is implied); and the series a row belongs to, for the
    publish's scope (scope.py): of a staged row (over the FROM clause) and of a live row (alias t).
    The series is not part of the row's hash: a full scrape hashes exactly as before."""

    source: str
    columns: dict[str, str]
    staged_series: str
    live_series: str


def _team_series(column: str) -> str:
    return f"(SELECT tt.series_id FROM teams tt WHERE tt.id = t.{column})"


FACTS: dict[str, FactSource] = {
    "match_scores": FactSource(
        f"{S}.stg_matches m {_team('ht', 'm.home_team')} {_team('at', 'm.away_team')}",
        {
            "match_date": "m.match_date",
            "home_team": "m.home_team",
            "away_team": "m.away_team",
            "home_team_id": "ht.team_id",
            "away_team_id": "at.team_id",
            "home_player_1_id": "m.home_player_1_id",
            "home_player_2_id": "m.home_player_2_id",
            "away_player_1_id": "m.away_player_1_id",
            "away_player_2_id": "m.away_player_2_id",
            "scores": "m.scores",
            "winner": "m.winner",
            "tenniscores_match_id": "m.tenniscores_match_id",
        },
        staged_series="ht.series_id",
        live_series=_team_series("home_team_id"),
    ),
    "schedule": FactSource(
        f"{S}.stg_schedule m {_team('ht', 'm.home_team')} {_team('at', 'm.away_team')}",
        {
            "match_date": "m.match_date",
            "match_time": "m.match_time",
            "home_team": "m.home_team",
            "away_team": "m.away_team",
            "home_team_id": "ht.team_id",
            "away_team_id": "at.team_id",
            "location": "m.location",
        },
        staged_series="ht.series_id",
        live_series=_team_series("home_team_id"),
    ),
    "series_stats": FactSource(
        f"{S}.stg_series_stats m {_team('t', 'm.team')} LEFT JOIN pub_series se ON se.name = m.series",
        {
            "series": "m.series",
            "team": "m.team",
            "team_id": "t.team_id",
            "series_id": "se.id",
            "points": "m.points",
            **{c: f"m.{c}" for c in SERIES_STATS_COUNTS},
        },
        staged_series="se.id",
        live_series="t.series_id",
    ),
    # A history entry belongs to the player's row in the league (the active one, then the oldest).
    "player_history": FactSource(
        f"""{S}.stg_player_history m LEFT JOIN (
              SELECT DISTINCT ON (tenniscores_player_id) tenniscores_player_id, id, series_id FROM players
              WHERE league_id = %(lid)s ORDER BY tenniscores_player_id, is_active DESC, id) pl
            ON pl.tenniscores_player_id = m.tenniscores_player_id""",
        {"player_id": "pl.id", "series": "m.series", "date": "m.date", "end_pti": "m.end_pti"},
        staged_series="pl.series_id",
        live_series="(SELECT pp.series_id FROM players pp WHERE pp.id = t.player_id)",
    ),
}


def _hashed_rows(fact: FactSource) -> str:
    """The staged rows of the run, resolved, each with its etl_row_hash."""
    exprs = ", ".join(f"{e} AS {c}" for c, e in fact.columns.items())
    row = "ROW(" + ", ".join(fact.columns.values()) + ")::text"
    return f"""SELECT {exprs},
           md5({row}) || '-' || row_number() OVER (PARTITION BY md5({row}) ORDER BY m.row_number) AS etl_row_hash
    FROM {fact.source} WHERE m.run_id = %(run)s AND {in_scope(fact.staged_series)}"""


# Rows of the league an older importer wrote have no hash: the league's import replaces them. The
# app's own schedule rows (practice times, `home_team ILIKE '%practice%'`) are the app's: never.
APP_ROWS = {"schedule": "t." + PRACTICE_ROWS.replace("%", "%%")}


def _delete_gone(table: str, fact: FactSource) -> str:
    """Rows of the league inside the publish's scope that the import no longer has (and an older
    importer's rows), never the app's own."""
    app_rows = APP_ROWS.get(table, "false")
    return f"""DELETE FROM {table} t WHERE t.league_id = %(lid)s AND {in_scope(fact.live_series)}
    AND (t.etl_row_hash IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pub_{table} n WHERE n.etl_row_hash = t.etl_row_hash)
         OR t.etl_row_hash IS NULL AND NOT ({app_rows}))
    RETURNING t.etl_row_hash IS NULL"""


def replace_facts(step: Step, table: str) -> TableChanges:
    fact = FACTS[table]
    conn, p = step.conn, step.p
    temp_table(conn, f"pub_{table}", _hashed_rows(fact), p)
    deleted = run(conn, _delete_gone(table, fact), p).fetchall()
    legacy = sum(1 for (was_legacy,) in deleted if was_legacy)
    if legacy:
        step.adoption.append({"table": table, "rows": legacy, "action": "rows of an older importer (no hash) replaced"})
    columns, values = step.insert_columns(
        table, {**{c: f"n.{c}" for c in fact.columns}, "etl_row_hash": "n.etl_row_hash"}
    )
    inserted = count(
        conn,
        f"""INSERT INTO {table} (league_id, {columns}) SELECT %(lid)s, {values} FROM pub_{table} n
        WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.league_id = %(lid)s AND t.etl_row_hash = n.etl_row_hash)
        RETURNING id""",
        p,
    )
    return TableChanges(inserted=inserted, deleted=len(deleted))
