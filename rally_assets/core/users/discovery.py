"""Linking users to players: discovery by name, and carrying links across an id-scheme change.

Both only ever INSERT associations (never delete or move one), never claim a player another user
holds (the UNIQUE on tenniscores_player_id backs that), and record what they did and why in
rally_etl.repairs. Discovery is stricter than the old service (rally-domain.md §4.5, §7 items 33-36):
one league at a time, exactly one candidate there, and a bounded number of users per run.
"""

from __future__ import annotations

import psycopg

from rally_assets.core.policy import DISCOVERY_LIMIT
from rally_assets.core.protection.guard import guarded_execute
from rally_assets.core.schema.profile import read_profile
from rally_assets.core.sql import load_sql
from rally_assets.tooling.faults import checkpoint

# First-name variants the app's discovery knew (rally-domain.md §4.5), both directions.
NAME_VARIANTS = {
    "william": ["bill", "billy", "will"],
    "robert": ["rob", "bob", "bobby", "ross"],
    "michael": ["mike", "mick"],
    "peter": ["pete"],
    "christopher": ["chris"],
    "matthew": ["matt"],
    "anthony": ["tony"],
    "elizabeth": ["liz", "beth", "betty"],
    "katherine": ["kate", "kathy", "katie"],
    "eric": ["erik"],
    "james": ["jim", "jimmy"],
    "gregory": ["greg", "gregg"],
}


def _variant_pairs() -> tuple[list[str], list[str]]:
    pairs = set()
    for name, variants in NAME_VARIANTS.items():
        group = [name, *variants]
        for a in group:
            for b in group:
                if a != b:
                    pairs.add((a, b))
    names, variants = zip(*sorted(pairs))
    return list(names), list(variants)


DISCOVERY_PLAN = load_sql(__name__, "discovery_plan.sql")


def discover_associations(
    conn: psycopg.Connection,
    *,
    limit: int = DISCOVERY_LIMIT,
    user_id: int | None = None,
    dry_run: bool = False,
    source: str = "cli",
) -> list[dict]:
    """Link users with fewer than 2 associations to unambiguous namesakes; return the links made (or planned)."""
    names, variants = _variant_pairs()
    with conn.transaction():
        rows = conn.execute(
            DISCOVERY_PLAN, {"user": user_id, "limit": limit, "names": names, "variants": variants}
        ).fetchall()
        links = [
            dict(zip(("user_id", "email", "league", "tenniscores_player_id", "confidence", "reason"), r)) for r in rows
        ]
        if dry_run or not links:
            return links
        _insert_links(conn, links, kind="discovery", source=source)
        checkpoint("discovery")
    return links


def _insert_links(conn: psycopg.Connection, links: list[dict], *, kind: str, source: str) -> None:
    params = {
        "users": [x["user_id"] for x in links],
        "players": [x["tenniscores_player_id"] for x in links],
        "leagues": [x["league"] for x in links],
        "confidence": [x.get("confidence") for x in links],
        "reasons": [x["reason"] for x in links],
        "before": [x.get("old_player_id") for x in links],
        "source": source,
        "kind": kind,
    }
    profile = read_profile(conn)
    extra = {"is_primary": "false", "created_at": "now()"}
    extra = {c: v for c, v in extra.items() if profile.has("user_player_associations", c)}
    guarded_execute(
        conn,
        f"""INSERT INTO user_player_associations (user_id, tenniscores_player_id{"".join(", " + c for c in extra)})
        SELECT u, p{"".join(", " + v for v in extra.values())} FROM unnest(%(users)s::integer[], %(players)s::text[]) AS x(u, p)
        ON CONFLICT DO NOTHING""",
        params,
    )
    guarded_execute(
        conn,
        """INSERT INTO rally_etl.repairs (source, kind, user_id, league, before_value, after_value, confidence, reason)
        SELECT %(source)s, %(kind)s, u, lg, b, p, c, r
        FROM unnest(%(users)s::integer[], %(leagues)s::text[], %(before)s::text[], %(players)s::text[],
                    %(confidence)s::integer[], %(reasons)s::text[]) AS x(u, lg, b, p, c, r)""",
        params,
    )


# Users whose links in a league all point at players that are no longer active, matched to the
# league's active unclaimed players by name, then club + series, club, or name alone; each tier
# must give exactly one player, and a player goes to one user only.
CARRY_PLAN = load_sql(__name__, "carry_plan.sql")

TIERS = {1: "same name, club and series", 2: "same name and club", 3: "same name"}


def carry_links(
    conn: psycopg.Connection, league_id: int, *, user_id: int | None = None, dry_run: bool = False, source: str = "cli"
) -> dict:
    """Carry links of users stranded on inactive players of `league_id` to the matching active players."""
    with conn.transaction():
        rows = conn.execute(CARRY_PLAN, {"lid": league_id, "user": user_id}).fetchall()
        league = conn.execute("SELECT league_id FROM leagues WHERE id = %s", (league_id,)).fetchone()[0]
        carried, unmatched = [], []
        for uid, old_id, new_id, tier, claimants in rows:
            if new_id is not None and claimants == 1:
                carried.append(
                    {
                        "user_id": uid,
                        "league": league,
                        "old_player_id": old_id,
                        "tenniscores_player_id": new_id,
                        "confidence": {1: 95, 2: 85, 3: 75}[tier],
                        "reason": f"carried across: {TIERS[tier]}",
                    }
                )
            else:
                why = (
                    "no active player with that name"
                    if new_id is None
                    else "another stranded user matches the same player"
                )
                unmatched.append({"user_id": uid, "old_player_id": old_id, "reason": why})
        if carried and not dry_run:
            _insert_links(conn, carried, kind="carry", source=source)
    users = {r[0] for r in rows}
    return {
        "links_carried": len(carried),
        "links_unmatched": len(unmatched),
        "users_stranded": len(users),
        "users_carried": len({c["user_id"] for c in carried}),
        "carried": carried,
        "unmatched": unmatched,
    }
