"""Taking over a database the old importer filled (production schema of 2025-07-09, the app's real
users): the first import keeps the id of every row it can identify (legacy series names renamed in
place, players by league + player id), replaces the old importer's fact rows, meets the user data as
it is (one player id held by three users, contexts on a deleted league, links to unknown players,
availability pointing at deleted rows, polls on deleted teams) without deleting or rewriting any of
it, and the churn breaker trips on a crafted re-keying because it judges with the publish's identity.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator

import pytest

from rally_assets.cli import main
from rally_assets.core import db
from rally_assets.core.constants import ETL_SCHEMA, FACT_TABLES
from rally_assets.core.schema.init import init_db
from rally_assets.core.users.health import relink_availability, user_data_anomalies
from rally_assets.defs.runner import import_leagues, run_post_import
from rally_assets.tooling.synthetic.users import seed_users
from rally_assets_tests.conftest import (
    APP_SCHEMA_FILES,
    IMPORT_1,
    LEAGUES,
    create_database,
    drop_database,
    import_folder,
    load_app_schema,
    requires_real_data,
    with_dbname,
)

pytestmark = requires_real_data

BROKEN_LEAGUE = 987654  # contexts on a league the old importer deleted
USER_TABLES = ("users", "user_player_associations", "player_availability", "polls", "poll_choices", "poll_responses")


def legacy_name(league: str, name: str) -> str:
    """The series name the old importer wrote for a series this import calls `name`."""
    if league == "APTA_CHICAGO" and (m := re.fullmatch(r"Series (\d+( SW)?)", name)):
        return f"Chicago {m.group(1)}"
    if league == "CNSWPL":
        if name == "Series SN":
            return "Sunday Night"  # only the app's series_name_mappings knows this one
        if m := re.fullmatch(r"Series (\d+[a-z]?|[A-Z])", name):
            return f"Division {m.group(1)}"
    if league == "NSTF" and (m := re.fullmatch(r"Series (\d+[A-Z]?)", name)):
        return f"S{m.group(1)}"
    return name


def _split_series_into_legacy_rows(conn) -> None:
    """One global series row per (league, legacy name), as the old importer left them, with the
    league's players, teams and standings re-pointed at it (ids of everything else unchanged)."""
    rows = conn.execute(
        """SELECT l.id, l.league_id, s.id, s.name FROM series_leagues sl
        JOIN leagues l ON l.id = sl.league_id JOIN series s ON s.id = sl.series_id ORDER BY s.id, l.id"""
    ).fetchall()
    for lid, league, sid, name in rows:
        legacy = legacy_name(league, name)
        new_id = conn.execute(
            """INSERT INTO series (name, display_name) VALUES (%(n)s, %(n)s)
            ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id""",
            {"n": f"{legacy}\x01tmp" if legacy == name else legacy},
        ).fetchone()[0]
        for table in ("players", "teams", "series_stats"):
            conn.execute(
                f"UPDATE {table} SET series_id = %s WHERE series_id = %s AND league_id = %s", (new_id, sid, lid)
            )
        conn.execute(
            "UPDATE series_leagues SET series_id = %s WHERE series_id = %s AND league_id = %s", (new_id, sid, lid)
        )
    conn.execute("DELETE FROM series s WHERE NOT EXISTS (SELECT 1 FROM series_leagues sl WHERE sl.series_id = s.id)")
    conn.execute(
        "UPDATE series SET name = replace(name, E'\\x01tmp', ''), display_name = replace(display_name, E'\\x01tmp', '')"
    )


def _as_the_old_importer_left_it(conn) -> None:
    _split_series_into_legacy_rows(conn)
    conn.execute(f"DROP SCHEMA {ETL_SCHEMA} CASCADE")  # its functions, guard triggers and team-key index with it
    for table in FACT_TABLES:
        conn.execute(f"ALTER TABLE {table} DROP COLUMN etl_row_hash")
    for (index,) in conn.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'rally\\_etl\\_%'").fetchall():
        conn.execute(f"DROP INDEX {index}")
    # Such databases predate the app's unique_tenniscores_player_id.
    conn.execute("ALTER TABLE user_player_associations DROP CONSTRAINT unique_tenniscores_player_id")
    conn.execute(
        """CREATE TABLE series_name_mappings (league_id varchar(255) REFERENCES leagues(league_id) ON DELETE CASCADE,
            user_series_name varchar(255), database_series_name varchar(255));
        INSERT INTO series_name_mappings VALUES ('CNSWPL', 'Series SN', 'Sunday Night');"""
    )
    conn.execute(
        """INSERT INTO schedule (league_id, match_date, match_time, home_team, away_team, home_team_id, location)
        SELECT t.league_id, '2025-01-12', '10:30', c.name || ' Practice - Series 2B', '', t.id, c.name
        FROM teams t JOIN clubs c ON c.id = t.club_id ORDER BY t.id LIMIT 3"""
    )


