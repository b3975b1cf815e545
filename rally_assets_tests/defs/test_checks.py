"""Every asset check, made to fail by a real condition (no mocks), with its failure and its numbers.

Import checks (per league, on import_league_job): the job is executed in-process for one partition
and the evaluation is read from the run. Health checks (post_import_job): run through the runner
and read back from the Dagster instance's event log, where the UI reads them.
"""

from __future__ import annotations

import json

import dagster as dg
import pytest

from rally_assets.core import db
from rally_assets.core.constants import ETL_TABLES, PROTECTED_TABLES
from rally_assets.core.protection.snapshots import availability_changes, take_snapshot
from rally_assets.core.schema.profile import read_profile
from rally_assets.core.users.health import orphan_queries
from rally_assets.definitions import defs
from rally_assets.defs import runner
from rally_assets_tests.conftest import (
    IMPORT_1,
    IMPORT_2,
    SYNTHETIC_USERS,
    landing_with,
    legacy_writes,
    requires_real_data,
    table_state,
)

pytestmark = [pytest.mark.filterwarnings("ignore"), requires_real_data]

LIVE_TABLES = ETL_TABLES + PROTECTED_TABLES
STAGED_CHECKS = {"scrape_integrity", "staged_data_quality", "churn_breaker"}


# --- helpers -------------------------------------------------------------------------------------


def run_import(
    instance: dg.DagsterInstance, landing, league: str, policy: dict | None = None
) -> dg.ExecuteInProcessResult:
    """One partition of the import job, exactly as the runner launches it."""
    if league not in instance.get_dynamic_partitions("leagues"):
        instance.add_dynamic_partitions("leagues", [league])
    return defs.resolve_job_def(runner.IMPORT_JOB).execute_in_process(
        run_config=runner.run_config(landing, policy), instance=instance, partition_key=league, raise_on_error=False
    )


def evaluations(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def stored_evaluation(instance: dg.DagsterInstance, asset: str, check: str) -> tuple[str, dg.AssetCheckEvaluation]:
    """The latest evaluation of a check as the event log holds it: (run id, evaluation)."""
    key = dg.AssetCheckKey(dg.AssetKey(asset), check)
    record = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])[key]
    return record.run_id, record.evaluation


def values(evaluation: dg.AssetCheckEvaluation) -> dict:
    """The evaluation's metadata as plain Python values."""
    return {k: v.value for k, v in evaluation.metadata.items()}


def assert_failed(
    evaluation: dg.AssetCheckEvaluation, *, blocking: bool = False, severity=dg.AssetCheckSeverity.ERROR
) -> dict:
    """A failed check. `blocking`: a Dagster-blocking check (the gate checks are not: they are
    evaluated inside the import step, which refuses the publish itself)."""
    assert evaluation.passed is False, evaluation.description
    assert evaluation.severity == severity
    assert bool(evaluation.blocking) is blocking
    return values(evaluation)


def materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def assert_blocked_before_publish(result, instance, check: str, url: str, before: dict) -> None:
    """A gate check refused the publish: nothing after the staging ran, no live row was even rewritten.
    The run itself succeeds (the league was judged, nothing broke): its partition is not marked failed."""
    assert result.success
    assert runner._failure_reason(result).startswith(f"blocked by check {check}")
    assert materialized(result) == {"staged_league"}
    assert instance.get_latest_materialization_event(dg.AssetKey("user_data_snapshot")) is None
    assert instance.get_latest_materialization_event(dg.AssetKey("players")) is None
    # the post-publish checks never ran (skipped: there was nothing published to check)
    assert set(evaluations(result)) == STAGED_CHECKS
    with db.connection(url) as conn:
        assert (
            conn.execute("SELECT count(*) FROM rally_etl.snapshots WHERE run_id = %s", (result.run_id,)).fetchone()[0]
            == 0
        )
        assert table_state(conn, LIVE_TABLES) == before


