"""A partial scrape publishes its covered series and leaves every other series exactly as it was
(issue 14, core/publish/scope.py), on the real CNSWPL import_1."""

from __future__ import annotations

import json
import shutil

import pytest

from rally_assets.core import db, import_runs, policy
from rally_assets.core.parsing.league import parse_league
from rally_assets.core.parsing.normalize import normalize_series
from rally_assets.core.protection.verdicts import churn_breaker
from rally_assets.core.publish.league import publish_league
from rally_assets.core.staging import stage_league
from rally_assets_tests.conftest import IMPORT_1, requires_real_data
from rally_assets_tests.e2e.test_real_landings import outside

pytestmark = requires_real_data
COVERED = ["Series 3", "Series 3a", "Series 3b"]  # Series 3 and its sub-teams' sub-series (Michigan Shores 3a, 3b)


@pytest.fixture
def conn1(import_1_db):
    with db.connection(import_1_db) as connection:
        yield connection


def rescrape_of_series_3(tmp_path) -> tuple:
    """import_1's CNSWPL with players.json cut to Series 3, one player gone and one new, and an
    empty match_history.json (present: its rows are replaced, but only those of Series 3)."""
    folder = tmp_path / "CNSWPL"
    shutil.copytree(IMPORT_1 / "CNSWPL", folder)
    for f in folder.iterdir():
        f.chmod(0o644)
    rows = [
        r for r in json.loads((folder / "players.json").read_text()) if normalize_series(r["Series"]) == "Series 3"
    ]  # with 3a, 3b
    gone = rows[0]["Player ID"]
    kept = [r for r in rows if r["Player ID"] != gone]
    new = {**kept[0], "Player ID": "nndz-NEW-IN-SERIES-3", "First Name": "Newly"}
    (folder / "players.json").write_text(json.dumps([*kept, new]))
    (folder / "match_history.json").write_text("[]")
    return folder, gone, len(rows) - len(kept)


def series_3_matches(conn) -> int:
    return conn.execute(
        """SELECT count(*) FROM match_scores m JOIN teams t ON t.id = m.home_team_id JOIN series s ON s.id = t.series_id
        JOIN leagues l ON l.id = m.league_id AND l.league_id = 'CNSWPL' WHERE s.name = ANY(%s)""",
        (COVERED,),
    ).fetchone()[0]


def test_a_rescrape_of_one_series_publishes_that_series_only(conn1, tmp_path):
    folder, gone, gone_rows = rescrape_of_series_3(tmp_path)
    before = outside(conn1, "CNSWPL", COVERED)
    matches_3 = series_3_matches(conn1)
    assert all(before.values()) and matches_3 > 50
    parsed = parse_league(folder)
    assert parsed.covered_series == COVERED
    stage_league(conn1, parsed, "partial")
    assert import_runs.file_reports(conn1, "partial", "CNSWPL")  # staged, with the covered series on record

    verdict = churn_breaker(conn1, "CNSWPL", "partial", policy.ImportLimits())
    assert verdict.passed, verdict.description
    assert verdict.description == (
        "partial scrape: covers 1 of 17 series (Series 3); the other 16 are left as they are; "
        "churn within limits in the covered series"
    )
    report = publish_league(conn1, "CNSWPL", "partial")

    assert report.scope.partial and report.scope.covered == COVERED and len(report.scope.not_covered) == 28
    assert report.summary().startswith("partial scrape: covers 1 of 17 series (Series 3)")
    players = report.tables["players"]
    assert (players.inserted, players.deactivated) == (1, gone_rows)
    assert (report.tables["match_scores"].deleted, report.tables["match_scores"].inserted) == (matches_3, 0)
    for table in ("schedule", "series_stats", "teams"):
        assert report.tables[table].changed == 0, table
    assert outside(conn1, "CNSWPL", COVERED) == before  # not one row outside Series 3 even rewritten
    assert series_3_matches(conn1) == 0
    assert conn1.execute(
        "SELECT bool_or(is_active) FROM players WHERE tenniscores_player_id = %s", (gone,)
    ).fetchone() == (False,)
    recorded = import_runs.publish_report(conn1, "partial", "CNSWPL")
    assert recorded.scope.covered == COVERED and recorded.scope.partial


def test_a_full_scrape_after_it_is_the_whole_league_again(conn1, tmp_path):
    folder, gone, _ = rescrape_of_series_3(tmp_path)
    parsed = parse_league(folder)
    stage_league(conn1, parsed, "partial")
    publish_league(conn1, "CNSWPL", "partial")
    full = parse_league(IMPORT_1 / "CNSWPL")
    stage_league(conn1, full, "full")
    report = publish_league(conn1, "CNSWPL", "full")
    assert not report.scope.partial and report.scope.not_covered == []
    assert report.tables["players"].deactivated == 1  # the partial scrape's new player: the league no longer lists him
    assert report.tables["match_scores"].inserted == series_3_matches(conn1) > 50
    assert conn1.execute(
        "SELECT bool_or(is_active) FROM players WHERE tenniscores_player_id = %s", (gone,)
    ).fetchone() == (True,)
