"""scrape_integrity on real landings (issue 14): each corrupt landing of data/rally_history_sample is
refused with the finding, measure, limit and rows it saw; no sound real file is (no false alarm)."""

from __future__ import annotations

import pytest

from rally_assets.core import db, policy
from rally_assets.core.parsing.league import parse_league
from rally_assets.core.protection.integrity import integrity, integrity_verdict
from rally_assets.core.staging import stage_league
from rally_assets_tests.conftest import IMPORT_2, LEAGUES, requires_real_data
from rally_assets_tests.e2e.test_real_landings import SAMPLE, requires_sample

pytestmark = [requires_real_data, requires_sample]


@pytest.fixture
def conn1(import_1_db):
    with db.connection(import_1_db) as connection:
        yield connection


def staged(conn, folder, run_id: str):
    parsed = parse_league(folder)
    stage_league(conn, parsed, run_id)
    return integrity_verdict(conn, parsed.league, run_id, policy.ImportLimits())


def findings(verdict) -> dict[str, tuple]:
    return {f["finding"]: (f["rows"], f["of"], f["pct"], f["limit_pct"]) for f in verdict.measures["findings"]}


def test_an_empty_players_file_is_refused(conn1):
    verdict = staged(conn1, SAMPLE / "026_2025-08-06_11e7e919" / "CNSWPL", "empty")
    assert not verdict.passed
    assert verdict.description.startswith(
        "corrupt scrape: CNSWPL/players.json: empty: 0 rows (limit: at least 1 row): importing it would deactivate "
        "every active player of the league (2258)"
    )
    assert verdict.measures["diagnosis"] == ["empty"] and verdict.measures["rows_read"] == 0


def test_player_ids_missing_on_most_rows_is_refused(conn1):
    verdict = staged(conn1, SAMPLE / "071_2025-09-21_3f9755ae" / "APTA_CHICAGO", "ids")
    assert not verdict.passed
    assert findings(verdict) == {"player ids missing": (7537, 7551, 99.81, policy.MAX_MISSING_PLAYER_ID_PCT)}
    assert "APTA_CHICAGO/players.json: player ids missing: 7537 of 7551 (99.81%, limit 50.0%)" in verdict.description


def test_a_collapsed_series_and_truncated_clubs_are_refused(conn1):
    verdict = staged(conn1, SAMPLE / "029_2025-08-10_59896fb2" / "CNSWPL", "collapsed")
    assert not verdict.passed
    assert [f["finding"] for f in verdict.measures["findings"]] == [
        "series collapsed",  # Series against the rows' own Series Mapping ID
        "series collapsed",  # one series for a league that had 17
        "club names truncated",
    ]
    mapping, one_series, truncated = verdict.measures["findings"]
    assert (mapping["rows"], mapping["of"], mapping["pct"]) == (1659, 1776, 93.41)
    assert (one_series["rows"], one_series["of"], one_series["pct"]) == (1776, 2258, 78.65)
    assert "one series (Series 1) where the league had 17" in one_series["detail"]
    assert (truncated["rows"], truncated["of"], truncated["limit_pct"]) == (869, 1776, policy.MAX_TRUNCATED_CLUB_PCT)
    clubs = verdict.measures["truncated_clubs"]
    for cut, known in {
        "Lake": "Lake Forest",
        "Michigan": "Michigan Shores",
        "Park": "Park Ridge",
        "Glen": "Glen View",
    }.items():
        assert known in clubs[cut], (cut, clubs.get(cut))
    assert "Wilmette" not in clubs  # a one-word club the league knows is not a truncation


def test_a_rescrape_of_one_series_is_not_a_collapse(conn1):
    """059: 48 players, all of Series 17 (the league had 17 series): a partial scrape, not a corrupt one."""
    verdict = staged(conn1, SAMPLE / "059_2025-09-11_675dc8c8" / "CNSWPL", "one-series")
    assert verdict.passed, verdict.description
    assert verdict.measures["series_staged"] == 1 and verdict.measures["league_series"] == 17


@pytest.mark.parametrize(
    "folder",
    [IMPORT_2 / league for league in LEAGUES]
    + [SAMPLE / "045_2025-08-24_12bc52e7" / "CNSWPL", SAMPLE / "000_2025-06-07_91beb5b4" / "NSTF"]
    + [SAMPLE / "004_2025-06-16_2d965063" / "APTA_CHICAGO"],
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_sound_real_files_pass(conn1, folder):
    parsed = parse_league(folder)
    stage_league(conn1, parsed, "sound")
    report = integrity(conn1, parsed.league, "sound")
    assert report["findings"] == [], report


def test_a_first_landing_has_no_history_to_judge_against(fresh_db):
    """No known clubs, no series history: only what the file says of itself (Series Mapping ID) is judged."""
    with db.connection(fresh_db) as conn:
        verdict = staged(conn, SAMPLE / "029_2025-08-10_59896fb2" / "CNSWPL", "first")
    assert [f["finding"] for f in verdict.measures["findings"]] == ["series collapsed"]
    assert verdict.measures["league_series"] == 0 and verdict.measures["truncated_club_rows"] == 0
