"""The repairs an operator (or the repair job) runs: one function each, a dry run for every one,
and `user_id` to touch one user only. The same functions back the CLI and Dagster."""

from __future__ import annotations

import psycopg

from rally_assets.core.errors import UnknownUserError
from rally_assets.core.users.contexts import fix_league_contexts, plan_context_fixes
from rally_assets.core.users.discovery import carry_links, discover_associations


def user_id_for(conn: psycopg.Connection, email: str | None) -> int | None:
    """The id of the user with this email (case-insensitive); None for no email; UnknownUserError if none."""
    if email is None:
        return None
    row = conn.execute("SELECT id FROM users WHERE lower(email) = lower(%s) ORDER BY id LIMIT 1", (email,)).fetchone()
    if row is None:
        raise UnknownUserError(f"no user with email {email!r}")
    return row[0]


def contexts_after_links(conn: psycopg.Connection, links: list[dict], *, dry_run: bool, source: str) -> list[dict]:
    """Repair the league contexts of the users just linked (only theirs). For a dry run the links are
    written in a transaction that is rolled back, so the plan shows exactly what the real run would do."""
    users = sorted({x["user_id"] for x in links})
    if not users:
        return []
    if not dry_run:
        return fix_league_contexts(conn, user_ids=users, source=source)
    planned: list[dict] = []
    with conn.transaction():
        conn.execute(
            """INSERT INTO user_player_associations (user_id, tenniscores_player_id)
            SELECT * FROM unnest(%s::integer[], %s::text[]) ON CONFLICT DO NOTHING""",
            ([x["user_id"] for x in links], [x["tenniscores_player_id"] for x in links]),
        )
        planned = plan_context_fixes(conn, user_ids=users)
        raise psycopg.Rollback()
    return planned


def discover(
    conn: psycopg.Connection, *, limit: int, user_id: int | None = None, dry_run: bool = False, source: str = "cli"
) -> dict:
    """Discovery, then the contexts of the users it linked."""
    links = discover_associations(conn, limit=limit, user_id=user_id, dry_run=dry_run, source=source)
    return {"discovered": links, "contexts": contexts_after_links(conn, links, dry_run=dry_run, source=source)}


def re_associate(
    conn: psycopg.Connection,
    *,
    user_id: int | None = None,
    dry_run: bool = False,
    source: str = "cli",
    discovery_limit: int | None = None,
) -> dict:
    """Relink users whose players disappeared (carried to the same name, club, series), then discover
    missing links, then repair the contexts of the users linked. Never deletes an association."""
    carried, unmatched = [], []
    for (league_id,) in conn.execute("SELECT id FROM leagues ORDER BY id").fetchall():
        result = carry_links(conn, league_id, user_id=user_id, dry_run=dry_run, source=source)
        carried += result["carried"]
        unmatched += result["unmatched"]
    limit = discovery_limit or conn.execute("SELECT count(*) FROM users").fetchone()[0]
    # A dry run has not written the carried links, so discovery must not offer those players again.
    carried_ids = {c["tenniscores_player_id"] for c in carried}
    carried_users = {c["user_id"] for c in carried}
    discovered = [
        x
        for x in discover_associations(conn, limit=max(limit, 1), user_id=user_id, dry_run=dry_run, source=source)
        if not dry_run or (x["tenniscores_player_id"] not in carried_ids and x["user_id"] not in carried_users)
    ]
    contexts = contexts_after_links(conn, carried + discovered, dry_run=dry_run, source=source)
    return {"carried": carried, "unmatched": unmatched, "discovered": discovered, "contexts": contexts}