def _user_damage(conn) -> dict[str, int]:
    """What the real databases hold that later app constraints forbid, or that points at deleted rows."""
    damage = {}
    damage["broken_contexts"] = conn.execute(
        f"UPDATE users SET league_context = {BROKEN_LEAGUE} WHERE id % 20 = 0"
    ).rowcount
    damage["unknown_links"] = conn.execute(
        """INSERT INTO user_player_associations (user_id, tenniscores_player_id)
        SELECT id, 'nndz-GONE' || id FROM users WHERE id % 30 = 1"""
    ).rowcount
    shared = conn.execute(  # a real player's id, held by one user so far
        "SELECT min(tenniscores_player_id) FROM user_player_associations WHERE tenniscores_player_id NOT LIKE 'nndz-GONE%'"
    ).fetchone()[0]
    conn.execute(
        """INSERT INTO user_player_associations (user_id, tenniscores_player_id)
        SELECT id, %s FROM users ORDER BY id DESC LIMIT 2""",
        (shared,),
    )
    # Rows the old importer's delete-and-reinsert orphaned: dangling player_id, but a valid name and series.
    conn.execute(
        """UPDATE player_availability SET player_id = 999000 + id, user_id = NULL
        WHERE id IN (SELECT id FROM player_availability ORDER BY id LIMIT 30)"""
    )
    conn.execute(
        """UPDATE player_availability SET series_id = 999999, player_id = 998000 + id, user_id = NULL
        WHERE id IN (SELECT id FROM player_availability ORDER BY id DESC LIMIT 5)"""
    )
    conn.execute("INSERT INTO polls (team_id, question) VALUES (999999, 'Gone team?'), (999998, 'Gone too?')")
    return damage


@pytest.fixture(scope="module")
def legacy_template(server_url) -> Iterator[tuple[str, dict]]:
    """A production-schema database as the old importer left it, with 300 users; and the ids of its players."""
    name = create_database(server_url)
    with db.connection(with_dbname(server_url, name)) as conn:
        load_app_schema(conn, APP_SCHEMA_FILES["production"])
        init_db(conn)
        for league in LEAGUES:
            import_folder(conn, IMPORT_1 / league, f"legacy-{league}")
        _as_the_old_importer_left_it(conn)
        seed_users(conn, 300, seed=11)
        damage = _user_damage(conn)
        players = dict(
            conn.execute(
                "SELECT l.league_id || ':' || p.tenniscores_player_id || ':' || p.club_id, p.id FROM players p "
                "JOIN leagues l ON l.id = p.league_id WHERE p.is_active"
            ).fetchall()
        )
    yield name, players, damage
    drop_database(server_url, name)


@pytest.fixture
def legacy_db(server_url, legacy_template, monkeypatch, tmp_path):
    from rally_assets_tests.conftest import cloned_database

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    (tmp_path / "dagster").mkdir()
    with cloned_database(server_url, legacy_template[0], monkeypatch) as url:
        yield url, legacy_template[1], legacy_template[2]


def _rows(conn, table: str, exclude: tuple[str, ...] = ()) -> list:
    columns = [
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s "
            "ORDER BY ordinal_position",
            (table,),
        )
        if r[0] not in exclude
    ]
    return conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY 1, 2").fetchall()