def install_sabotage(conn, statements: str) -> None:
    """A buggy publish, simulated in the database: while a publish transaction writes players, run
    `statements` against user data. The rally guard refuses such writes while `rally.publishing` is
    on, so the sabotage switches it off around them (a bug that slipped past both guards)."""
    conn.execute(
        f"""CREATE FUNCTION sabotage_user_data() RETURNS trigger LANGUAGE plpgsql AS $fn$
        BEGIN
          IF coalesce(current_setting('rally.publishing', true), '') = 'on' THEN
            PERFORM set_config('rally.publishing', 'off', true);
            {statements};
            PERFORM set_config('rally.publishing', 'on', true);
          END IF;
          RETURN NULL;
        END $fn$"""
    )
    conn.execute(
        "CREATE TRIGGER sabotage_user_data AFTER INSERT OR UPDATE ON players "
        "FOR EACH STATEMENT EXECUTE FUNCTION sabotage_user_data()"
    )


# --- staged_data_quality (gate, on staged_league) ---------------------------------------------


def test_staged_data_quality_blocks_a_file_of_mostly_junk_rows(users_db, dagster_instance, tmp_path):
    landing = landing_with(tmp_path, IMPORT_2, ["NSTF"])
    schedules = landing / "NSTF" / "schedules.json"
    rows = json.loads(schedules.read_text())
    assert len(rows) == 110
    byes = [{**rows[i], "home_team": f"BYE - {i + 1}"} for i in range(50)]  # a scrape full of bye weeks
    schedules.write_text(json.dumps(rows + byes))
    with db.connection(users_db) as conn:
        before = table_state(conn, LIVE_TABLES)

    result = run_import(dagster_instance, landing, "NSTF")

    checks = evaluations(result)
    assert checks["churn_breaker"].passed  # only the junk stops it
    meta = assert_failed(checks["staged_data_quality"])
    assert meta["files_over_limit"] == {"schedules.json": 31.25}  # 50 of 160 rows
    assert meta["rejected_pct_by_file"] == {"players.json": 0.0, "match_history.json": 6.37, "schedules.json": 31.25}
    assert meta["max_rejected_pct"] == "25"  # a limit: text, never plotted
    assert meta["players_staged"] == 808
    assert set(meta["duplicate_natural_keys"].values()) == {0}
    assert "files over 25.0% rejected" in checks["staged_data_quality"].description
    assert_blocked_before_publish(result, dagster_instance, "staged_data_quality", users_db, before)


def test_staged_data_quality_blocks_real_data_under_a_stricter_policy(users_db, dagster_instance, tmp_path):
    # The real NSTF import_2 match_history has 33 of 518 rows rejected (placeholders): 6.37%.
    with db.connection(users_db) as conn:
        before = table_state(conn, LIVE_TABLES)

    result = run_import(dagster_instance, landing_with(tmp_path, IMPORT_2, ["NSTF"]), "NSTF", {"max_rejected_pct": 0.5})

    meta = assert_failed(evaluations(result)["staged_data_quality"])
    assert meta["files_over_limit"] == {"match_history.json": 6.37}
    assert meta["max_rejected_pct"] == "0.5"
    assert_blocked_before_publish(result, dagster_instance, "staged_data_quality", users_db, before)


# --- churn_breaker (gate, on staged_league) ---------------------------------------------------


