"""User data through real imports: preserved, checked, carried across an id-scheme change (protection issue)."""

from __future__ import annotations

import pytest

from rally_assets.core import db, import_runs
from rally_assets.core.constants import ETL_TABLES, PROTECTED_TABLES
from rally_assets.defs.runner import import_leagues, run_post_import
from rally_assets_tests.conftest import IMPORT_2, SYNTHETIC_USERS, landing_with, table_state

pytestmark = pytest.mark.filterwarnings("ignore")


def evaluations(outcome) -> dict[str, bool]:
    return {name: passed for name, (passed, _why) in outcome.checks.items()}


def test_next_import_of_nstf_and_apta_preserves_all_user_data(users_db, dagster_instance, tmp_path):
    with db.connection(users_db) as conn:
        before = table_state(conn, PROTECTED_TABLES)
        assert len(before["user_player_associations"]) == SYNTHETIC_USERS
    landing = landing_with(tmp_path, IMPORT_2, ["NSTF", "APTA_CHICAGO"])
    outcomes = import_leagues(landing, instance=dagster_instance)
    for outcome in outcomes:
        assert outcome.success, outcome.error
        assert all(evaluations(outcome).values()), outcome.checks
        assert set(evaluations(outcome)) == {
            "scrape_integrity",
            "staged_data_quality",
            "churn_breaker",
            "availability_untouched",
            "associations_preserved",
            "no_orphan_references",
        }
    post = run_post_import(instance=dagster_instance)
    assert post.success, post.error
    assert evaluations(post) == {"league_context_health_check": True, "availability_user_id_check": True}
    with db.connection(users_db) as conn:
        after = table_state(conn, PROTECTED_TABLES)
        discovered = conn.execute("SELECT count(*) FROM rally_etl.repairs WHERE kind = 'discovery'").fetchone()[0]
    # contexts, availability and the rest: byte-identical (same rows, same xmin)
    for table in PROTECTED_TABLES:
        if table != "user_player_associations":
            assert after[table] == before[table], table
    # every association is still there, untouched; discovery may only have added some, each recorded
    assert set(before["user_player_associations"]) <= set(after["user_player_associations"])
    assert len(after["user_player_associations"]) - len(before["user_player_associations"]) == discovered


def test_id_scheme_change_is_blocked_before_publish_and_nothing_live_changes(users_db, dagster_instance, tmp_path):
    with db.connection(users_db) as conn:
        before = table_state(conn, ETL_TABLES + PROTECTED_TABLES)
    (outcome,) = import_leagues(landing_with(tmp_path, IMPORT_2, ["CNSWPL"]), instance=dagster_instance)
    assert not outcome.success
    assert outcome.error.startswith("blocked by check churn_breaker")
    assert "100.0% of active players" in outcome.error and "id-scheme change" in outcome.error
    assert outcome.checks["churn_breaker"][0] is False
    with db.connection(users_db) as conn:
        assert table_state(conn, ETL_TABLES + PROTECTED_TABLES) == before


def test_id_scheme_change_with_override_carries_user_links_across(users_db, dagster_instance, tmp_path):
    with db.connection(users_db) as conn:
        linked = conn.execute(
            """SELECT DISTINCT a.user_id, lower(p.first_name), lower(p.last_name) FROM user_player_associations a
            JOIN players p ON p.tenniscores_player_id = a.tenniscores_player_id
            JOIN leagues l ON l.id = p.league_id AND l.league_id = 'CNSWPL'"""
        ).fetchall()
        associations_before = set(
            conn.execute("SELECT user_id, tenniscores_player_id FROM user_player_associations").fetchall()
        )
    assert len(linked) > 50
    (outcome,) = import_leagues(
        landing_with(tmp_path, IMPORT_2, ["CNSWPL"]), instance=dagster_instance, policy={"allow_churn": True}
    )
    assert outcome.success, outcome.error
    assert outcome.checks["churn_breaker"][0] is True and "operator override" in outcome.checks["churn_breaker"][1]
    assert outcome.publish.links.links_carried + outcome.publish.links.links_unmatched >= len(linked)
    with db.connection(users_db) as conn:
        new_names = set(
            conn.execute(
                """SELECT lower(first_name), lower(last_name) FROM players p JOIN leagues l ON l.id = p.league_id
            WHERE l.league_id = 'CNSWPL' AND p.is_active"""
            ).fetchall()
        )
        matchable = [u for u, first, last in linked if (first, last) in new_names]
        now_linked = {
            r[0]
            for r in conn.execute(
                """SELECT DISTINCT a.user_id FROM user_player_associations a JOIN players p
            ON p.tenniscores_player_id = a.tenniscores_player_id AND p.is_active
            JOIN leagues l ON l.id = p.league_id AND l.league_id = 'CNSWPL'"""
            ).fetchall()
        }
        carried_share = sum(1 for u in matchable if u in now_linked) / len(matchable)
        assert carried_share >= 0.95, carried_share
        # the rest are reported, each with a reason
        links = import_runs.publish_report(conn, outcome.run_id, "CNSWPL").links
        assert len(links.unmatched) == links.links_unmatched
        assert all(r["reason"] for r in links.unmatched)
        # old links are never removed
        assert associations_before <= set(
            conn.execute("SELECT user_id, tenniscores_player_id FROM user_player_associations").fetchall()
        )
