"""The reference tables, identified by natural key and written in the form the app's schema state
accepts: leagues (string id), clubs (name, any case), series (league + name: global rows linked
through series_leagues, or per-league rows), teams (league + team key). A row whose values did not
change is not touched at all (no new xmin), so ids never move.

Adoption: series and teams an older importer wrote are identified through the normalisation
(`Chicago 22` is `Series 22`, CNSWPL `Division A` is `Series A`, also through the app's
series_name_mappings) and renamed in place, never recreated. What cannot be renamed is reported.
"""

from __future__ import annotations

from rally_assets.core.constants import KNOWN_LEAGUES
from rally_assets.core.publish.context import Step
from rally_assets.core.publish.report import TableChanges
from rally_assets.core.publish.scope import SCOPE_SERIES, in_scope
from rally_assets.core.publish.series_names import canonical_series_names
from rally_assets.core.publish.steps import ETL, S, count, run, temp_table


def upsert_league(step: Step) -> tuple[int, TableChanges]:
    name, url = KNOWN_LEAGUES.get(step.p["league"], (step.p["league"], None))
    columns, values = step.insert_columns(
        "leagues", {"league_id": "%(league)s::text", "league_name": "%(name)s::text", "league_url": "%(url)s::text"}
    )
    inserted = count(
        step.conn,
        f"""INSERT INTO leagues ({columns}) SELECT {values}
        WHERE NOT EXISTS (SELECT 1 FROM leagues WHERE league_id = %(league)s::text) RETURNING id""",
        {**step.p, "name": name, "url": url},
    )
    league_id = run(step.conn, "SELECT id FROM leagues WHERE league_id = %(league)s", step.p).fetchone()[0]
    return league_id, TableChanges(inserted=inserted)


# --- clubs -----------------------------------------------------------------------------------

# Clubs are global and matched case-insensitively ('LifeSport' is 'Lifesport').
STAGED_CLUB_NAMES = f"""
SELECT DISTINCT ON (lower(name)) name FROM (
    SELECT club AS name FROM {S}.stg_players WHERE run_id = %(run)s
    UNION ALL SELECT club FROM {S}.stg_teams WHERE run_id = %(run)s) s
WHERE name IS NOT NULL ORDER BY lower(name), name
"""
CLUB_IDS = """
SELECT DISTINCT ON (lower(c.name)) lower(c.name) AS name_key, c.id
FROM clubs c JOIN pub_club_names n ON lower(c.name) = lower(n.name) ORDER BY lower(c.name), c.id
"""


def upsert_clubs(step: Step) -> TableChanges:
    temp_table(step.conn, "pub_club_names", STAGED_CLUB_NAMES, step.p)
    columns, values = step.insert_columns("clubs", {"name": "n.name"})
    added = count(
        step.conn,
        f"""INSERT INTO clubs ({columns}) SELECT {values} FROM pub_club_names n
        WHERE NOT EXISTS (SELECT 1 FROM clubs c WHERE lower(c.name) = lower(n.name)) RETURNING id""",
        step.p,
    )
    temp_table(step.conn, "pub_clubs", CLUB_IDS)
    if step.profile.has("club_leagues"):
        columns, values = step.insert_columns("club_leagues", {"club_id": "c.id", "league_id": "%(lid)s"})
        run(
            step.conn,
            f"""INSERT INTO club_leagues ({columns}) SELECT {values} FROM pub_clubs c WHERE NOT EXISTS (
                SELECT 1 FROM club_leagues x WHERE x.club_id = c.id AND x.league_id = %(lid)s)""",
            step.p,
        )
    return TableChanges(inserted=added)


# --- series ----------------------------------------------------------------------------------

STAGED_SERIES = f"""
SELECT series FROM {S}.stg_players WHERE run_id = %(run)s AND series IS NOT NULL
UNION SELECT series FROM {S}.stg_teams WHERE run_id = %(run)s AND series IS NOT NULL
"""
# The league's series as they stand: its own rows (per league), the rows linked to it (global), and
# any row its players point at (an older importer did not always link them).
LEAGUE_SERIES = """
SELECT s.id, s.name FROM series s WHERE {owned}
UNION SELECT s.id, s.name FROM series s JOIN players p ON p.series_id = s.id AND p.league_id = %(lid)s
ORDER BY 1
"""