def test_churn_breaker_blocks_an_id_scheme_change(users_db, dagster_instance, tmp_path):
    with db.connection(users_db) as conn:
        before = table_state(conn, LIVE_TABLES)
        active, linked = conn.execute(
            """SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM user_player_associations a
                                                                WHERE a.tenniscores_player_id = p.tenniscores_player_id))
            FROM players p JOIN leagues l ON l.id = p.league_id AND l.league_id = 'CNSWPL' WHERE p.is_active"""
        ).fetchone()
    assert active > 2000 and linked > 50

    result = run_import(dagster_instance, landing_with(tmp_path, IMPORT_2, ["CNSWPL"]), "CNSWPL")

    evaluation = evaluations(result)["churn_breaker"]
    meta = assert_failed(evaluation)
    assert meta == {
        "active_players": active,
        "linked_players": linked,
        "would_deactivate": active,
        "would_deactivate_linked": linked,
        "deactivated_pct": 100.0,
        "deactivated_linked_pct": 100.0,
        "player_ids_replaced_pct": 100.0,
        "override": "False",
        "max_deactivated_pct": "20",
        "max_deactivated_linked_pct": "10",
        # issue 14: the scope the breaker judged in (a full scrape: the whole league) ...
        "moved_out_of_scope": 0,
        "partial_scrape": "False",
        "series_covered": 42,  # 29 series and 13 sub-series of clubs' sub-teams
        "series_not_covered": 0,
        # ... and its diagnosis: the departed players reappear under new ids with the same name, club, series
        "gone_rows": active,
        "gone_same_id": 0,
        "gone_same_id_pct": 0.0,
        "departed": active,
        "departed_matched": 2177,
        "departed_matched_pct": 82.03,
        "departed_matched_by_name": 2568,
        "new_ids": 3080,
        "diagnosis": "id-scheme change",
        "action": "override with allow_churn (rally import --allow-churn): user links are carried to the new ids",
    }
    assert evaluation.description.startswith(
        "id-scheme change: 100.0% of player ids are gone and 2177 of the 2654 departed players (82.03%) match"
    )
    assert "allow_churn" in evaluation.description
    # the event log (what the UI shows) holds the same failed evaluation, from the CNSWPL run
    run_id, stored = stored_evaluation(dagster_instance, "staged_league", "churn_breaker")
    assert run_id == result.run_id
    assert dagster_instance.get_run_by_id(run_id).tags["dagster/partition"] == "CNSWPL"
    assert stored.passed is False and values(stored) == meta
    assert_blocked_before_publish(result, dagster_instance, "churn_breaker", users_db, before)


def test_churn_breaker_trips_on_linked_players_alone(users_db, dagster_instance, tmp_path):
    """8 of NSTF's 38 user-linked players vanish from the scrape: ~1% of the league, but ~21% of
    the players users are linked to."""
    with db.connection(users_db) as conn:
        before = table_state(conn, LIVE_TABLES)
        linked_ids = [
            r[0]
            for r in conn.execute(
                """SELECT DISTINCT p.tenniscores_player_id FROM players p
            JOIN leagues l ON l.id = p.league_id AND l.league_id = 'NSTF'
            JOIN user_player_associations a ON a.tenniscores_player_id = p.tenniscores_player_id
            WHERE p.is_active ORDER BY 1"""
            ).fetchall()
        ]
        dropped = linked_ids[:8]
        active, linked, gone = conn.execute(
            """SELECT count(*), count(*) FILTER (WHERE p.tenniscores_player_id = ANY(%(linked)s)),
                      count(*) FILTER (WHERE p.tenniscores_player_id = ANY(%(dropped)s))
            FROM players p JOIN leagues l ON l.id = p.league_id AND l.league_id = 'NSTF' WHERE p.is_active""",
            {"linked": linked_ids, "dropped": dropped},
        ).fetchone()
    landing = landing_with(tmp_path, IMPORT_1, ["NSTF"])
    players = landing / "NSTF" / "players.json"
    rows = json.loads(players.read_text())
    players.write_text(json.dumps([r for r in rows if r["Player ID"] not in dropped]))

    result = run_import(dagster_instance, landing, "NSTF")

    evaluation = evaluations(result)["churn_breaker"]
    meta = assert_failed(evaluation)
    assert (meta["active_players"], meta["linked_players"]) == (active, linked)
    assert meta["would_deactivate"] == meta["would_deactivate_linked"] == gone
    assert meta["deactivated_pct"] == round(100.0 * gone / active, 2) < float(meta["max_deactivated_pct"])
    assert (
        meta["deactivated_linked_pct"]
        == round(100.0 * gone / linked, 2)
        > float(meta["max_deactivated_linked_pct"])
        == 10.0
    )
    assert meta["player_ids_replaced_pct"] < 50 and "id-scheme" not in evaluation.description
    # issue 14: the breaker says what it sees: players gone, nobody replacing them
    assert evaluation.description.startswith(
        f"departures: {gone} players are gone and none of them reappears under a new id with the same name"
    )
    assert meta["diagnosis"] == "departures" and "rescrape" in meta["action"]
    assert evaluations(result)["staged_data_quality"].passed
    assert_blocked_before_publish(result, dagster_instance, "churn_breaker", users_db, before)


