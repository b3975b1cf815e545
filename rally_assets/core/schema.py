"""The Rally schema (real table and column names, rally-domain.md §1) plus `etl_*` bookkeeping.

`init_db` works on an empty database and on the app's existing one: it only ever adds what is
missing (tables, columns, natural-key unique indexes, the guard trigger) and never drops or
rewrites data. Running it twice changes nothing.
"""

from __future__ import annotations

import psycopg

from rally_assets.core.constants import PROTECTED_TABLES, SERIES_STATS_COUNTS, STAGING_SCHEMA
from rally_assets.core.protection.guard import CONTEXT_REPAIR_TABLES

TS = "timestamptz DEFAULT now()"

# table -> column definitions. The first column is the primary key; every other column is also
# added with ADD COLUMN IF NOT EXISTS, so an older app database gains what it lacks.
TABLES: dict[str, list[str]] = {
    # --- reference tables owned by the ETL (upserted by natural key, never deleted) ---
    "leagues": [
        "id serial PRIMARY KEY",
        "league_id varchar(255) NOT NULL",
        "league_name varchar(255) NOT NULL",
        "league_url varchar(512)",
        f"created_at {TS}",
        f"updated_at {TS}",
    ],
    "clubs": [
        "id serial PRIMARY KEY",
        "name varchar(255) NOT NULL",
        "club_address varchar(500)",
        "logo_filename varchar(500)",
        f"created_at {TS}",
        f"updated_at {TS}",
    ],
    # Series are scoped per league (rally-domain.md §7 item 29): the same label in two leagues is two rows.
    "series": [
        "id serial PRIMARY KEY",
        "name varchar(255) NOT NULL",
        "display_name varchar(255) NOT NULL",
        "league_id integer REFERENCES leagues(id)",
        f"created_at {TS}",
        f"updated_at {TS}",
    ],
    "club_leagues": [
        "id serial PRIMARY KEY",
        "club_id integer NOT NULL REFERENCES clubs(id)",
        "league_id integer NOT NULL REFERENCES leagues(id)",
        f"created_at {TS}",
    ],
    "series_leagues": [
        "id serial PRIMARY KEY",
        "series_id integer NOT NULL REFERENCES series(id)",
        "league_id integer NOT NULL REFERENCES leagues(id)",
        f"created_at {TS}",
    ],
    # team_key is derived from team_name by rally_team_key(), so "Glen Ellyn - 1", "Glen Ellyn 1" and
    # "Glen Ellyn 1 - Series 1" are one team whatever form a given scrape uses.
    "teams": [
        "id serial PRIMARY KEY",
        "club_id integer NOT NULL REFERENCES clubs(id)",
        "series_id integer NOT NULL REFERENCES series(id)",
        "league_id integer NOT NULL REFERENCES leagues(id)",
        "team_name varchar(255) NOT NULL",
        "team_alias varchar(255)",
        "external_team_id varchar(255)",
        "is_active boolean DEFAULT true",
        "display_name varchar(255) NOT NULL",
        f"created_at {TS}",
        f"updated_at {TS}",
        "team_key text GENERATED ALWAYS AS (rally_team_key(team_name)) STORED",
    ],
    "players": [
        "id serial PRIMARY KEY",
        "tenniscores_player_id varchar(255) NOT NULL",
        "first_name varchar(255)",
        "last_name varchar(255) NOT NULL",
        "email varchar(255)",
        "league_id integer NOT NULL REFERENCES leagues(id)",
        "club_id integer NOT NULL REFERENCES clubs(id)",
        "series_id integer NOT NULL REFERENCES series(id)",
        "team_id integer REFERENCES teams(id)",
        "pti numeric(10,2)",
        "wins integer DEFAULT 0",
        "losses integer DEFAULT 0",
        "win_percentage numeric(5,2)",
        "captain_status varchar(50)",
        "career_wins integer DEFAULT 0",
        "career_losses integer DEFAULT 0",
        "career_matches integer DEFAULT 0",
        "career_win_percentage numeric(5,2)",
        "is_active boolean DEFAULT true",
        f"created_at {TS}",
        f"updated_at {TS}",
    ],
    # --- fact tables owned by the ETL: replaced per league as a row diff keyed by etl_row_hash ---
    "match_scores": [
        "id serial PRIMARY KEY",
        "league_id integer REFERENCES leagues(id)",
        "match_date date",
        "home_team text",
        "away_team text",
        "home_team_id integer REFERENCES teams(id)",
        "away_team_id integer REFERENCES teams(id)",
        "home_player_1_id text",
        "home_player_2_id text",
        "away_player_1_id text",
        "away_player_2_id text",
        "scores text",
        "winner text CHECK (winner IN ('home', 'away'))",
        f"created_at {TS}",
        "tenniscores_match_id text",
        "etl_row_hash text",
    ],
    # Holds app-created practice times too (etl_row_hash IS NULL): the ETL never touches those.
    "schedule": [
        "id serial PRIMARY KEY",
        "league_id integer REFERENCES leagues(id)",
        "match_date date",
        "match_time time",
        "home_team text",
        "away_team text",
        "home_team_id integer REFERENCES teams(id)",
        "away_team_id integer REFERENCES teams(id)",
        "location text",
        f"created_at {TS}",
        "etl_row_hash text",
    ],
    "series_stats": [
        "id serial PRIMARY KEY",
        "league_id integer REFERENCES leagues(id)",
        "series varchar(255)",
        "team varchar(255)",
        "team_id integer REFERENCES teams(id)",
        "series_id integer REFERENCES series(id)",
        "points integer",
        *(f"{count} integer" for count in SERIES_STATS_COUNTS),
        f"created_at {TS}",
        "etl_row_hash text",
    ],
    "player_history": [
        "id serial PRIMARY KEY",
        "player_id integer REFERENCES players(id)",
        "league_id integer REFERENCES leagues(id)",
        "series varchar(255)",
        "date date",
        "end_pti numeric(10,2)",
        f"created_at {TS}",
        "etl_row_hash text",
    ],
    # --- user-owned tables: protected, never cleared; they point into the ETL tables ---
    "users": [
        "id serial PRIMARY KEY",
        "email varchar(255) NOT NULL",
        "password_hash varchar(255) NOT NULL",
        "first_name varchar(255)",
        "last_name varchar(255)",
        "club_automation_password varchar(255)",
        "is_admin boolean NOT NULL DEFAULT false",
        "ad_deuce_preference varchar(50)",
        "dominant_hand varchar(20)",
        "league_context integer",
        "league_id integer",
        "tenniscores_player_id varchar(255)",
        "phone_number varchar(20)",
        "has_temporary_password boolean DEFAULT false",
        "temporary_password_set_at timestamptz",
        f"created_at {TS}",
        "last_login timestamptz",
    ],
    "user_player_associations": [
        "user_id integer NOT NULL REFERENCES users(id)",
        "tenniscores_player_id varchar(255) NOT NULL",
        "is_primary boolean DEFAULT false",
        f"created_at {TS}",
    ],
    "player_availability": [
        "id serial PRIMARY KEY",
        "user_id integer REFERENCES users(id)",
        "player_id integer",
        "player_name varchar(255) NOT NULL",
        "series_id integer NOT NULL",
        "match_date timestamptz NOT NULL",
        "availability_status integer NOT NULL DEFAULT 3 CHECK (availability_status IN (1, 2, 3))",
        "notes text",
        f"updated_at {TS}",
    ],
    "user_contexts": [
        "user_id integer PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE",
        "active_league_id integer REFERENCES leagues(id)",
        "active_team_id integer REFERENCES teams(id)",
        f"last_updated {TS}",
    ],
    "polls": [
        "id serial PRIMARY KEY",
        "team_id integer REFERENCES teams(id)",
        "created_by integer REFERENCES users(id)",
        "question text NOT NULL",
        f"created_at {TS}",
    ],
    "poll_choices": [
        "id serial PRIMARY KEY",
        "poll_id integer REFERENCES polls(id) ON DELETE CASCADE",
        "choice_text text NOT NULL",
    ],
    "poll_responses": [
        "id serial PRIMARY KEY",
        "poll_id integer REFERENCES polls(id) ON DELETE CASCADE",
        "choice_id integer REFERENCES poll_choices(id)",
        "player_id integer",
        f"responded_at {TS}",
    ],
    "captain_messages": [
        "id serial PRIMARY KEY",
        "team_id integer NOT NULL REFERENCES teams(id)",
        "captain_user_id integer NOT NULL REFERENCES users(id)",
        "message text NOT NULL",
        f"created_at {TS}",
    ],
    # --- ETL bookkeeping ---
    "etl_import_runs": [
        "id bigserial PRIMARY KEY",
        "run_id text NOT NULL",
        "league text NOT NULL",
        "status text NOT NULL",
        f"started_at {TS}",
        "finished_at timestamptz",
        "report jsonb",
    ],
    "etl_rejections": [
        "id bigserial PRIMARY KEY",
        "run_id text NOT NULL",
        "league text NOT NULL",
        "file text NOT NULL",
        "row_number integer",
        "field text",
        "reason text NOT NULL",
        "detail text",
    ],
    # Snapshots of user data, one per import run, taken before its publish; never overwritten.
    "etl_snapshots": [
        "id bigserial PRIMARY KEY",
        "run_id text NOT NULL",
        "league text NOT NULL",
        f"taken_at {TS}",
        "counts jsonb",
    ],
    "etl_snapshot_associations": [
        "snapshot_id bigint NOT NULL REFERENCES etl_snapshots(id) ON DELETE CASCADE",
        "user_id integer NOT NULL",
        "tenniscores_player_id text NOT NULL",
        "is_primary boolean",
        "created_at timestamptz",
    ],
    "etl_snapshot_contexts": [
        "snapshot_id bigint NOT NULL REFERENCES etl_snapshots(id) ON DELETE CASCADE",
        "user_id integer NOT NULL",
        "email text",
        "league_context integer",
        "league_string_id text",
        "active_league_id integer",
        "active_team_id integer",
    ],
    "etl_snapshot_availability": [
        "snapshot_id bigint NOT NULL REFERENCES etl_snapshots(id) ON DELETE CASCADE",
        "availability_id integer NOT NULL",
        "user_id integer",
        "fingerprint text NOT NULL",
        "updated_at timestamptz",
    ],
    # What repairs did, and why: discovery links, carried links, context fixes, availability relinks.
    "etl_repairs": [
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

# Staging: unlogged scratch tables outside the live schema. Every row carries the run that staged
# it, so two runs never read each other's rows; a run's rows are removed after its publish.
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

# How an older database fills a NOT NULL column it did not have (others are added nullable).
BACKFILL = {("series", "display_name"): "name", ("teams", "display_name"): "team_name"}

# Composite primary keys that cannot be written inline.
TABLE_CONSTRAINTS = {
    "user_player_associations": ["PRIMARY KEY (user_id, tenniscores_player_id)"],
}

# Natural keys: upserts by ON CONFLICT rely on these.
UNIQUE_INDEXES = {
    "uq_leagues_league_id": "leagues (league_id)",
    "uq_clubs_name": "clubs (name)",
    "uq_series_league_name": "series (league_id, name)",
    "uq_club_leagues": "club_leagues (club_id, league_id)",
    "uq_series_leagues": "series_leagues (series_id, league_id)",
    "uq_teams_league_key": "teams (league_id, team_key)",
    "uq_players_natural_key": "players (tenniscores_player_id, league_id, club_id, series_id)",
    "uq_match_scores_row": "match_scores (league_id, etl_row_hash)",
    "uq_schedule_row": "schedule (league_id, etl_row_hash)",
    "uq_series_stats_row": "series_stats (league_id, etl_row_hash)",
    "uq_player_history_row": "player_history (league_id, etl_row_hash)",
    "uq_users_email": "users (email)",
    "unique_tenniscores_player_id": "user_player_associations (tenniscores_player_id)",
    "idx_unique_user_date_availability": "player_availability (user_id, match_date) WHERE user_id IS NOT NULL",
}

INDEXES = {
    "ix_players_league_active": "players (league_id, is_active)",
    "ix_players_tenniscores_id": "players (tenniscores_player_id)",
    "ix_etl_import_runs_league": "etl_import_runs (league, started_at)",
    "ix_etl_rejections_run": "etl_rejections (run_id)",
    "ix_availability_player": "player_availability (player_id)",
    "ix_etl_snapshots_league": "etl_snapshots (league, id)",
    "ix_snapshot_associations": "etl_snapshot_associations (snapshot_id)",
    "ix_snapshot_contexts": "etl_snapshot_contexts (snapshot_id)",
    "ix_snapshot_availability": "etl_snapshot_availability (snapshot_id, availability_id)",
    "ix_etl_repairs_user": "etl_repairs (user_id, created_at)",
    "ix_upa_user": "user_player_associations (user_id)",
}

# The tables the league-context repair may UPDATE, as the trigger's SQL list (from the guard's constant).
_context_repair_tables = ", ".join(f"'{t}'" for t in sorted(CONTEXT_REPAIR_TABLES))

FUNCTIONS = {
    # One definition of "the same team", shared by the generated column and the publish joins.
    "rally_team_key": """
CREATE OR REPLACE FUNCTION rally_team_key(name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
  SELECT lower(regexp_replace(regexp_replace(btrim(name), '\\s+-\\s+Series\\s+\\S+$', '', 'i'), '[\\s-]+', ' ', 'g'))
$fn$""",
    # Database-side guard: while an import publishes (rally.publishing = 'on' in its transaction),
    # any UPDATE, DELETE or TRUNCATE of a protected table fails, whatever code issued it. The
    # league-context repair may update users.league_context / user_contexts only when it says so.
    "rally_guard_protected": f"""
CREATE OR REPLACE FUNCTION rally_guard_protected() RETURNS trigger
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


def _column_name(definition: str) -> str:
    return definition.split()[0]


def _function_body_differs(conn: psycopg.Connection, name: str, ddl: str) -> bool:
    row = conn.execute("SELECT prosrc FROM pg_proc WHERE proname = %s", (name,)).fetchone()
    if row is None:
        return True
    body = ddl.split("$fn$")[1]
    return row[0].strip() != body.strip()


def _statements(conn: psycopg.Connection) -> list[str]:
    """What is missing, as DDL. Empty on a database that is already complete."""
    stmts: list[str] = []
    for name, ddl in FUNCTIONS.items():
        if _function_body_differs(conn, name, ddl):
            stmts.append(ddl)
    existing_tables = {
        r[0]
        for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    }
    for table, columns in TABLES.items():
        if table not in existing_tables:
            body = ",\n  ".join(columns + TABLE_CONSTRAINTS.get(table, []))
            stmts.append(f"CREATE TABLE {table} (\n  {body}\n)")
            continue
        have = {
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s",
                (table,),
            ).fetchall()
        }
        for col in columns:
            name = _column_name(col)
            if name in have or "PRIMARY KEY" in col:
                continue
            if "NOT NULL" in col and "DEFAULT" not in col:
                # Existing rows would violate NOT NULL: add it nullable, fill what can be derived,
                # and only then require it (e.g. series.display_name = name, added 07-03 in the app).
                stmts.append(f"ALTER TABLE {table} ADD COLUMN {col.replace(' NOT NULL', '')}")
                if (table, name) in BACKFILL:
                    stmts.append(f"UPDATE {table} SET {name} = {BACKFILL[(table, name)]} WHERE {name} IS NULL")
                    stmts.append(f"ALTER TABLE {table} ALTER COLUMN {name} SET NOT NULL")
            else:
                stmts.append(f"ALTER TABLE {table} ADD COLUMN {col}")
    existing_indexes = {
        r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'").fetchall()
    }
    for name, target in UNIQUE_INDEXES.items():
        if name not in existing_indexes:
            stmts.append(f"CREATE UNIQUE INDEX {name} ON {target}")
    for name, target in INDEXES.items():
        if name not in existing_indexes:
            stmts.append(f"CREATE INDEX {name} ON {target}")
    existing_triggers = {r[0] for r in conn.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal").fetchall()}
    for table in PROTECTED_TABLES:
        trig = f"rally_guard_{table}"
        if trig not in existing_triggers:
            stmts.append(
                f"CREATE TRIGGER {trig} BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION rally_guard_protected()"
            )
    if conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (STAGING_SCHEMA,)).fetchone() is None:
        stmts.append(f"CREATE SCHEMA {STAGING_SCHEMA}")
    staged = {
        r[0]
        for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (STAGING_SCHEMA,)
        ).fetchall()
    }
    for table, columns in STAGING_TABLES.items():
        if table not in staged:
            stmts.append(f"CREATE UNLOGGED TABLE {STAGING_SCHEMA}.{table} ({', '.join(columns)})")
            stmts.append(f"CREATE INDEX ix_{table}_run ON {STAGING_SCHEMA}.{table} (run_id)")
    return stmts


def init_db(conn: psycopg.Connection) -> list[str]:
    """Create what is missing, in one transaction; return the statements that were run."""
    with conn.transaction():
        # One init at a time: two processes racing on CREATE TABLE would otherwise collide.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('rally_init_db'))")
        stmts = _statements(conn)
        for stmt in stmts:
            conn.execute(stmt)
    return stmts


def missing_schema(conn: psycopg.Connection) -> list[str]:
    """The DDL init_db would run; empty when the schema is complete."""
    with conn.transaction():
        return _statements(conn)
