"""The churn breaker says why (issue 14): id-scheme change (only of a sound file), naming drift,
departures, partial; each description starts with the diagnosis and says which action fits.
Real files, slightly bent where the sample has no case of its own."""

from __future__ import annotations

import json
import shutil

import pytest

from rally_assets.core import db, policy
from rally_assets.core.parsing.league import parse_league
from rally_assets.core.protection.verdicts import churn_breaker
from rally_assets.core.staging import stage_league
from rally_assets_tests.conftest import IMPORT_1, IMPORT_2, requires_real_data
from rally_assets_tests.e2e.test_real_landings import SAMPLE, requires_sample

pytestmark = requires_real_data


@pytest.fixture
def conn1(import_1_db):
    with db.connection(import_1_db) as connection:
        yield connection


def breaker(conn, folder, run_id: str):
    parsed = parse_league(folder)
    stage_league(conn, parsed, run_id)
    return churn_breaker(conn, parsed.league, run_id, policy.ImportLimits())


def bent(tmp_path, source, fn):
    """A copy of a real league folder whose players.json records went through fn."""
    folder = tmp_path / source.name
    shutil.copytree(source, folder)
    players = folder / "players.json"
    rows = json.loads(players.read_text())
    players.chmod(0o644)
    players.write_text(json.dumps([fn(dict(r)) for r in rows]))
    return folder


def test_same_ids_under_other_club_names_is_naming_drift(conn1, tmp_path):
    folder = bent(tmp_path, IMPORT_1 / "NSTF", lambda r: {**r, "Club": r["Club"] + " Club"})
    verdict = breaker(conn1, folder, "drift")
    m = verdict.measures
    assert not verdict.passed and m["diagnosis"] == "naming drift"
    assert m["player_ids_replaced_pct"] == 0.0 and m["deactivated_pct"] == 100.0
    assert m["gone_same_id"] == m["gone_rows"] == m["active_players"] and m["gone_same_id_pct"] == 100.0
    assert verdict.description.startswith(
        f"naming drift: {m['gone_rows']} of the {m['gone_rows']} rows the publish would deactivate (100.0%) keep "
        "their player id under another club or series name (e.g. "
    )
    assert " / Series 2A -> " in verdict.description and " Club / Series 2A (" in verdict.description
    assert "user links stay: same ids" in verdict.description and "fix the name normalisation" in verdict.description


def test_an_id_switch_on_a_corrupt_file_is_never_called_an_id_scheme_change(conn1, tmp_path):
    """import_2's clean CNSWPL id switch (an id-scheme change) with its clubs cut to their first word."""
    folder = bent(tmp_path, IMPORT_2 / "CNSWPL", lambda r: {**r, "Club": r["Club"].split()[0]})
    verdict = breaker(conn1, folder, "corrupt")
    assert not verdict.passed and verdict.measures["diagnosis"] == "corrupt scrape"
    assert verdict.description.startswith("corrupt scrape: players.json fails scrape_integrity (club names truncated)")
    assert "id-scheme" not in verdict.description and "do not override" in verdict.description
    # the very same switch, unbent, is one
    clean = breaker(conn1, IMPORT_2 / "CNSWPL", "clean")
    assert clean.measures["diagnosis"] == "id-scheme change" and clean.description.startswith("id-scheme change: ")


@requires_sample
def test_a_partial_scrape_is_judged_within_its_series(conn1):
    """059 (48 cnswpl_ players of Series 17) against import_1's nndz- league: within Series 17 every id
    is new; the description says the diagnosis first, then that the scrape is partial."""
    verdict = breaker(conn1, SAMPLE / "059_2025-09-11_675dc8c8" / "CNSWPL", "partial")
    m = verdict.measures
    # 31 series rows: the league's 17 and the sub-series of its clubs' sub-teams ('Series 14a')
    assert (m["partial_scrape"], m["series_covered"], m["series_not_covered"]) == (True, 1, 30)
    assert not verdict.passed and m["diagnosis"] == "departures"
    # 88 rows of Series 17 would go; 20 of them are players still active in another series (moved out of it)
    assert (m["active_players"], m["would_deactivate"], m["moved_out_of_scope"]) == (88, 88, 20)
    assert (m["gone_rows"], m["departed_matched"]) == (68, 22)
    assert verdict.description == (
        "departures: 68 players are gone and only 22 of them (32.35%) reappear under a new id with the same name, "
        "club and series. partial scrape: covers 1 of 17 series (Series 17); the other 16 are left as they are; "
        "77.27% of active players (limit 20.0%) and 0.0% of user-linked players (limit 10.0%) would be deactivated; "
        "100.0% of player ids are gone from the import. Action: if the league really lost them, override with "
        "allow_churn; if the scrape missed them, rescrape; to publish anyway: rally import --allow-churn, or in the "
        "launchpad resources: {import_policy: {config: {allow_churn: true}}}"
    )