# --- availability_untouched (blocking, on player_availability) ---------------------------------------


def test_availability_untouched_catches_a_publish_that_rewrites_and_deletes_availability(
    users_db, dagster_instance, tmp_path
):
    with db.connection(users_db) as conn:
        changed_id, lost_id = conn.execute("SELECT min(id), max(id) FROM player_availability").fetchone()
        total = conn.execute("SELECT count(*) FROM player_availability").fetchone()[0]
        install_sabotage(
            conn,
            f"UPDATE player_availability SET notes = 'overwritten by the import' WHERE id = {changed_id}; "
            f"DELETE FROM player_availability WHERE id = {lost_id}",
        )

    result = run_import(dagster_instance, landing_with(tmp_path, IMPORT_2, ["NSTF"]), "NSTF")

    evaluation = evaluations(result)["availability_untouched"]
    meta = assert_failed(evaluation, blocking=True)
    assert meta["rows_before"] == total and meta["rows_after"] == total - 1
    assert (meta["lost"], meta["changed_by_import"], meta["changed_by_app"]) == (1, 1, 0)
    assert meta["offending_ids"] == [changed_id, lost_id]
    assert meta["snapshot_id"].isdigit()  # an id: text, never plotted
    assert evaluation.description == "1 availability row(s) lost and 1 changed without the app"
    # the check runs after the publish (it cannot undo it) but fails the run for the operator
    assert "players" in materialized(result)
    assert not result.success
    assert runner._failure_reason(result).startswith("blocked by check availability_untouched")


@pytest.mark.parametrize("app_stamped", [True, False], ids=["app_write_allowed", "unstamped_write_caught"])
def test_availability_changes_tells_app_writes_from_import_writes(users_db, app_stamped):
    """The allowance: a row the app rewrote during the import (updated_at moved) is fine; the same
    change without a new updated_at is the import's."""
    with db.connection(users_db) as conn:
        snapshot_id = take_snapshot(conn, "app-write-test", "NSTF")["snapshot_id"]
        row_id = conn.execute("SELECT min(id) FROM player_availability").fetchone()[0]
        stamp = "updated_at + interval '1 second'" if app_stamped else "updated_at"
        conn.execute(
            f"UPDATE player_availability SET availability_status = availability_status %% 3 + 1, updated_at = {stamp} "
            "WHERE id = %s",
            (row_id,),
        )
        report = availability_changes(conn, snapshot_id)
    assert report["lost"] == 0
    if app_stamped:
        assert (report["changed_by_app"], report["changed_by_import"], report["offending_ids"]) == (1, 0, [])
    else:
        assert (report["changed_by_app"], report["changed_by_import"], report["offending_ids"]) == (0, 1, [row_id])


def test_availability_untouched_catches_a_publish_that_stamps_its_rewrite(users_db, dagster_instance, tmp_path):
    with db.connection(users_db) as conn:
        row_id = conn.execute("SELECT min(id) FROM player_availability").fetchone()[0]
        install_sabotage(
            conn,
            "UPDATE player_availability SET availability_status = availability_status % 3 + 1, updated_at = now() "
            f"WHERE id = {row_id}",
        )

    result = run_import(dagster_instance, landing_with(tmp_path, IMPORT_2, ["NSTF"]), "NSTF")

    meta = values(evaluations(result)["availability_untouched"])
    assert (meta["changed_by_import"], meta["offending_ids"]) == (1, [row_id])  # today: changed_by_app == 1
    assert_failed(evaluations(result)["availability_untouched"], blocking=True)


