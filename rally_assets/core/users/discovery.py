"""Linking users to players: discovery by name, and carrying links across an id-scheme change.

Both only ever INSERT associations (never delete or move one), never claim a player another user
holds (the UNIQUE on tenniscores_player_id backs that), and record what they did and why in
etl_repairs. Discovery is stricter than the old service (rally-domain.md §4.5, §7 items 33-36):
one league at a time, exactly one candidate there, and a bounded number of users per run.
"""

from __future__ import annotations

import psycopg

from rally_assets.core.protection.guard import guarded_execute
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


DISCOVERY_PLAN = """
WITH targets AS (  -- every eligible user: ambiguity is judged over all of them, scope and limit come last
    SELECT u.id AS user_id, lower(btrim(u.first_name)) AS fn, lower(btrim(u.last_name)) AS ln,
           dense_rank() OVER (ORDER BY c.n, u.created_at DESC, u.id) AS turn
    FROM users u
    LEFT JOIN LATERAL (SELECT count(*) AS n FROM user_player_associations a WHERE a.user_id = u.id) c ON true
    WHERE length(btrim(u.first_name)) >= 2 AND length(btrim(u.last_name)) >= 2
      AND u.email NOT LIKE '%%@placeholder.rally'
      AND c.n < 2
),
names AS (
    SELECT user_id, fn AS first, ln, true AS exact FROM targets
    UNION ALL
    SELECT t.user_id, v.variant, t.ln, false FROM targets t
    JOIN unnest(%(names)s::text[], %(variants)s::text[]) AS v(name, variant) ON v.name = t.fn
),
candidates AS (
    SELECT n.user_id, p.league_id, p.tenniscores_player_id, bool_or(n.exact) AS exact
    FROM names n JOIN players p
      ON p.is_active AND lower(btrim(p.first_name)) = n.first AND lower(btrim(p.last_name)) = n.ln
    GROUP BY n.user_id, p.league_id, p.tenniscores_player_id
),
unique_in_league AS (
    SELECT user_id, league_id, min(tenniscores_player_id) AS tenniscores_player_id, bool_and(exact) AS exact
    FROM candidates GROUP BY user_id, league_id HAVING count(*) = 1
),
unclaimed AS (
    SELECT c.*, count(*) OVER (PARTITION BY c.tenniscores_player_id) AS claimants
    FROM unique_in_league c
    WHERE NOT EXISTS (SELECT 1 FROM user_player_associations a WHERE a.tenniscores_player_id = c.tenniscores_player_id)
      AND NOT EXISTS (  -- the user already has a player in that league
          SELECT 1 FROM user_player_associations a JOIN players p ON p.tenniscores_player_id = a.tenniscores_player_id
          WHERE a.user_id = c.user_id AND p.league_id = c.league_id)
)
SELECT x.user_id, u.email, l.league_id AS league, x.tenniscores_player_id,
       CASE WHEN x.exact THEN 90 ELSE 85 END AS confidence,
       CASE WHEN x.exact THEN 'the only active player in ' || l.league_id || ' with this first and last name'
            ELSE 'the only active player in ' || l.league_id || ' with a variant of this first name and this last name'
       END AS reason
FROM unclaimed x JOIN users u ON u.id = x.user_id JOIN leagues l ON l.id = x.league_id
WHERE x.claimants = 1  -- two users matching one player: neither gets it
  AND (%(user)s::integer IS NULL OR x.user_id = %(user)s)
  AND x.user_id IN (SELECT user_id FROM targets WHERE (%(user)s::integer IS NOT NULL OR turn <= %(limit)s))
ORDER BY x.user_id, l.league_id
"""


def discover_associations(
    conn: psycopg.Connection,
    *,
    limit: int = 100,
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
    guarded_execute(
        conn,
        """INSERT INTO user_player_associations (user_id, tenniscores_player_id, is_primary)
        SELECT u, p, false FROM unnest(%(users)s::integer[], %(players)s::text[]) AS x(u, p)
        ON CONFLICT DO NOTHING""",
        params,
    )
    guarded_execute(
        conn,
        """INSERT INTO etl_repairs (source, kind, user_id, league, before_value, after_value, confidence, reason)
        SELECT %(source)s, %(kind)s, u, lg, b, p, c, r
        FROM unnest(%(users)s::integer[], %(leagues)s::text[], %(before)s::text[], %(players)s::text[],
                    %(confidence)s::integer[], %(reasons)s::text[]) AS x(u, lg, b, p, c, r)""",
        params,
    )


# Users whose links in a league all point at players that are no longer active, matched to the
# league's active unclaimed players by name, then club + series, club, or name alone; each tier
# must give exactly one player, and a player goes to one user only.
CARRY_PLAN = """
WITH stranded AS (
    SELECT DISTINCT a.user_id, a.tenniscores_player_id AS old_id, lower(btrim(p.first_name)) AS fn,
           lower(btrim(p.last_name)) AS ln, p.club_id, p.series_id
    FROM user_player_associations a
    JOIN players p ON p.tenniscores_player_id = a.tenniscores_player_id AND p.league_id = %(lid)s
    WHERE (%(user)s::integer IS NULL OR a.user_id = %(user)s)
      AND NOT EXISTS (SELECT 1 FROM players q WHERE q.tenniscores_player_id = a.tenniscores_player_id AND q.is_active)
      AND NOT EXISTS (
          SELECT 1 FROM user_player_associations b JOIN players q
            ON q.tenniscores_player_id = b.tenniscores_player_id AND q.is_active AND q.league_id = %(lid)s
          WHERE b.user_id = a.user_id)
),
fresh AS (
    SELECT DISTINCT p.tenniscores_player_id AS new_id, lower(btrim(p.first_name)) AS fn,
           lower(btrim(p.last_name)) AS ln, p.club_id, p.series_id
    FROM players p
    WHERE p.league_id = %(lid)s AND p.is_active
      AND NOT EXISTS (SELECT 1 FROM user_player_associations a WHERE a.tenniscores_player_id = p.tenniscores_player_id)
),
matched AS (
    SELECT s.user_id, s.old_id, f.new_id,
           CASE WHEN f.club_id = s.club_id AND f.series_id = s.series_id THEN 1
                WHEN f.club_id = s.club_id THEN 2 ELSE 3 END AS tier
    FROM stranded s JOIN fresh f ON f.fn = s.fn AND f.ln = s.ln
),
best AS (
    SELECT user_id, old_id, min(tier) AS tier FROM matched GROUP BY user_id, old_id
),
chosen AS (
    SELECT m.user_id, m.old_id, min(m.new_id) AS new_id, m.tier
    FROM matched m JOIN best b USING (user_id, old_id, tier)
    GROUP BY m.user_id, m.old_id, m.tier HAVING count(DISTINCT m.new_id) = 1
),
per_user AS (  -- a user stranded on two old ids gets one new link per distinct new player
    SELECT DISTINCT ON (user_id, new_id) * FROM chosen ORDER BY user_id, new_id, tier, old_id
),
claims AS (SELECT new_id, count(DISTINCT user_id) AS claimants FROM per_user GROUP BY new_id),
links AS (SELECT DISTINCT user_id, old_id FROM stranded)
SELECT s.user_id, s.old_id, c.new_id, c.tier, k.claimants
FROM links s LEFT JOIN per_user c ON c.user_id = s.user_id AND c.old_id = s.old_id
LEFT JOIN claims k ON k.new_id = c.new_id
ORDER BY s.user_id, s.old_id
"""

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
