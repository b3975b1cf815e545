"""Staged league -> live tables, in ONE transaction (design.md invariants 2 and 3).

Reference tables are upserted by natural key: a row whose values did not change is not touched
at all (no new xmin), so ids never move and an identical re-import writes nothing. Fact tables
are replaced per league as a row diff keyed by `etl_row_hash` (a hash of the resolved row plus
its occurrence number): rows that disappeared are deleted, new ones inserted, the rest left
alone. App-created schedule rows (practice times) have no hash and are never considered.
Players missing from the import are marked inactive, never deleted.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import psycopg

from rally_assets.core.constants import KNOWN_LEAGUES, STAGING_SCHEMA
from rally_assets.core.errors import DatabaseUnavailable, RallyError
from rally_assets.core.protection.guard import arm_database_guard, guarded_execute
from rally_assets.core.staging import clear_run
from rally_assets.core.users.contexts import fix_league_contexts
from rally_assets.core.users.discovery import carry_links
from rally_assets.tooling.faults import checkpoint

S = STAGING_SCHEMA
StepHook = Callable[[str], None]


def _x(conn: psycopg.Connection, sql: str, params: dict | None = None):
    return guarded_execute(conn, sql, params)


def _temp(conn: psycopg.Connection, name: str, select_sql: str, params: dict | None = None) -> None:
    """A temp table for this transaction. Not ANALYZEd: with nested loops off the plans are hash
    joins whatever the statistics say, and the planner sizes an unanalysed table from its pages."""
    _x(conn, f"CREATE TEMP TABLE {name} ON COMMIT DROP AS {select_sql}", params)


def _count(conn: psycopg.Connection, sql: str, params: dict) -> int:
    return len(_x(conn, sql, params).fetchall())


def _upsert_league(conn: psycopg.Connection, p: dict) -> int:
    name, url = KNOWN_LEAGUES.get(p["league"], (p["league"], None))
    _x(
        conn,
        "INSERT INTO leagues (league_id, league_name, league_url) VALUES (%(league)s, %(name)s, %(url)s) "
        "ON CONFLICT (league_id) DO NOTHING",
        {**p, "name": name, "url": url},
    )
    return _x(conn, "SELECT id FROM leagues WHERE league_id = %(league)s", p).fetchone()[0]


def _upsert_clubs_and_series(conn: psycopg.Connection, p: dict) -> dict:
    # Clubs are global and matched case-insensitively ('LifeSport' is 'Lifesport').
    _temp(
        conn,
        "pub_club_names",
        f"""SELECT DISTINCT ON (lower(name)) name FROM (
            SELECT club AS name FROM {S}.stg_players WHERE run_id = %(run)s
            UNION ALL SELECT club FROM {S}.stg_teams WHERE run_id = %(run)s) s
        WHERE name IS NOT NULL ORDER BY lower(name), name""",
        p,
    )
    clubs_added = _count(
        conn,
        """INSERT INTO clubs (name) SELECT n.name FROM pub_club_names n
        WHERE NOT EXISTS (SELECT 1 FROM clubs c WHERE lower(c.name) = lower(n.name))
        ON CONFLICT (name) DO NOTHING RETURNING id""",
        p,
    )
    _temp(
        conn,
        "pub_clubs",
        """SELECT DISTINCT ON (lower(c.name)) lower(c.name) AS name_key, c.id
        FROM clubs c JOIN pub_club_names n ON lower(c.name) = lower(n.name) ORDER BY lower(c.name), c.id""",
    )
    _x(
        conn,
        "INSERT INTO club_leagues (club_id, league_id) SELECT id, %(lid)s FROM pub_clubs "
        "ON CONFLICT (club_id, league_id) DO NOTHING",
        p,
    )
    # display_name is set once, on insert: the app may rename it and an import never resets it.
    series_added = _count(
        conn,
        f"""INSERT INTO series (name, display_name, league_id)
        SELECT DISTINCT series, series, %(lid)s::integer FROM (
            SELECT series FROM {S}.stg_players WHERE run_id = %(run)s
            UNION SELECT series FROM {S}.stg_teams WHERE run_id = %(run)s) s
        WHERE series IS NOT NULL
        ON CONFLICT (league_id, name) DO NOTHING RETURNING id""",
        p,
    )
    _x(
        conn,
        "INSERT INTO series_leagues (series_id, league_id) SELECT id, league_id FROM series WHERE league_id = %(lid)s "
        "ON CONFLICT (series_id, league_id) DO NOTHING",
        p,
    )
    return {"clubs_added": clubs_added, "series_added": series_added}


def _upsert_teams(conn: psycopg.Connection, p: dict) -> dict:
    _temp(
        conn,
        "pub_teams",
        f"""SELECT DISTINCT ON (rally_team_key(t.team_name)) t.team_name, rally_team_key(t.team_name) AS team_key,
               c.id AS club_id, s.id AS series_id
        FROM {S}.stg_teams t
        JOIN pub_clubs c ON c.name_key = lower(t.club)
        JOIN series s ON s.league_id = %(lid)s AND s.name = t.series
        WHERE t.run_id = %(run)s ORDER BY rally_team_key(t.team_name), t.team_name""",
        p,
    )
    # A known team keeps its id and its name; only its club/series/active flag follow the import.
    rows = _x(
        conn,
        """INSERT INTO teams (club_id, series_id, league_id, team_name, display_name, is_active)
        SELECT club_id, series_id, %(lid)s, team_name, team_name, true FROM pub_teams
        ON CONFLICT (league_id, team_key) DO UPDATE
            SET club_id = EXCLUDED.club_id, series_id = EXCLUDED.series_id, is_active = true, updated_at = now()
            WHERE (teams.club_id, teams.series_id, teams.is_active)
                  IS DISTINCT FROM (EXCLUDED.club_id, EXCLUDED.series_id, true)
        RETURNING (xmax = 0) AS inserted""",
        p,
    ).fetchall()
    deactivated = _count(
        conn,
        """UPDATE teams SET is_active = false, updated_at = now()
        WHERE league_id = %(lid)s AND is_active IS NOT FALSE
          AND NOT EXISTS (SELECT 1 FROM pub_teams n WHERE n.team_key = teams.team_key) RETURNING id""",
        p,
    )
    # Every team name the run mentions -> its team id, the key computed once per distinct name:
    # rally_team_key() is two regular expressions, and the joins below would run it per row.
    _temp(
        conn,
        "pub_team_ids",
        f"""SELECT n.name, t.id AS team_id FROM (
            SELECT team_name AS name FROM {S}.stg_players WHERE run_id = %(run)s
            UNION SELECT home_team FROM {S}.stg_matches WHERE run_id = %(run)s
            UNION SELECT away_team FROM {S}.stg_matches WHERE run_id = %(run)s
            UNION SELECT home_team FROM {S}.stg_schedule WHERE run_id = %(run)s
            UNION SELECT away_team FROM {S}.stg_schedule WHERE run_id = %(run)s
            UNION SELECT team FROM {S}.stg_series_stats WHERE run_id = %(run)s) n
        JOIN teams t ON t.league_id = %(lid)s AND t.team_key = rally_team_key(n.name)""",
        p,
    )
    inserted = sum(1 for (ins,) in rows if ins)
    return {"teams_added": inserted, "teams_changed": len(rows) - inserted, "teams_deactivated": deactivated}


_PLAYER_VALUES = [
    "first_name",
    "last_name",
    "team_id",
    "pti",
    "wins",
    "losses",
    "win_percentage",
    "captain_status",
    "career_wins",
    "career_losses",
    "career_matches",
    "career_win_percentage",
]


def _upsert_players(conn: psycopg.Connection, p: dict) -> dict:
    _temp(
        conn,
        "pub_players",
        f"""SELECT DISTINCT ON (sp.tenniscores_player_id, c.id, s.id)
               sp.tenniscores_player_id, sp.first_name, sp.last_name, c.id AS club_id, s.id AS series_id,
               t.team_id, sp.pti, sp.wins, sp.losses, sp.win_percentage, sp.captain_status,
               sp.career_wins, sp.career_losses, sp.career_wins + sp.career_losses AS career_matches,
               CASE WHEN sp.career_wins + sp.career_losses > 0
                    THEN round(sp.career_wins * 100.0 / (sp.career_wins + sp.career_losses), 2) END
                   AS career_win_percentage
        FROM {S}.stg_players sp
        JOIN pub_clubs c ON c.name_key = lower(sp.club)
        JOIN series s ON s.league_id = %(lid)s AND s.name = sp.series
        LEFT JOIN pub_team_ids t ON t.name = sp.team_name
        WHERE sp.run_id = %(run)s
        ORDER BY sp.tenniscores_player_id, c.id, s.id, sp.row_number""",
        p,
    )
    moved = _x(
        conn,
        """SELECT count(*) FROM players o JOIN pub_players n
             ON (o.tenniscores_player_id, o.club_id, o.series_id) = (n.tenniscores_player_id, n.club_id, n.series_id)
        WHERE o.league_id = %(lid)s AND o.team_id IS DISTINCT FROM n.team_id AND o.team_id IS NOT NULL""",
        p,
    ).fetchone()[0]
    sample = _x(
        conn,
        """(SELECT 'added', n.tenniscores_player_id, concat_ws(' ', n.first_name, n.last_name), NULL::text,
                   (SELECT team_name FROM teams WHERE id = n.team_id)
            FROM pub_players n WHERE NOT EXISTS (
                SELECT 1 FROM players o WHERE o.league_id = %(lid)s
                AND (o.tenniscores_player_id, o.club_id, o.series_id) = (n.tenniscores_player_id, n.club_id, n.series_id))
            ORDER BY 2 LIMIT 5)
        UNION ALL
        (SELECT 'moved team', n.tenniscores_player_id, concat_ws(' ', n.first_name, n.last_name),
                (SELECT team_name FROM teams WHERE id = o.team_id), (SELECT team_name FROM teams WHERE id = n.team_id)
            FROM pub_players n JOIN players o ON o.league_id = %(lid)s
             AND (o.tenniscores_player_id, o.club_id, o.series_id) = (n.tenniscores_player_id, n.club_id, n.series_id)
            WHERE o.team_id IS DISTINCT FROM n.team_id AND o.team_id IS NOT NULL ORDER BY 2 LIMIT 5)
        UNION ALL
        (SELECT 'deactivated', o.tenniscores_player_id, concat_ws(' ', o.first_name, o.last_name),
                (SELECT team_name FROM teams WHERE id = o.team_id), NULL
            FROM players o WHERE o.league_id = %(lid)s AND o.is_active IS NOT FALSE AND NOT EXISTS (
                SELECT 1 FROM pub_players n
                WHERE (n.tenniscores_player_id, n.club_id, n.series_id) = (o.tenniscores_player_id, o.club_id, o.series_id))
            ORDER BY 2 LIMIT 5)""",
        p,
    ).fetchall()
    cols = ", ".join(_PLAYER_VALUES)
    # Career numbers come only with player_history; without it the known ones are kept.
    sets = ", ".join(
        f"{c} = coalesce(EXCLUDED.{c}, players.{c})" if c.startswith("career_") else f"{c} = EXCLUDED.{c}"
        for c in _PLAYER_VALUES
    )
    old = ", ".join(f"players.{c}" for c in _PLAYER_VALUES)
    new = ", ".join(
        f"coalesce(EXCLUDED.{c}, players.{c})" if c.startswith("career_") else f"EXCLUDED.{c}" for c in _PLAYER_VALUES
    )
    rows = _x(
        conn,
        f"""INSERT INTO players (tenniscores_player_id, league_id, club_id, series_id, {cols}, is_active)
        SELECT tenniscores_player_id, %(lid)s, club_id, series_id, {cols}, true FROM pub_players
        ON CONFLICT (tenniscores_player_id, league_id, club_id, series_id) DO UPDATE
            SET {sets}, is_active = true, updated_at = now()
            WHERE ({old}, players.is_active) IS DISTINCT FROM ({new}, true)
        RETURNING (xmax = 0) AS inserted""",
        p,
    ).fetchall()
    deactivated = _count(
        conn,
        """UPDATE players SET is_active = false, updated_at = now()
        WHERE league_id = %(lid)s AND is_active IS NOT FALSE
          AND NOT EXISTS (SELECT 1 FROM pub_players n
                          WHERE (n.tenniscores_player_id, n.club_id, n.series_id)
                              = (players.tenniscores_player_id, players.club_id, players.series_id))
        RETURNING id""",
        p,
    )
    inserted = sum(1 for (ins,) in rows if ins)
    return {
        "players_added": inserted,
        "players_changed": len(rows) - inserted,
        "players_moved_team": moved,
        "players_deactivated": deactivated,
        "diff_sample": [dict(zip(("change", "player_id", "name", "team_before", "team_after"), r)) for r in sample],
    }


# Fact tables: target -> (staging alias and joins, {column: expression}). league_id is implied.
_TEAM = "LEFT JOIN pub_team_ids {a} ON {a}.name = {col}"
FACTS: dict[str, tuple[str, dict[str, str]]] = {
    "match_scores": (
        f"{S}.stg_matches m " + _TEAM.format(a="ht", col="m.home_team") + " " + _TEAM.format(a="at", col="m.away_team"),
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
    ),
    "schedule": (
        f"{S}.stg_schedule m "
        + _TEAM.format(a="ht", col="m.home_team")
        + " "
        + _TEAM.format(a="at", col="m.away_team"),
        {
            "match_date": "m.match_date",
            "match_time": "m.match_time",
            "home_team": "m.home_team",
            "away_team": "m.away_team",
            "home_team_id": "ht.team_id",
            "away_team_id": "at.team_id",
            "location": "m.location",
        },
    ),
    "series_stats": (
        f"{S}.stg_series_stats m "
        + _TEAM.format(a="t", col="m.team")
        + " LEFT JOIN series se ON se.league_id = %(lid)s AND se.name = m.series",
        {
            "series": "m.series",
            "team": "m.team",
            "team_id": "t.team_id",
            "series_id": "se.id",
            "points": "m.points",
            **{
                c: f"m.{c}"
                for c in (
                    "matches_won",
                    "matches_lost",
                    "matches_tied",
                    "lines_won",
                    "lines_lost",
                    "lines_for",
                    "lines_ret",
                    "sets_won",
                    "sets_lost",
                    "games_won",
                    "games_lost",
                )
            },
        },
    ),
    # A history entry belongs to the player's row in the league (the active one, then the oldest).
    "player_history": (
        f"""{S}.stg_player_history m LEFT JOIN (
              SELECT DISTINCT ON (tenniscores_player_id) tenniscores_player_id, id FROM players
              WHERE league_id = %(lid)s ORDER BY tenniscores_player_id, is_active DESC, id) pl
            ON pl.tenniscores_player_id = m.tenniscores_player_id""",
        {"player_id": "pl.id", "series": "m.series", "date": "m.date", "end_pti": "m.end_pti"},
    ),
}


def _replace_facts(conn: psycopg.Connection, table: str, p: dict) -> dict:
    source, columns = FACTS[table]
    exprs = ", ".join(f"{e} AS {c}" for c, e in columns.items())
    row = "ROW(" + ", ".join(columns.values()) + ")::text"
    _temp(
        conn,
        f"pub_{table}",
        f"""SELECT {exprs},
               md5({row}) || '-' || row_number() OVER (PARTITION BY md5({row}) ORDER BY m.row_number) AS etl_row_hash
        FROM {source} WHERE m.run_id = %(run)s""",
        p,
    )
    deleted = _count(
        conn,
        f"""DELETE FROM {table} t WHERE t.league_id = %(lid)s AND t.etl_row_hash IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM pub_{table} n WHERE n.etl_row_hash = t.etl_row_hash) RETURNING t.id""",
        p,
    )
    cols = ", ".join(columns)
    inserted = _count(
        conn,
        f"""INSERT INTO {table} (league_id, {cols}, etl_row_hash)
        SELECT %(lid)s, {cols}, etl_row_hash FROM pub_{table} n
        WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.league_id = %(lid)s AND t.etl_row_hash = n.etl_row_hash)
        RETURNING id""",
        p,
    )
    return {f"{table}_deleted": deleted, f"{table}_inserted": inserted}


# A fact table is replaced only from a file that was there: a scrape that produced no
# match_history.json says nothing about the matches, so the published ones stay.
FACT_FILES = {
    "match_scores": "match_history.json",
    "schedule": "schedules.json",
    "series_stats": "series_stats.json",
    "player_history": "player_history.json",
}
PUBLISH_STEPS = ("league", "clubs_series", "teams", "players", *FACTS, "carry_links", "league_contexts", "record")


def _files_present(conn: psycopg.Connection, p: dict) -> set[str]:
    row = conn.execute(
        "SELECT report->'files' FROM etl_import_runs WHERE run_id = %(run)s AND league = %(league)s "
        "ORDER BY id DESC LIMIT 1",
        p,
    ).fetchone()
    files = (row[0] if row else None) or {}
    return {name for name, report in files.items() if report.get("present", True)}


def publish_league(
    conn: psycopg.Connection,
    league: str,
    run_id: str,
    *,
    on_step: StepHook | None = None,
    carry_user_links: bool = False,
) -> dict:
    """Publish the rows staged by `run_id` for `league`; returns what changed.

    Inside the same transaction, after the data: with `carry_user_links` (the operator's override
    of an id-scheme change) users stranded on deactivated players are linked to the matching new
    ones; then the league contexts of the league's users are repaired by the one rule.
    `on_step(name)` is called before each step (timings, and fault injection in tests).
    """

    def hook(step: str) -> None:
        checkpoint(f"publish:{step}")
        if on_step:
            on_step(step)

    p: dict = {"league": league, "run": run_id}
    staged = conn.execute(
        f"SELECT count(*) FROM {S}.stg_players WHERE run_id = %(run)s AND league = %(league)s", p
    ).fetchone()[0]
    if staged == 0:
        raise RallyError(f"nothing is staged for league {league} in run {run_id}: stage it before publishing")
    present = _files_present(conn, p)
    result: dict = {}
    try:
        _publish_transaction(conn, p, present, result, hook, carry_user_links)
    except psycopg.OperationalError as exc:
        reason = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or type(exc).__name__
        raise DatabaseUnavailable(
            f"lost the database connection while publishing {league} ({reason}); nothing was committed, run the import again"
        ) from exc
    checkpoint("publish:after_commit")
    clear_run(conn, run_id)
    return result


def _publish_transaction(
    conn: psycopg.Connection, p: dict, present: set[str], result: dict, hook, carry_user_links: bool
) -> None:
    run_id = p["run"]
    with conn.transaction():
        arm_database_guard(conn)
        # Every statement below is a bulk set operation; row estimates for rows written earlier in
        # this same transaction are stale, and a nested loop over them costs seconds. Hash joins win.
        conn.execute("SET LOCAL enable_nestloop = off")
        # With nested loops off the cost estimates grow past jit_above_cost, and compiling each
        # statement costs more than running it (a second per statement on import_2).
        conn.execute("SET LOCAL jit = off")
        # One publish per league at a time; a second one waits here for the first to commit.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('rally_publish'), hashtext(%(league)s))", p)
        # The publish's transaction id: a user row it wrote carries it as xmin, however it was stamped.
        result["xid"] = str(conn.execute("SELECT txid_current() % 4294967296").fetchone()[0])
        hook("league")
        p["lid"] = _upsert_league(conn, p)
        hook("clubs_series")
        result.update(_upsert_clubs_and_series(conn, p))
        hook("teams")
        result.update(_upsert_teams(conn, p))
        hook("players")
        result.update(_upsert_players(conn, p))
        for table in FACTS:
            hook(table)
            if FACT_FILES[table] in present:
                result.update(_replace_facts(conn, table, p))
            else:
                result[f"{table}_kept"] = f"{FACT_FILES[table]} absent: published rows kept"
        # The user-side steps look up few rows through indexes, where nested loops are the right plan.
        conn.execute("SET LOCAL enable_nestloop = on")
        hook("carry_links")
        if carry_user_links:
            carried = carry_links(conn, p["lid"], source=f"run:{run_id}")
            result.update({k: v for k, v in carried.items() if k not in ("carried", "unmatched")})
            result["links_unmatched_list"] = carried["unmatched"][:200]
        hook("league_contexts")
        fixes = fix_league_contexts(conn, league_id=p["lid"], source=f"run:{run_id}")
        result["contexts_fixed"] = len(fixes)
        result["contexts_fixed_by_reason"] = {
            r: sum(1 for f in fixes if f["reason"] == r) for r in {f["reason"] for f in fixes}
        }
        hook("record")
        _x(
            conn,
            """UPDATE etl_import_runs SET status = 'published', finished_at = now(),
                   report = coalesce(report, '{}'::jsonb) || jsonb_build_object('publish', %(result)s::jsonb)
            WHERE run_id = %(run)s AND league = %(league)s""",
            {**p, "result": json.dumps(result, default=str)},
        )


def mark_failed(conn: psycopg.Connection, league: str, run_id: str, reason: str) -> None:
    with conn.transaction():
        conn.execute(
            """UPDATE etl_import_runs SET status = 'failed', finished_at = now(),
                   report = coalesce(report, '{}'::jsonb) || jsonb_build_object('error', %s::text)
            WHERE run_id = %s AND league = %s AND status <> 'published'""",
            (reason, run_id, league),
        )