# --- associations_preserved (on user_player_associations) -------------------------------------------------


def test_associations_preserved_names_an_association_the_publish_deleted(users_db, dagster_instance, tmp_path):
    with db.connection(users_db) as conn:
        user_id, player_id = conn.execute(
            """SELECT a.user_id, a.tenniscores_player_id FROM user_player_associations a
            JOIN players p ON p.tenniscores_player_id = a.tenniscores_player_id
            JOIN leagues l ON l.id = p.league_id AND l.league_id = 'NSTF' ORDER BY a.user_id LIMIT 1"""
        ).fetchone()
        install_sabotage(conn, f"DELETE FROM user_player_associations WHERE user_id = {user_id}")

    result = run_import(dagster_instance, landing_with(tmp_path, IMPORT_2, ["NSTF"]), "NSTF")

    evaluation = evaluations(result)["associations_preserved"]
    meta = assert_failed(evaluation, blocking=False)
    assert meta["associations_before"] == SYNTHETIC_USERS
    assert meta["associations_after"] == SYNTHETIC_USERS - 1
    assert meta["missing"] == 1
    assert meta["missing_sample"] == [f"{user_id}:{player_id}"]
    assert evaluation.description == "1 association(s) disappeared"
    # not blocking: the publish stands and the run succeeds, with the failed check on record
    assert result.success and "players" in materialized(result)
    run_id, stored = stored_evaluation(dagster_instance, "user_player_associations", "associations_preserved")
    assert run_id == result.run_id and stored.passed is False


# --- no_orphan_references (on user_player_associations) ---------------------------------------------------


def test_no_orphan_references_counts_dangling_user_references(users_db, dagster_instance, tmp_path):
    with db.connection(users_db) as conn:
        # An app user with no players whose league context points at a league that is gone, and an
        # availability row whose series is gone: neither FK-backed, neither something a publish repairs.
        # The app's model backs both with foreign keys now; such rows are what older databases hold
        # (written before the keys existed), so they are written here as such a database got them.
        with legacy_writes(conn):
            conn.execute(
                "INSERT INTO users (email, password_hash, is_admin, league_context) "
                "VALUES ('gone@users.rally.example', 'x', false, 999999)"
            )
            availability_id = conn.execute("SELECT min(id) FROM player_availability").fetchone()[0]
            conn.execute("UPDATE player_availability SET series_id = 999999 WHERE id = %s", (availability_id,))

    result = run_import(dagster_instance, landing_with(tmp_path, IMPORT_2, ["NSTF"]), "NSTF")

    evaluation = evaluations(result)["no_orphan_references"]
    meta = assert_failed(evaluation, blocking=False)
    with db.connection(users_db) as conn:
        names = orphan_queries(read_profile(conn))
    expected = {name: 0 for name in names} | {"users.league_context": 1, "player_availability.series_id": 1}
    assert meta == {**expected, "total": 2, "league": "NSTF"}
    assert evaluation.description == (
        "dangling references: {'users.league_context': 1, 'player_availability.series_id': 1}"
    )
    assert result.success and "players" in materialized(result)
    # the other post-publish checks are not confused by it
    assert evaluations(result)["availability_untouched"].passed
    assert evaluations(result)["associations_preserved"].passed


# --- health checks (post_import_job, on the app tables users and player_availability) -----------------------------------------


