"""The repairs an operator (or the repair job) runs: one function each, a dry run for every one,
and `user_id` to touch one user only. The same functions back the CLI and Dagster."""

from __future__ import annotations

import psycopg

from rally_assets.contexts import fix_league_contexts, plan_context_fixes
from rally_assets.discovery import carry_links, discover_associations
from rally_assets.errors import UnknownUserError


def user_id_for(conn: psycopg.Connection, email: str | None) -> int | None:
    """The id of the user with this email (case-insensitive); None for no email; UnknownUserError if none."""
    if email is None:
        return None
    row = conn.execute("SELECT id FROM users WHERE lower(email) = lower(%s) ORDER BY id LIMIT 1", (email,)).fetchone()
    if row is None:
        raise UnknownUserError(f"no user with email {email!r}")
    return row[0]


def re_associate(
    conn: psycopg.Connection, *, user_id: int | None = None, dry_run: bool = False, source: str = "cli",
    discovery_limit: int | None = None,
) -> dict:
    """Relink users whose players disappeared (carry across by name, club, series), then discover
    missing links, then repair the contexts of the users touched. Never deletes an association."""
    carried, unmatched = [], []
    for (league_id,) in conn.execute("SELECT id FROM leagues ORDER BY id").fetchall():
        result = carry_links(conn, league_id, user_id=user_id, dry_run=dry_run, source=source)
        carried += result["carried"]
        unmatched += result["unmatched"]
    limit = discovery_limit or conn.execute("SELECT count(*) FROM users").fetchone()[0]
    discovered = discover_associations(conn, limit=max(limit, 1), user_id=user_id, dry_run=dry_run, source=source)
    if dry_run:
        contexts = plan_context_fixes(conn, user_id=user_id)
    else:
        contexts = fix_league_contexts(conn, user_id=user_id, source=source)
    return {"carried": carried, "unmatched": unmatched, "discovered": discovered, "contexts": contexts}
