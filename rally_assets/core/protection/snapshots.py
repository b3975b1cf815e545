"""Dated snapshots of what users own, taken by each import run before it publishes.

A snapshot is never overwritten: each run gets its own rows. Retention keeps the newest
`keep` per league, so the tables cannot grow without bound (rally-domain.md §7 item 11: the old
practice_times_backup reached 3.4 million rows). The availability snapshot is a fingerprint per
row (md5 of the whole row), enough to prove after the publish that no row was lost or changed.
"""

from __future__ import annotations

import psycopg

from rally_assets.core.policy import SNAPSHOT_KEEP
from rally_assets.core.schema.profile import AppSchemaProfile, read_profile

# A fingerprint of every column of a player_availability row.
AVAILABILITY_FINGERPRINT = "md5(a::text)"
# A changed row is the import's doing if its transaction wrote it, or if nobody stamped the change.
BY_IMPORT = "(coalesce(a.xmin::text::bigint = %(xid)s, false) OR a.updated_at IS NOT DISTINCT FROM s.updated_at)"


def take_snapshot(conn: psycopg.Connection, run_id: str, league: str, keep: int = SNAPSHOT_KEEP) -> dict:
    """Snapshot associations, league contexts (with the league's string id), user_contexts and
    availability fingerprints for this run; prune the league's older snapshots beyond `keep`."""
    with conn.transaction():
        snapshot_id = conn.execute(
            "INSERT INTO rally_etl.snapshots (run_id, league) VALUES (%s, %s) RETURNING id", (run_id, league)
        ).fetchone()[0]
        p = {"sid": snapshot_id}
        profile = read_profile(conn)
        is_primary = "is_primary" if profile.has("user_player_associations", "is_primary") else "NULL"
        associations = conn.execute(
            f"""INSERT INTO rally_etl.snapshot_associations (snapshot_id, user_id, tenniscores_player_id, is_primary, created_at)
            SELECT %(sid)s, user_id, tenniscores_player_id, {is_primary}, created_at FROM user_player_associations""",
            p,
        ).rowcount
        contexts = conn.execute(_contexts_snapshot_sql(profile), p).rowcount
        availability = conn.execute(
            f"""INSERT INTO rally_etl.snapshot_availability (snapshot_id, availability_id, user_id, fingerprint, updated_at)
            SELECT %(sid)s, a.id, a.user_id, {AVAILABILITY_FINGERPRINT}, a.updated_at FROM player_availability a""",
            p,
        ).rowcount
        counts = {"associations": associations, "users": contexts, "availability": availability}
        conn.execute(
            "UPDATE rally_etl.snapshots SET counts = %s WHERE id = %s", (psycopg.types.json.Jsonb(counts), snapshot_id)
        )
        pruned = conn.execute(
            """DELETE FROM rally_etl.snapshots WHERE league = %s AND id NOT IN (
                   SELECT id FROM rally_etl.snapshots WHERE league = %s ORDER BY id DESC LIMIT %s)""",
            (league, league, keep),
        ).rowcount
    return {"snapshot_id": snapshot_id, **counts, "snapshots_pruned": pruned}


def _contexts_snapshot_sql(profile: AppSchemaProfile) -> str:
    """Every user's league context (with the league's string id) and user_contexts, as this state holds them."""
    column = profile.context_column
    if profile.user_context_columns:
        league, team = profile.user_context_columns
        uc_values, uc_join = f"uc.{league}, uc.{team}", "LEFT JOIN user_contexts uc ON uc.user_id = u.id"
    else:
        uc_values, uc_join = "NULL::integer, NULL::integer", ""
    return f"""INSERT INTO rally_etl.snapshot_contexts
           (snapshot_id, user_id, email, league_context, league_string_id, active_league_id, active_team_id)
    SELECT %(sid)s, u.id, u.email, u.{column}, l.league_id, {uc_values}
    FROM users u LEFT JOIN leagues l ON l.id = u.{column} {uc_join}"""


def latest_snapshot(conn: psycopg.Connection, run_id: str, league: str) -> int | None:
    row = conn.execute(
        "SELECT max(id) FROM rally_etl.snapshots WHERE run_id = %s AND league = %s", (run_id, league)
    ).fetchone()
    return row[0] if row else None


def availability_changes(conn: psycopg.Connection, snapshot_id: int, import_xid: int | None = None) -> dict:
    """Compare player_availability now with the snapshot.

    lost: snapshot rows that no longer exist. changed_by_import: rows whose content changed and that
    were written by the import's own transaction (xmin = `import_xid`), or whose updated_at did not
    move (the app always stamps its writes). changed_by_app: rows the app wrote since, which are fine.
    """
    row = conn.execute(
        f"""SELECT
               (SELECT count(*) FROM rally_etl.snapshot_availability WHERE snapshot_id = %(sid)s),
               (SELECT count(*) FROM player_availability),
               count(*) FILTER (WHERE a.id IS NULL),
               count(*) FILTER (WHERE a.id IS NOT NULL AND {AVAILABILITY_FINGERPRINT} <> s.fingerprint AND {BY_IMPORT}),
               count(*) FILTER (WHERE a.id IS NOT NULL AND {AVAILABILITY_FINGERPRINT} <> s.fingerprint AND NOT {BY_IMPORT}),
               coalesce(array_agg(s.availability_id ORDER BY s.availability_id) FILTER (
                   WHERE a.id IS NULL OR ({AVAILABILITY_FINGERPRINT} <> s.fingerprint AND {BY_IMPORT})), '{{}}')
        FROM rally_etl.snapshot_availability s LEFT JOIN player_availability a ON a.id = s.availability_id
        WHERE s.snapshot_id = %(sid)s""",
        {"sid": snapshot_id, "xid": import_xid},
    ).fetchone()
    before, after, lost, changed_by_import, changed_by_app, offending = row
    return {
        "rows_before": before,
        "rows_after": after,
        "lost": lost,
        "changed_by_import": changed_by_import,
        "changed_by_app": changed_by_app,
        "offending_ids": list(offending[:20]),
    }


def associations_missing(conn: psycopg.Connection, snapshot_id: int) -> dict:
    """Snapshot associations that are no longer in user_player_associations."""
    before, missing, sample = conn.execute(
        """SELECT count(*), count(*) FILTER (WHERE a.user_id IS NULL),
                  coalesce(array_agg(s.user_id || ':' || s.tenniscores_player_id) FILTER (WHERE a.user_id IS NULL), '{}')
        FROM rally_etl.snapshot_associations s
        LEFT JOIN user_player_associations a
               ON a.user_id = s.user_id AND a.tenniscores_player_id = s.tenniscores_player_id
        WHERE s.snapshot_id = %s""",
        (snapshot_id,),
    ).fetchone()
    now = conn.execute("SELECT count(*) FROM user_player_associations").fetchone()[0]
    return {
        "associations_before": before,
        "associations_after": now,
        "missing": missing,
        "missing_sample": list(sample[:20]),
    }