def test_league_context_health_check_fails_when_users_lose_their_only_active_player(users_db, dagster_instance):
    broken = 50  # 10% of the synthetic users
    with db.connection(users_db) as conn:
        # users whose last name no other player has: neither the one rule nor discovery can repair them
        player_ids = [
            r[0]
            for r in conn.execute(
                """SELECT a.tenniscores_player_id FROM users u JOIN user_player_associations a ON a.user_id = u.id
            WHERE NOT EXISTS (SELECT 1 FROM players p WHERE lower(btrim(p.last_name)) = lower(btrim(u.last_name))
                              AND p.tenniscores_player_id <> a.tenniscores_player_id)
            ORDER BY u.id LIMIT %s""",
                (broken,),
            ).fetchall()
        ]
        assert len(player_ids) == broken
        # the league no longer lists them (what an import that dropped them leaves behind)
        conn.execute("UPDATE players SET is_active = false WHERE tenniscores_player_id = ANY(%s)", (player_ids,))

    outcome = runner.run_post_import(instance=dagster_instance)

    assert not outcome.success and outcome.error.startswith("league_context_health_check: league-context health 90.0%")
    assert outcome.checks["availability_user_id_check"][0] is True
    run_id, evaluation = stored_evaluation(dagster_instance, "users", "league_context_health_check")
    assert run_id == outcome.run_id
    # 90% is still in the "excellent" band: a warning (the repair still follows)
    meta = assert_failed(evaluation, severity=dg.AssetCheckSeverity.WARN)
    assert meta == {
        "total": SYNTHETIC_USERS,
        "valid": SYNTHETIC_USERS - broken,
        "null": 0,
        "broken": broken,
        "score": 90.0,
        "band": "excellent",
        "minimum": "95",  # a constant: text, never plotted
    }
    assert isinstance(meta["score"], float)


def test_availability_user_id_check_fails_when_rows_lose_their_user(users_db, dagster_instance):
    with db.connection(users_db) as conn:
        total = conn.execute("SELECT count(*) FROM player_availability").fetchone()[0]
        assert total == 3 * SYNTHETIC_USERS
        # rows keyed by player only, as the old app wrote them: 20% of them
        conn.execute(
            "UPDATE player_availability SET user_id = NULL WHERE id IN (SELECT id FROM player_availability ORDER BY id LIMIT 300)"
        )

    outcome = runner.run_post_import(instance=dagster_instance)

    assert (
        not outcome.success
        and outcome.error == "availability_user_id_check: 80.0% of 1500 availability rows carry a user_id"
    )
    assert outcome.checks["league_context_health_check"][0] is True
    run_id, evaluation = stored_evaluation(dagster_instance, "player_availability", "availability_user_id_check")
    assert run_id == outcome.run_id
    meta = assert_failed(evaluation, severity=dg.AssetCheckSeverity.WARN)  # 80%: the "good" band
    assert meta == {
        "total": total,
        "with_user_id": total - 300,
        "without_user_id": 300,
        "pct": 80.0,
        "minimum": "90",
        "band": "good",
    }
    # the post-import job reports, it does not relink (a separate repair)
    with db.connection(users_db) as conn:
        assert conn.execute("SELECT count(*) FROM player_availability WHERE user_id IS NULL").fetchone()[0] == 300


def test_availability_user_id_check_is_not_fooled_by_rounding(users_db, dagster_instance):
    with db.connection(users_db) as conn:
        # 18,000 rows with a user_id (each user's 3 weeks, repeated 12 times over later weeks) ...
        conn.execute(
            """INSERT INTO player_availability (user_id, player_id, player_name, series_id, match_date, availability_status)
            SELECT user_id, player_id, player_name, series_id, match_date + make_interval(days => 21 * k), availability_status
            FROM player_availability CROSS JOIN generate_series(1, 11) AS k"""
        )
        # ... and 2,001 without: 18000 / 20001 = 89.9955%, below the 90% minimum
        conn.execute(
            """INSERT INTO player_availability (user_id, player_id, player_name, series_id, match_date, availability_status)
            SELECT NULL, player_id, player_name, series_id, match_date + interval '1 year', availability_status
            FROM player_availability ORDER BY id LIMIT 2001"""
        )
        assert conn.execute("SELECT count(*), count(user_id) FROM player_availability").fetchone() == (20001, 18000)

    outcome = runner.run_post_import(instance=dagster_instance)

    _run_id, evaluation = stored_evaluation(dagster_instance, "player_availability", "availability_user_id_check")
    assert values(evaluation)["without_user_id"] == 2001
    assert_failed(evaluation, severity=dg.AssetCheckSeverity.WARN)  # today: passed, pct 90.0
    assert not outcome.success