def test_the_first_import_adopts_the_old_importers_rows_and_keeps_every_user_row(legacy_db, tmp_path, capsys):
    url, fixture_players, damage = legacy_db
    with db.connection(url) as conn:
        series_before = dict(conn.execute("SELECT name, id FROM series").fetchall())
        users_before = {t: _rows(conn, t, exclude=("league_context", "league_id")) for t in USER_TABLES}
        practice_before = [r for r in _rows(conn, "schedule") if "Practice" in (r[3] or "")]
        assert main(["init-db"]) == 0  # in spite of the user data the app's later constraints forbid

    outcomes = {o.league: o for o in import_leagues(IMPORT_1)}
    assert all(o.success for o in outcomes.values()), {k: o.error for k, o in outcomes.items()}
    post = run_post_import()

    with db.connection(url) as conn:
        kept = conn.execute(
            "SELECT count(*) FROM players p WHERE p.is_active AND p.id = ANY(%s)", (list(fixture_players.values()),)
        ).fetchone()[0]
        assert kept / len(fixture_players) >= 0.99, (kept, len(fixture_players))
        series_after = dict(conn.execute("SELECT id, name FROM series").fetchall())
        # renamed in place (same id), or identified under a name another league's series holds
        assert series_after[series_before["Chicago 22"]] == "Series 22"
        assert series_after[series_before["Chicago 7 SW"]] == "Series 7 SW"
        assert series_after[series_before["S2B"]] == "Series 2B"
        assert series_after[series_before["Sunday Night"]] == "Series SN"  # through series_name_mappings
        assert series_after[series_before["Division 14a"]] == "Series 14a"
        assert series_after[series_before["Division 1"]] == "Division 1"  # 'Series 1' is APTA's: kept, identified
        adoption = outcomes["CNSWPL"].publish.adoption
        assert {
            "table": "series",
            "id": series_before["Division 1"],
            "name": "Division 1",
            "as": "Series 1",
            "action": "identified, kept its name (the name is taken)",
        } in adoption
        # the old importer's fact rows are replaced, never kept beside the new ones; practice times stay
        for table in FACT_TABLES:
            app_rows = "home_team ILIKE '%%practice%%'" if table == "schedule" else "false"
            legacy_left = f"SELECT count(*) FROM {table} WHERE etl_row_hash IS NULL AND NOT ({app_rows})"
            assert conn.execute(legacy_left).fetchone()[0] == 0, table
        practice_after = [r for r in _rows(conn, "schedule", exclude=("etl_row_hash",)) if "Practice" in (r[3] or "")]
        assert practice_after == practice_before
        # every user row kept as it was, but for the league contexts the import repaired (and the links
        # discovery added: a link is only ever added)
        after = {t: _rows(conn, t, exclude=("league_context", "league_id")) for t in USER_TABLES}
        assert set(users_before.pop("user_player_associations")) <= set(after.pop("user_player_associations"))
        assert after == users_before
        before_values = {
            r[0] for r in conn.execute("SELECT before_value FROM rally_etl.repairs WHERE kind = 'league_context'")
        }
        assert str(BROKEN_LEAGUE) in before_values  # the real before value, not NULL
    assert post.checks["league_context_health_check"][0], post.checks

    with db.connection(url) as conn:
        anomalies = user_data_anomalies(conn)
        assert anomalies["player_ids_held_by_several_users"]["count"] == 1
        assert anomalies["associations_to_unknown_players"]["count"] == damage["unknown_links"] > 0, anomalies[
            "associations_to_unknown_players"
        ]
        assert anomalies["availability_on_deleted_players"]["count"] == 35
        assert anomalies["availability_on_deleted_series"]["count"] == 5
        assert anomalies["polls_on_deleted_teams"]["count"] == 2
        relinked = relink_availability(conn, source="test")
        assert sum(r["via"] == "name_and_series" for r in relinked) >= 25  # the app's legacy key resolves them
        assert all(r["user_id"] is not None for r in relinked)
        left = user_data_anomalies(conn)["availability_without_user_not_relinkable"]
        assert left["count"] >= 5 and left["reasons"]
    capsys.readouterr()
    assert main(["health"]) == 0
    out = capsys.readouterr().out
    assert "player_ids_held_by_several_users: 1" in out and "polls_on_deleted_teams: 2" in out


def test_the_breaker_judges_a_re_keying_by_the_publishs_own_identity(legacy_db, tmp_path):
    """Every NSTF player at another club: same ids, same names, same series (the old breaker compared
    names where the publish keys on ids, and passed such re-keyings); the publish would deactivate all 808."""
    url, _, _ = legacy_db
    with db.connection(url) as conn:
        init_db(conn)
    landing = tmp_path / "landing"
    shutil.copytree(IMPORT_1 / "NSTF", landing / "NSTF")
    players = json.loads((landing / "NSTF" / "players.json").read_text())
    clubs = sorted({p["Club"] for p in players})
    for p in players:  # every player at the next club: sound-looking (full names, the same series), all re-keyed
        p["Club"] = clubs[(clubs.index(p["Club"]) + 1) % len(clubs)]
    (landing / "NSTF" / "players.json").write_text(json.dumps(players))
    (outcome,) = import_leagues(landing, ["NSTF"])
    assert not outcome.success
    assert outcome.error.startswith("blocked by check churn_breaker: naming drift:")  # same ids, other names
    assert "100.0% of active players (limit 20.0%)" in outcome.error
    with db.connection(url) as conn:
        assert (
            conn.execute(
                "SELECT count(*) FROM players p JOIN leagues l ON l.id = p.league_id WHERE l.league_id = 'NSTF' AND p.is_active"
            ).fetchone()[0]
            == 808
        )
