"""The `rally` CLI in-process: exit codes, one-line errors on stderr, and what reached the database."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rally_assets.cli import main
from rally_assets.core import db
from rally_assets.core.schema import init as schema
from rally_assets_tests.conftest import IMPORT_1, requires_real_data


def _league_players(url: str, league: str) -> set[str]:
    with db.connection(url) as conn:
        rows = conn.execute(
            "SELECT p.tenniscores_player_id FROM players p JOIN leagues l ON l.id = p.league_id WHERE l.league_id = %s",
            (league,),
        ).fetchall()
    return {r[0] for r in rows}


@pytest.fixture
def dagster_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


# --- init-db -----------------------------------------------------------------------------------


def test_init_db_applies_the_schema_then_has_nothing_to_do(empty_db, capsys):
    assert main(["init-db", "--dry-run"]) == 0
    assert "would create the app's schema" in capsys.readouterr().out
    assert main(["init-db"]) == 0
    out = capsys.readouterr().out
    assert "did create the app's schema as app_models_2025-11-14.sql defines it" in out
    applied = re.search(r"the ETL's own schema \(rally_etl\): did run (\d+) statement\(s\)", out)
    assert applied and int(applied.group(1)) > 0, out
    with db.connection(empty_db) as conn:
        assert schema.plan_init(conn).empty

    assert main(["init-db"]) == 0
    captured = capsys.readouterr()
    assert "nothing to do" in captured.out
    assert captured.err == ""


# --- an unreachable database -------------------------------------------------------------------


@pytest.mark.parametrize("command", [["init-db"], ["import", "{landing}"]])
@pytest.mark.parametrize("url", ["postgresql://postgres@127.0.0.1:1/nothing", "postgresql://u:secret@127.0.0.1:1/x"])
def test_unreachable_database_is_one_line_without_the_password(monkeypatch, capsys, tmp_path, url, command):
    monkeypatch.setenv("RALLY_DATABASE_URL", url)
    assert main([arg.format(landing=tmp_path) for arg in command]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "cannot connect" in lines[0]
    assert "Traceback" not in captured.err
    assert "secret" not in captured.err + captured.out


# --- import ------------------------------------------------------------------------------------


@requires_real_data
def test_import_reports_invalid_json_and_still_imports_the_other_league(fresh_db, dagster_home, tmp_path, capsys):
    landing = tmp_path / "landing"
    (landing / "NSTF").mkdir(parents=True)
    (landing / "NSTF" / "players.json").write_text('[{"League": "NSTF", "Player ID": "nndz-1",', encoding="utf-8")
    # 30 real NSTF roster rows, relabelled to the folder they now sit in (rows of another league are rejected).
    records = json.loads((IMPORT_1 / "NSTF" / "players.json").read_text(encoding="utf-8"))[:30]
    tiny = [{**r, "League": "TINY"} for r in records]
    (landing / "TINY").mkdir()
    (landing / "TINY" / "players.json").write_text(json.dumps(tiny), encoding="utf-8")

    assert main(["import", str(landing)]) == 1

    captured = capsys.readouterr()
    failures = captured.err.strip().splitlines()
    assert len(failures) == 1, captured.err
    assert "NSTF" in failures[0] and "players.json" in failures[0] and "not valid JSON" in failures[0]
    assert "Traceback" not in captured.err
    assert _league_players(fresh_db, "NSTF") == set()
    assert re.search(r"^TINY: published", captured.out, re.M), captured.out
    assert _league_players(fresh_db, "TINY") == {r["Player ID"] for r in records}


def test_import_reports_a_badly_named_league_folder(fresh_db, dagster_home, tmp_path, capsys):
    landing = tmp_path / "landing"
    (landing / "bad name!").mkdir(parents=True)
    (landing / "bad name!" / "players.json").write_text("[]", encoding="utf-8")

    assert main(["import", str(landing)]) == 1

    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "bad name!" in lines[0] and "league folder name must be" in lines[0]
    with db.connection(fresh_db) as conn:
        assert conn.execute("SELECT count(*) FROM leagues").fetchone()[0] == 0


@pytest.mark.parametrize(
    "url", ["host=127.0.0.1 port=1 user=u password=secret dbname=x", "postgresql://u@127.0.0.1:1/x?password=secret"]
)
def test_unreachable_database_hides_the_password_in_other_connection_string_forms(monkeypatch, capsys, url):
    monkeypatch.setenv("RALLY_DATABASE_URL", url)
    assert main(["init-db"]) == 1
    err = capsys.readouterr().err
    assert "cannot connect" in err
    assert "secret" not in err


# --- a corrupt real landing (issue 14) -----------------------------------------------------------


def test_import_of_a_corrupt_landing_is_refused_in_one_line_naming_its_diagnosis(fresh_db, dagster_home, capsys):
    """APTA 2025-09-21: 7,537 of 7,551 roster rows without a player id."""
    from rally_assets_tests.e2e.test_real_landings import SAMPLE

    if not SAMPLE.is_dir():
        pytest.skip(f"the real landing sample is absent ({SAMPLE})")
    assert main(["import", str(SAMPLE / "071_2025-09-21_3f9755ae")]) == 1
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == [
        "APTA_CHICAGO: FAILED blocked by check scrape_integrity: corrupt scrape: APTA_CHICAGO/players.json: "
        "player ids missing: 7537 of 7551 (99.81%, limit 50.0%) rows have no Player ID; not importable: fix the "
        "scrape, then land it again"
    ]
    assert _league_players(fresh_db, "APTA_CHICAGO") == set()