def _league_series(step: Step) -> list[tuple[int, str]]:
    if step.profile.series_per_league:
        owned = "s.league_id = %(lid)s"
    else:
        owned = "EXISTS (SELECT 1 FROM series_leagues sl WHERE sl.series_id = s.id AND sl.league_id = %(lid)s)"
    return run(step.conn, LEAGUE_SERIES.format(owned=owned), step.p).fetchall()


def _canonical_names(step: Step, existing: list[tuple[int, str]]) -> dict[int, str]:
    """id -> the name this import gives that series."""
    canonical = canonical_series_names(step.conn, step.p["league"], [name for _, name in existing])
    return {sid: canonical[name] for sid, name in existing}


def _name_taken(step: Step, name: str) -> bool:
    """Whether renaming a series to `name` would collide with the app's uniqueness of series names."""
    scope = "league_id = %(lid)s" if step.profile.series_per_league else "true"
    return (
        run(step.conn, f"SELECT 1 FROM series WHERE name = %(name)s AND {scope}", {**step.p, "name": name}).fetchone()
        is not None
    )


def _adopt_series(step: Step, staged: set[str], existing: list[tuple[int, str]]) -> tuple[dict[str, int], int]:
    """The staged series the league already has (by name, or through the normalisation); renames in place."""
    ids = {}
    for sid, name in existing:
        if name in staged:
            ids.setdefault(name, sid)
    renamed = 0
    canonical_names = _canonical_names(step, existing)
    for sid, name in existing:
        canonical = canonical_names[sid]
        if canonical == name or canonical not in staged or canonical in ids:
            continue
        ids[canonical] = sid
        entry = {"table": "series", "id": sid, "name": name, "as": canonical}
        if _name_taken(step, canonical):
            step.adoption.append({**entry, "action": "identified, kept its name (the name is taken)"})
            continue
        run(
            step.conn,
            f"UPDATE series SET name = %(name)s{step.touch('series')} WHERE id = %(sid)s",
            {"name": canonical, "sid": sid},
        )
        step.adoption.append({**entry, "action": "identified, renamed in place"})
        renamed += 1
    return ids, renamed


def _add_series(step: Step, names: list[str]) -> tuple[dict[str, int], int]:
    """New series for the league: per-league rows, or global rows (reusing another league's same-named row)."""
    if not names:
        return {}, 0
    ids: dict[str, int] = {}
    if not step.profile.series_per_league:  # global: same-named series of different leagues share the row
        ids = dict(
            run(
                step.conn,
                "SELECT name, min(id) FROM series WHERE name = ANY(%(names)s) GROUP BY name",
                {"names": names},
            ).fetchall()
        )
    new = [n for n in names if n not in ids]
    values = {"name": "n", "display_name": "n"}  # display_name (where the app has it) is set once, on insert
    if step.profile.series_per_league:
        values["league_id"] = "%(lid)s::integer"
    columns, exprs = step.insert_columns("series", values)
    rows = run(
        step.conn,
        f"INSERT INTO series ({columns}) SELECT {exprs} FROM unnest(%(new)s::text[]) AS n RETURNING name, id",
        {**step.p, "new": new},
    ).fetchall()
    ids.update(dict(rows))
    return ids, len(rows)


def upsert_series(step: Step) -> TableChanges:
    staged = {r[0] for r in run(step.conn, STAGED_SERIES, step.p).fetchall()}
    if step.p.get("covered") is not None:  # a partial scrape adds no series it does not cover
        staged &= set(step.p["covered"])
    ids, renamed = _adopt_series(step, staged, _league_series(step))
    added_ids, inserted = _add_series(step, sorted(staged - set(ids)))
    ids.update(added_ids)
    if step.profile.has("series_leagues"):
        columns, exprs = step.insert_columns("series_leagues", {"series_id": "x.id", "league_id": "%(lid)s"})
        run(
            step.conn,
            f"""INSERT INTO series_leagues ({columns}) SELECT DISTINCT {exprs} FROM unnest(%(ids)s::integer[]) AS x(id)
            WHERE NOT EXISTS (SELECT 1 FROM series_leagues sl WHERE sl.series_id = x.id AND sl.league_id = %(lid)s)""",
            {**step.p, "ids": list(ids.values())},
        )
    temp_table(
        step.conn,
        "pub_series",
        "SELECT * FROM unnest(%(names)s::text[], %(ids)s::integer[]) AS s(name, id)",
        {"names": list(ids), "ids": list(ids.values())},
    )
    temp_table(
        step.conn, "pub_scope", SCOPE_SERIES, step.p
    )  # the publish's scope: the covered series, or the whole league
    return TableChanges(inserted=inserted, updated=renamed)


