"""The ETL's own schema (`rally_etl`): its runs, rejections, snapshots, repairs and staging tables,
its functions and the guard; and the few additive extras it needs on the app's tables.

Nothing here is a constraint the app's writes could trip over: the extras are one nullable column
per fact table (the row hash the publish diffs by), plain indexes, and statement triggers that act
only inside an import's publish transaction.
"""

from __future__ import annotations

from rally_assets.core.constants import (
    ETL_SCHEMA,
    FACT_TABLES,
    PRACTICE_ROWS,
    PROTECTED_TABLES,
    SERIES_STATS_COUNTS,
)
from rally_assets.core.protection.guard import CONTEXT_REPAIR_TABLES

ETL = ETL_SCHEMA
TS = "timestamptz DEFAULT now()"

# The ETL's bookkeeping, in its own schema. table -> column definitions.
ETL_TABLES: dict[str, list[str]] = {
    "import_runs": [
        "id bigserial PRIMARY KEY",
        "run_id text NOT NULL",
        "league text NOT NULL",
        "status text NOT NULL",
        f"started_at {TS}",
        "finished_at timestamptz",
        "report jsonb",
    ],
    "rejections": [
        "id bigserial PRIMARY KEY",
        "run_id text NOT NULL",
        "league text NOT NULL",
        "file text NOT NULL",
        "row_number integer",
        "field text",
        "reason text NOT NULL",
        "detail text",
    ],
    "snapshots": [
        "id bigserial PRIMARY KEY",
        "run_id text NOT NULL",
        "league text NOT NULL",
        f"taken_at {TS}",
        "counts jsonb",
    ],
    "snapshot_associations": [
        f"snapshot_id bigint NOT NULL REFERENCES {ETL}.snapshots(id) ON DELETE CASCADE",
        "user_id integer NOT NULL",
        "tenniscores_player_id text NOT NULL",
        "is_primary boolean",
        "created_at timestamptz",
    ],
    "snapshot_contexts": [
        f"snapshot_id bigint NOT NULL REFERENCES {ETL}.snapshots(id) ON DELETE CASCADE",
        "user_id integer NOT NULL",
        "email text",
        "league_context integer",
        "league_string_id text",
        "active_league_id integer",
        "active_team_id integer",
    ],
    "snapshot_availability": [
        f"snapshot_id bigint NOT NULL REFERENCES {ETL}.snapshots(id) ON DELETE CASCADE",
        "availability_id integer NOT NULL",
        "user_id integer",
        "fingerprint text NOT NULL",
        "updated_at timestamptz",
    ],
    "repairs": [
        "id bigserial PRIMARY KEY",
        "source text NOT NULL",
        "kind text NOT NULL",
        "user_id integer",
        "league text",
        "before_value text",
        "after_value text",
        "confidence integer",
        "reason text",
        f"created_at {TS}",
    ],
}

# Staging: unlogged scratch tables. Every row carries the run that staged it, so two runs never read
# each other's rows; a run's rows are removed after its publish.
STAGING_TABLES: dict[str, list[str]] = {
    "stg_players": [
        "run_id text NOT NULL",
        "league text NOT NULL",
        "row_number integer",
        "tenniscores_player_id text",
        "first_name text",
        "last_name text",
        "club text",
        "series text",
        "team_name text",
        "pti numeric(10,2)",
        "wins integer",
        "losses integer",
        "win_percentage numeric(5,2)",
        "captain_status text",
        "career_wins integer",
        "career_losses integer",
    ],
    "stg_teams": ["run_id text NOT NULL", "league text NOT NULL", "team_name text", "club text", "series text"],
    "stg_matches": [
        "run_id text NOT NULL",
        "league text NOT NULL",
        "row_number integer",
        "tenniscores_match_id text",
        "match_date date",
        "home_team text",
        "away_team text",
        "home_player_1_id text",
        "home_player_2_id text",
        "away_player_1_id text",
        "away_player_2_id text",
        "scores text",
        "winner text",
    ],
    "stg_schedule": [
        "run_id text NOT NULL",
        "league text NOT NULL",
        "row_number integer",
        "match_date date",
        "match_time time",
        "home_team text",
        "away_team text",
        "location text",
    ],
    "stg_series_stats": [
        "run_id text NOT NULL",
        "league text NOT NULL",
        "row_number integer",
        "series text",
        "team text",
        "points integer",
        *(f"{count} integer" for count in SERIES_STATS_COUNTS),
    ],
    "stg_player_history": [
        "run_id text NOT NULL",
        "league text NOT NULL",
        "row_number integer",
        "tenniscores_player_id text",
        "series text",
        "date date",
        "end_pti numeric(10,2)",
    ],
}

