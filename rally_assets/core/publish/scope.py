"""The scope of a publish: which series of the league a landing speaks about.

A landing covers the series its players.json names (decided from the files, as staged). When it
covers every series in which the league has active players, it is a full scrape and the publish
is what it always was. When it covers only some (a rescrape of one series: CNSWPL 2025-09-11, 48
players of Series 17), it is a partial scrape: the publish writes the covered series (players,
teams, their matches, schedule, standings and history rows) and leaves every other series exactly
as it was: nothing outside them is inserted, deactivated or deleted.

In the publish transaction the scope is the temp table `pub_scope(series_id)`: the ids of the
covered series, or, for a full scrape, one row with a NULL series_id that stands for the whole
league (rows without a series included). Every deactivation and deletion, and every fact row
taken from staging, consults it through `in_scope(series expression)`. The churn breaker judges
within the same scope (`landing_scope`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from rally_assets.core.constants import ETL_SCHEMA
from rally_assets.core.parsing.normalize import base_series
from rally_assets.core.publish.series_names import canonical_series_names

COVERED_SERIES = f"""
SELECT DISTINCT series FROM {ETL_SCHEMA}.stg_players
WHERE run_id = %(run)s AND league = %(league)s AND series IS NOT NULL ORDER BY 1
"""
# The series in which the league has active players, before the publish. The league's row id as a
# scalar subquery, not a join: the publish runs this with nested loops off, where a join could only
# hash every league's players; a constant lets the players be read by their league index.
LEAGUE_SERIES = """
SELECT DISTINCT s.name FROM players p JOIN series s ON s.id = p.series_id
WHERE p.league_id = (SELECT id FROM leagues WHERE league_id = %(league)s) AND p.is_active ORDER BY 1
"""
# The covered series' ids (partial: through pub_series, the publish's own resolution of the
# staged names, adoption included), or the whole league (NULL).
SCOPE_SERIES = """
SELECT id AS series_id FROM pub_series WHERE %(covered)s::text[] IS NOT NULL AND name = ANY(%(covered)s::text[])
UNION ALL SELECT NULL::integer WHERE %(covered)s::text[] IS NULL
"""


@dataclass
class Scope:
    """What a landing covers, against the league as it is live."""

    covered: list[str] = field(default_factory=list)  # series the landing's players.json names
    league_series: list[str] = field(default_factory=list)  # series with active players, before the publish

    @property
    def not_covered(self) -> list[str]:
        return sorted(set(self.league_series) - set(self.covered))

    @property
    def partial(self) -> bool:
        """Covers some of the league's series, not all (a league's first landing is never partial)."""
        return bool(self.covered) and bool(self.not_covered)

    @property
    def covered_param(self) -> list[str] | None:
        """The covered series for SQL: None when the scope is the whole league."""
        return self.covered if self.partial else None

    def describe(self) -> str:
        """In the league's terms: its series, a club's sub-teams' sub-series ('Series 14a') counted as theirs."""
        covered = sorted({base_series(n) for n in self.covered})
        if not self.partial:
            return f"full scrape: covers all {len(covered)} series"
        total = len({base_series(n) for n in self.covered} | {base_series(n) for n in self.league_series})
        shown = ", ".join(covered[:5]) + (", ..." if len(covered) > 5 else "")
        return (
            f"partial scrape: covers {len(covered)} of {total} series ({shown}); "
            f"the other {total - len(covered)} are left as they are"
        )

    def as_json(self) -> dict:
        return {
            "partial": self.partial,
            "covered": self.covered,
            "not_covered": self.not_covered,
            "league_series": self.league_series,
        }

    @classmethod
    def from_json(cls, data: dict) -> Scope:
        return cls(covered=list(data.get("covered", [])), league_series=list(data.get("league_series", [])))


def landing_scope(conn: psycopg.Connection, league: str, run_id: str) -> Scope:
    """The series the run's staged players cover, and the league's series with active players."""
    p = {"league": league, "run": run_id}
    live = [r[0] for r in conn.execute(LEAGUE_SERIES, p).fetchall()]
    canonical = canonical_series_names(conn, league, live)  # an older importer's names, as this import names them
    return Scope(
        covered=[r[0] for r in conn.execute(COVERED_SERIES, p).fetchall()],
        league_series=sorted({canonical[name] for name in live}),
    )


def in_scope(series_id: str) -> str:
    """SQL: the row whose series is `series_id` (an expression) is inside the publish's scope.
    The whole-league test comes first: evaluated once, it settles a full scrape without a lookup."""
    return f"((SELECT bool_or(series_id IS NULL) FROM pub_scope) OR {series_id} IN (SELECT series_id FROM pub_scope))"