# --- teams -----------------------------------------------------------------------------------

STAGED_TEAMS = f"""
SELECT DISTINCT ON ({ETL}.team_key(t.team_name)) t.team_name, {ETL}.team_key(t.team_name) AS team_key,
       c.id AS club_id, s.id AS series_id
FROM {S}.stg_teams t
JOIN pub_clubs c ON c.name_key = lower(t.club)
JOIN pub_series s ON s.name = t.series
WHERE t.run_id = %(run)s AND {in_scope("s.id")} ORDER BY {ETL}.team_key(t.team_name), t.team_name
"""
LIVE_TEAMS = f"""
SELECT id, {ETL}.team_key(team_name) AS team_key, team_name, club_id, series_id, is_active
FROM teams WHERE league_id = %(lid)s
"""
# Each staged team's row: the live team with its key; else (where the app keeps one team per club,
# series and league) the live team in its slot that no staged team claims by key: renamed in place.
# A team moves to its staged club and series only into a free slot, and only one team per slot.
MATCH_TEAMS = """
SELECT n.*, coalesce(k.id, slot.id) AS team_id,
       CASE WHEN k.id IS NOT NULL THEN 'key' WHEN slot.id IS NOT NULL THEN 'slot' END AS matched_by,
       row_number() OVER (PARTITION BY n.club_id, n.series_id
                          ORDER BY (coalesce(k.id, slot.id) IS NULL), n.team_name) AS in_slot
FROM pub_staged_teams n
LEFT JOIN pub_live_teams k ON k.team_key = n.team_key
LEFT JOIN LATERAL (
    SELECT l.id FROM pub_live_teams l
    WHERE %(slots)s AND k.id IS NULL AND l.club_id = n.club_id AND l.series_id = n.series_id
      AND NOT EXISTS (SELECT 1 FROM pub_staged_teams x WHERE x.team_key = l.team_key)
    ORDER BY l.id LIMIT 1) slot ON true
"""
# A matched team is one of the league's (pub_live_teams); `t.league_id` says so, so that the update
# reads the league's teams by index rather than hashing every league's (nested loops are off here).
UPDATE_TEAMS = """
UPDATE teams t SET team_name = CASE WHEN n.matched_by = 'slot' THEN n.team_name ELSE t.team_name END,
       club_id = CASE WHEN n.movable THEN n.club_id ELSE t.club_id END,
       series_id = CASE WHEN n.movable THEN n.series_id ELSE t.series_id END,
       is_active = true{touch}
FROM (SELECT m.*, (NOT %(slots)s OR m.in_slot = 1 AND NOT EXISTS (
          SELECT 1 FROM teams o WHERE o.league_id = %(lid)s AND o.id <> m.team_id
          AND o.club_id = m.club_id AND o.series_id = m.series_id)) AS movable
      FROM pub_teams m WHERE m.team_id IS NOT NULL) n
WHERE t.id = n.team_id AND t.league_id = %(lid)s
  AND (t.team_name <> n.team_name AND n.matched_by = 'slot'
       OR (n.movable AND (t.club_id, t.series_id) IS DISTINCT FROM (n.club_id, n.series_id))
       OR t.is_active IS NOT TRUE)
RETURNING t.id
"""
# Only inside the publish's scope: a partial scrape says nothing of the series it does not cover.
DEACTIVATE_TEAMS = f"""
UPDATE teams SET is_active = false{{touch}}
WHERE league_id = %(lid)s AND is_active IS NOT FALSE AND {in_scope("teams.series_id")}
  AND NOT EXISTS (SELECT 1 FROM pub_team_keys k WHERE k.team_id = teams.id) RETURNING id
"""
# A staged team in a slot another staged team owns (same club and series, no sub-team mark: one
# team spelt two ways, 'Skokie' and 'Skokie S2A') is that team: its name resolves to the owner.
TEAM_KEYS = """
SELECT team_key, team_id FROM pub_teams WHERE team_id IS NOT NULL
UNION ALL
SELECT a.team_key, o.team_id FROM pub_teams a JOIN pub_teams o
  ON %(slots)s AND a.team_id IS NULL AND o.in_slot = 1 AND o.club_id = a.club_id AND o.series_id = a.series_id
UNION ALL
SELECT l.team_key, l.id FROM pub_live_teams l WHERE NOT EXISTS (SELECT 1 FROM pub_teams n WHERE n.team_key = l.team_key)
"""
# Every team name the run mentions -> its team id, the key computed once per distinct name. Every
# keyed team is the league's: `tt.league_id` lets the join read only the league's teams.
TEAM_IDS_BY_NAME = f"""
SELECT n.name, k.team_id, tt.series_id FROM (
    SELECT team_name AS name FROM {S}.stg_players WHERE run_id = %(run)s
    UNION SELECT home_team FROM {S}.stg_matches WHERE run_id = %(run)s
    UNION SELECT away_team FROM {S}.stg_matches WHERE run_id = %(run)s
    UNION SELECT home_team FROM {S}.stg_schedule WHERE run_id = %(run)s
    UNION SELECT away_team FROM {S}.stg_schedule WHERE run_id = %(run)s
    UNION SELECT team FROM {S}.stg_series_stats WHERE run_id = %(run)s) n
JOIN (SELECT DISTINCT ON (team_key) team_key, team_id FROM pub_team_keys ORDER BY team_key, team_id) k
  ON k.team_key = {ETL}.team_key(n.name)
JOIN teams tt ON tt.id = k.team_id AND tt.league_id = %(lid)s
"""