ETL_INDEXES = {
    "ix_import_runs_league": "import_runs (league, started_at)",
    "ix_import_runs_run": "import_runs (run_id)",
    "ix_rejections_run": "rejections (run_id)",
    "ix_snapshots_league": "snapshots (league, id)",
    "ix_snapshot_associations": "snapshot_associations (snapshot_id)",
    "ix_snapshot_contexts": "snapshot_contexts (snapshot_id)",
    "ix_snapshot_availability": "snapshot_availability (snapshot_id, availability_id)",
    "ix_repairs_user": "repairs (user_id, created_at)",
}

# The tables the league-context repair may UPDATE, as the trigger's SQL list (from the guard's constant).
_context_repair_tables = ", ".join(f"'{t}'" for t in sorted(CONTEXT_REPAIR_TABLES))

ETL_FUNCTIONS = {
    # One definition of "the same team" ('Glen Ellyn - 1' is 'Glen Ellyn 1'), for the publish's
    # joins and the team lookup index; normalize.team_key is its Python twin (tested against it).
    "team_key": f"""
CREATE OR REPLACE FUNCTION {ETL}.team_key(name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
  SELECT lower(regexp_replace(regexp_replace(btrim(name), '\\s+-\\s+Series\\s+\\S+$', '', 'i'), '[\\s-]+', ' ', 'g'))
$fn$""",
    # Database-side guard: while an import publishes (rally.publishing = 'on' in its transaction),
    # any UPDATE, DELETE or TRUNCATE of a protected table fails, whatever code issued it. The
    # league-context repair may update the context tables only when it says so.
    "guard_protected": f"""
CREATE OR REPLACE FUNCTION {ETL}.guard_protected() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  IF coalesce(current_setting('rally.publishing', true), '') = 'on'
     AND NOT (TG_OP = 'UPDATE' AND TG_TABLE_NAME IN ({_context_repair_tables})
              AND coalesce(current_setting('rally.context_repair', true), '') = 'on') THEN
    RAISE EXCEPTION 'rally import guard: % of protected table % refused', TG_OP, TG_TABLE_NAME
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NULL;
END
$fn$""",
}

# --- the additive extras on the app's tables ------------------------------------------------

ROW_HASH_COLUMN = "etl_row_hash"  # nullable: rows the app (or the old importer) wrote have none
# Plain (never unique) indexes for the ETL's lookups: name -> (table, definition).
APP_INDEXES = {
    **{f"rally_etl_{t}_row": (t, f"(league_id, {ROW_HASH_COLUMN})") for t in FACT_TABLES},
    "rally_etl_teams_key": ("teams", f"(league_id, {ETL}.team_key(team_name))"),
    "rally_etl_players_tenniscores_id": ("players", "(tenniscores_player_id)"),
    # A league's players: every publish step and churn rehearsal reads them by league, and the app's
    # unique key leads with the player id, so without this each league's import scans every league's.
    # In the publish's identity order: the diff sample's ordered anti join reads one league's entries.
    "rally_etl_players_league": ("players", "(league_id, tenniscores_player_id, club_id, series_id)"),
    # The app's practice rows, which the orphan check reads on every league's import: without this
    # it scans every league's schedule. Its predicate is the check's, word for word (the planner
    # uses a partial index only for a query that says the same).
    "rally_etl_schedule_practice": ("schedule", f"(home_team_id, away_team_id) WHERE {PRACTICE_ROWS}"),
    "rally_etl_upa_player": ("user_player_associations", "(tenniscores_player_id)"),
    "rally_etl_availability_player": ("player_availability", "(player_id)"),
}


def guard_trigger_name(table: str) -> str:
    return f"rally_guard_{table}"


def guard_trigger(table: str) -> str:
    return (
        f"CREATE TRIGGER {guard_trigger_name(table)} BEFORE UPDATE OR DELETE OR TRUNCATE ON public.{table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {ETL}.guard_protected()"
    )


GUARDED_TABLES = PROTECTED_TABLES  # guarded wherever the app has them
