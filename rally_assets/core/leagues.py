"""What the database holds of one league, so that its Dagster partition is removed only when it
holds no published data (`rally leagues remove`): a mistaken folder name (`BROKEN`) may go, a
league with published rows stays (its history is how the UI shows them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from rally_assets.core import import_runs
from rally_assets.core.file_types import FACT_TABLES
from rally_assets.core.verdict import Verdict

# The league's rows in the app tables the import writes (each has a league_id).
COUNTED_TABLES = ("teams", "players", *FACT_TABLES)


@dataclass
class LeagueData:
    league: str
    rows: dict[str, int]  # table -> the league's rows in it (empty when the league has no row in `leagues`)
    published_runs: int
    last_published: object = None

    @property
    def published(self) -> bool:
        return self.published_runs > 0 or bool(self.rows)

    def describe(self) -> str:
        held = ", ".join(f"{n} {table}" for table, n in self.rows.items() if n) or "its leagues row"
        runs = f"{self.published_runs} published run(s), the last at {self.last_published:%Y-%m-%d %H:%M}"
        if not self.rows:
            return runs
        return f"{held} in the app tables" + (f"; {runs}" if self.published_runs else "")


def league_data(conn: psycopg.Connection, league: str) -> LeagueData:
    """The league's rows in the app tables and its published runs."""
    code = league.upper()
    row = conn.execute("SELECT id FROM leagues WHERE upper(league_id) = %s", (code,)).fetchone()
    rows: dict[str, int] = {}
    if row is not None:
        for table in COUNTED_TABLES:
            rows[table] = conn.execute(f"SELECT count(*) FROM {table} WHERE league_id = %s", (row[0],)).fetchone()[0]
    count, last = import_runs.published_runs(conn, code)
    return LeagueData(league=code, rows=rows, published_runs=count, last_published=last)


def freshness_verdict(last_published: datetime | None, now: datetime, days: float) -> Verdict:
    """Published within the last `days` (the league's freshness check)."""
    if last_published is None:
        return Verdict(False, "never published", {"days_since_publish": None})
    age = (now - last_published).total_seconds() / 86400
    passed = age <= days
    why = f"last published {age:.1f} days ago ({last_published:%Y-%m-%d %H:%M} UTC); stale after {days:g} days"
    return Verdict(passed, why, {"days_since_publish": round(age, 2), "max_days": days})