def _insert_new_teams(step: Step) -> int:
    values = {
        "club_id": "n.club_id",
        "series_id": "n.series_id",
        "league_id": "%(lid)s",
        "team_name": "n.team_name",
        "display_name": "n.team_name",
        "is_active": "true",
    }
    columns, exprs = step.insert_columns("teams", values)
    slot_owner = "n.in_slot = 1 OR NOT %(slots)s"
    rows = run(
        step.conn,
        f"""INSERT INTO teams ({columns}) SELECT {exprs} FROM pub_teams n
        WHERE n.team_id IS NULL AND ({slot_owner}) RETURNING id, {ETL}.team_key(team_name)""",
        step.p,
    ).fetchall()
    if rows:
        ids, keys = zip(*rows)
        step.conn.execute(
            """UPDATE pub_teams n SET team_id = x.id FROM unnest(%(ids)s::integer[], %(keys)s::text[]) AS x(id, team_key)
            WHERE n.team_key = x.team_key""",
            {"ids": list(ids), "keys": list(keys)},
        )
    return len(rows)


def upsert_teams(step: Step) -> TableChanges:
    p = {**step.p, "slots": step.profile.one_team_per_club_series}
    temp_table(step.conn, "pub_staged_teams", STAGED_TEAMS, p)
    temp_table(step.conn, "pub_live_teams", LIVE_TEAMS, p)
    temp_table(step.conn, "pub_teams", MATCH_TEAMS, p)
    touch = step.touch("teams")
    updated = count(step.conn, UPDATE_TEAMS.format(touch=touch), p)
    inserted = _insert_new_teams(_with(step, p))
    temp_table(step.conn, "pub_team_keys", TEAM_KEYS, p)
    deactivated = count(step.conn, DEACTIVATE_TEAMS.format(touch=touch), p)
    temp_table(step.conn, "pub_team_ids", TEAM_IDS_BY_NAME, p)
    _report_renamed_teams(step)
    return TableChanges(inserted=inserted, updated=updated, deactivated=deactivated)


def _with(step: Step, p: dict) -> Step:
    return Step(step.conn, step.profile, p, step.adoption)


def _report_renamed_teams(step: Step) -> None:
    rows = run(
        step.conn,
        """SELECT n.team_id, l.team_name, n.team_name FROM pub_teams n JOIN pub_live_teams l ON l.id = n.team_id
        WHERE n.matched_by = 'slot'""",
    ).fetchall()
    step.adoption += [
        {
            "table": "teams",
            "id": tid,
            "name": old,
            "as": new,
            "action": "identified by club and series, renamed in place",
        }
        for tid, old, new in rows
    ]
