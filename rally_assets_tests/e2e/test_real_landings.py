"""Real landings as they really come (issue 14): the seven landings of data/rally_history_sample,
replayed in date order through `import_leagues` (the Dagster job `rally import` runs), with 40 app
users on each league and an operator who overrides the churn breaker only when it says
"id-scheme change". Each landing ends as the sample's README asks; after every landing no user row
is lost and league-context health is at least 95%.

CNSWPL's first state is the real import_1 (f88046f0, 2025-06-26: nndz- ids, Division series),
landed between the sample's 004 (2025-06-16) and 026 (2025-08-06), so that the sample's CNSWPL
landings meet a league with a history, as they did.
"""

from __future__ import annotations

import json

import dagster as dg
import psycopg
import pytest

from rally_assets.core import db, import_runs
from rally_assets.core.constants import PROTECTED_TABLES
from rally_assets.core.users.health import league_context_verdict
from rally_assets.defs.runner import import_leagues, run_post_import
from rally_assets.tooling.synthetic.users import seed_users
from rally_assets_tests.conftest import IMPORT_1, PROJECT_ROOT

pytestmark = pytest.mark.filterwarnings("ignore")

SAMPLE = PROJECT_ROOT.parent / "shared" / "data" / "rally_history_sample"
requires_sample = pytest.mark.skipif(not SAMPLE.is_dir(), reason=f"the real landing sample is absent ({SAMPLE})")
USERS_PER_LEAGUE = 40
ID_SCHEME = "blocked by check churn_breaker: id-scheme change"

# The outcome the sample's README asks for, per landing and league: imported, imported after the
# operator's override of an id-scheme change, imported partially (the covered series), or refused
# by a check with its diagnosis (the words the one-line reason carries).
OUTCOMES = {
    "000_2025-06-07_91beb5b4": {"NSTF": ("imported",)},
    "004_2025-06-16_2d965063": {"APTA_CHICAGO": ("imported",)},
    "026_2025-08-06_11e7e919": {
        "APTA_CHICAGO": ("imported",),
        "CNSWPL": (
            "refused",
            "scrape_integrity",
            "corrupt scrape: CNSWPL/players.json: empty: 0 rows (limit: at least 1 row): importing it would "
            "deactivate every active player of the league (2258)",
        ),
        "NSTF": ("imported",),
    },
    "029_2025-08-10_59896fb2": {
        "CNSWPL": (
            "refused",
            "scrape_integrity",
            "corrupt scrape: CNSWPL/players.json: series collapsed: 1659 of 1776 (93.41%, limit 50.0%) rows give a "
            "Series that their own Series Mapping ID contradicts",
            "1776 of 2258 (78.65%, limit 50.0%) players sit in one series (Series 1) where the league had 17",
            "club names truncated: 869 of 1776 (48.93%, limit 10.0%)",
            "Lake -> Lake Bluff/Lake Forest/Lake Shore CC, Michigan -> Michigan Shores, Park -> Park Ridge",
        ),
        "NSTF": ("imported",),
    },
    "045_2025-08-24_12bc52e7": {"CNSWPL": ("imported after override",)},
    "059_2025-09-11_675dc8c8": {"CNSWPL": ("imported partially", ["Series 17"])},
    "071_2025-09-21_3f9755ae": {
        "APTA_CHICAGO": (
            "refused",
            "scrape_integrity",
            "corrupt scrape: APTA_CHICAGO/players.json: player ids missing: 7537 of 7551 (99.81%, limit 50.0%)",
        )
    },
}

PRIMARY_KEYS = """
SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY a.attnum
"""


def user_rows(conn: psycopg.Connection) -> dict[str, set]:
    """The primary keys of every row of every user-owned table."""
    out = {}
    for table in PROTECTED_TABLES:
        keys = ", ".join(r[0] for r in conn.execute(PRIMARY_KEYS, (table,)).fetchall())
        out[table] = set(conn.execute(f"SELECT {keys} FROM {table}").fetchall())
    return out


def availability(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute("SELECT xmin::text, a::text FROM player_availability a ORDER BY id").fetchall()


# What a partial scrape must leave exactly as it was: every row outside its covered series (xmin included).
OUTSIDE_SERIES = {
    "players": "SELECT p.xmin::text, p::text FROM players p JOIN series s ON s.id = p.series_id "
    "WHERE p.league_id = %(lid)s AND s.name <> ALL(%(covered)s)",
    "teams": "SELECT t.xmin::text, t::text FROM teams t JOIN series s ON s.id = t.series_id "
    "WHERE t.league_id = %(lid)s AND s.name <> ALL(%(covered)s)",
    "match_scores": "SELECT m.xmin::text, m::text FROM match_scores m LEFT JOIN teams t ON t.id = m.home_team_id "
    "LEFT JOIN series s ON s.id = t.series_id WHERE m.league_id = %(lid)s AND NOT coalesce(s.name = ANY(%(covered)s), false)",
    "schedule": "SELECT m.xmin::text, m::text FROM schedule m LEFT JOIN teams t ON t.id = m.home_team_id "
    "LEFT JOIN series s ON s.id = t.series_id WHERE m.league_id = %(lid)s AND NOT coalesce(s.name = ANY(%(covered)s), false)",
    "series_stats": "SELECT m.xmin::text, m::text FROM series_stats m LEFT JOIN series s ON s.id = m.series_id "
    "WHERE m.league_id = %(lid)s AND NOT coalesce(s.name = ANY(%(covered)s), false)",
}


def outside(conn: psycopg.Connection, league: str, covered: list[str]) -> dict[str, list]:
    lid = conn.execute("SELECT id FROM leagues WHERE league_id = %s", (league,)).fetchone()[0]
    return {
        table: sorted(conn.execute(sql, {"lid": lid, "covered": covered}).fetchall())
        for table, sql in OUTSIDE_SERIES.items()
    }


def run_check(instance: dg.DagsterInstance, run_id: str, check: str) -> dg.AssetCheckEvaluation:
    """A check's evaluation in a run, as the event log (the UI) holds it."""
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = record.dagster_event.event_specific_data
        if evaluation.check_name == check:
            return evaluation
    raise AssertionError(f"no {check} evaluation in run {run_id}")


class Replay:
    """The landings, in date order, as an operator runs them: `rally import`, then the override
    when (and only when) the breaker says "id-scheme change"."""

    def __init__(self, instance: dg.DagsterInstance):
        self.instance = instance
        self.first: dict[str, object] = {}  # league -> the outcome before any override
        self.overridden: set[str] = set()

    def land(self, folder, leagues: list[str]) -> dict:
        outcomes = {o.league: o for o in import_leagues(folder, leagues, instance=self.instance)}
        self.first, self.overridden = dict(outcomes), set()
        for league, o in list(outcomes.items()):
            if not o.success and o.error.startswith(ID_SCHEME):
                (outcomes[league],) = import_leagues(
                    folder, [league], instance=self.instance, policy={"allow_churn": True}
                )
                self.overridden.add(league)
        if any(o.success for o in outcomes.values()):
            post = run_post_import(instance=self.instance)
            assert post.success, post.error
        return outcomes


def _assert_outcome(replay: Replay, name: str, league: str, outcome, expected: tuple) -> None:
    kind = expected[0]
    if kind == "refused":
        check, says, *also = expected[1:]
        assert not outcome.success, (name, league)
        assert outcome.error.startswith(f"blocked by check {check}: {says}"), outcome.error
        assert all(text in outcome.error for text in also), outcome.error
        assert "\n" not in outcome.error
        evaluation = run_check(replay.instance, outcome.run_id, check)  # what the UI shows: description and metadata
        assert evaluation.passed is False and evaluation.description in outcome.error
        assert evaluation.partition == league  # the league's own check result (a gate: the step refused the publish)
        assert evaluation.metadata["file"].value == f"{league}/players.json"
        # the breaker, which fails beside it, never invites an override of a corrupt file
        breaker = outcome.checks["churn_breaker"]
        assert breaker[0] is False and breaker[1].startswith("corrupt scrape") and "id-scheme" not in breaker[1]
        return
    assert outcome.success, (name, league, outcome.error)
    assert (league in replay.overridden) is (kind == "imported after override"), (name, league)
    scope = outcome.publish.scope
    if kind == "imported partially":
        assert scope.partial and scope.covered == expected[1], scope
    else:
        assert not scope.partial, scope


def _files(conn: psycopg.Connection, outcome) -> dict:
    return import_runs.file_reports(conn, outcome.run_id, outcome.league)


def _assert_what_each_landing_reports(conn: psycopg.Connection, name: str, replay: Replay, outcomes: dict) -> None:
    """The sound variation each landing holds, as its run reports it (the sample README's column)."""
    if name.startswith("000"):  # 'nsft' on every schedule and standings row: that league's label misspelt
        files = _files(conn, outcomes["NSTF"])
        assert files["schedules.json"]["league_aliases"] == {"nsft": 110}
        assert files["series_stats.json"]["league_aliases"] == {"nsft": 24}
        assert files["schedules.json"]["rejected_total"] == files["series_stats.json"]["rejected_total"] == 0
    if name.startswith("004"):  # 10,123 empty histories, 3,836 of unlisted players: neither holds anything back
        history = _files(conn, outcomes["APTA_CHICAGO"])["player_history.json"]
        assert (history["rows_read"], history["accepted"], history["rejected_total"]) == (10128, 6292, 0)
        assert history["set_aside"] == {"unknown_player": 3836}
        assert history["notes"]["records_without_history"] == 6287
        assert outcomes["APTA_CHICAGO"].publish.tables["player_history"].inserted == 1334
        assert outcomes["APTA_CHICAGO"].publish.tables["match_scores"].inserted == 6362
    if name.startswith("045"):  # 2,281 exact repeats folded, not rejected; then a clean id switch
        players = _files(conn, outcomes["CNSWPL"])["players.json"]
        assert (players["rows_read"], players["folded"], players["rejected"]) == (6037, 2281, {"duplicate_key": 158})
        first = replay.first["CNSWPL"]
        assert first.error.startswith(f"{ID_SCHEME}: 100.0% of player ids are gone and 2502 of the 2654 departed")
        assert "(94.27%) match one of 3598 new ids by name, club and series" in first.error
        assert outcomes["CNSWPL"].publish.links.links_carried >= USERS_PER_LEAGUE - 2
    if name.startswith("059"):  # a rescrape of Series 17: that series is the rescrape's, and only it
        publish = outcomes["CNSWPL"].publish
        assert publish.summary().startswith("partial scrape: covers 1 of 17 series (Series 17)")
        assert (publish.tables["players"].inserted, publish.tables["players"].deactivated) == (25, 56)
        breaker = outcomes["CNSWPL"].checks["churn_breaker"]
        assert breaker == (
            True,
            "partial scrape: covers 1 of 17 series (Series 17); the other 16 are left as they "
            "are; churn within limits in the covered series",
        )
        recorded = import_runs.publish_report(conn, outcomes["CNSWPL"].run_id, "CNSWPL").scope
        assert (
            recorded.covered == ["Series 17"] and len(recorded.not_covered) == 30
        )  # series rows: 16 others and 14 sub-series
        active_17 = conn.execute(
            """SELECT count(DISTINCT p.tenniscores_player_id) FROM players p JOIN series s ON s.id = p.series_id
            JOIN leagues l ON l.id = p.league_id AND l.league_id = 'CNSWPL' WHERE p.is_active AND s.name = 'Series 17'"""
        ).fetchone()[0]
        rescraped = {r["Player ID"] for r in json.loads((SAMPLE / name / "CNSWPL" / "players.json").read_text())}
        assert active_17 == len(rescraped) == 48


@requires_sample
def test_the_sample_landings_replayed_in_date_order(fresh_db, dagster_instance):
    replay = Replay(dagster_instance)
    seeded = set()
    for name, expected in OUTCOMES.items():
        if name.startswith("026"):  # CNSWPL's state before the sample's CNSWPL landings
            (o,) = import_leagues(IMPORT_1, ["CNSWPL"], instance=dagster_instance)
            assert o.success, o.error
        with db.connection(fresh_db) as conn:
            for league in ("NSTF", "APTA_CHICAGO", "CNSWPL"):
                has = conn.execute("SELECT 1 FROM leagues WHERE league_id = %s", (league,)).fetchone()
                if has and league not in seeded:
                    assert seed_users(conn, USERS_PER_LEAGUE, seed=14, league=league)["users"] == USERS_PER_LEAGUE
                    seeded.add(league)
            users_before, availability_before = user_rows(conn), availability(conn)
            partial = next((e[1] for e in expected.values() if e[0] == "imported partially"), None)
            outside_before = outside(conn, "CNSWPL", partial) if partial else None
            assert outside_before is None or all(outside_before.values())  # there is something to keep

        outcomes = replay.land(SAMPLE / name, sorted(expected))

        for league, want in expected.items():
            _assert_outcome(replay, name, league, outcomes[league], want)
        with db.connection(fresh_db) as conn:
            _assert_what_each_landing_reports(conn, name, replay, outcomes)
            after = user_rows(conn)
            for table in PROTECTED_TABLES:  # no user row lost (links may be added: carried, discovered)
                assert users_before[table] <= after[table], (name, table)
            assert availability(conn) == availability_before, name  # not even rewritten
            health = league_context_verdict(conn)
            assert health.passed and health.measures["score"] >= 95.0, (name, health.description)
            if partial:
                assert outside(conn, "CNSWPL", partial) == outside_before  # the other series as they were
    assert seeded == {"NSTF", "APTA_CHICAGO", "CNSWPL"}
    with db.connection(fresh_db) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 3 * USERS_PER_LEAGUE
