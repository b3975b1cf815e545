"""The import as a guest in the app's real schema, in each of its states (data/rally_schema/): load the
app's own schema file, `rally init-db` twice, import_1, import_2 of NSTF and APTA, import_2 of CNSWPL
(the id-scheme change: refused, then published with --allow-churn). Every league is published at
every step, no user-owned row changes, and the app's own writes (with only the columns that state
of the app writes) succeed before init-db, after it and after the imports; the production schema's
views and functions still run."""

from __future__ import annotations

import pytest

from rally_assets.cli import main
from rally_assets.core import db
from rally_assets.core.constants import PROTECTED_TABLES
from rally_assets.core.schema.profile import read_profile
from rally_assets_tests.conftest import (
    APP_SCHEMA_FILES,
    IMPORT_1,
    IMPORT_2,
    LEAGUES,
    cloned_database,
    load_app_schema,
    requires_real_data,
    table_state,
)

pytestmark = requires_real_data


def app_writes(conn, tag: str) -> dict[str, int]:
    """What the app itself writes, in the columns this state of the app writes, each in its own
    transaction: a league and club of its own, a series and a team, a user with a link, an
    availability row, a poll, a practice time. Returns the new rows' ids."""
    profile = read_profile(conn)
    per_league = profile.series_per_league
    ids: dict[str, int] = {}

    def write(name: str, sql: str, params: dict) -> None:
        with conn.transaction():
            ids[name] = conn.execute(sql + " RETURNING id", {**params, **ids, "tag": tag}).fetchone()[0]

    stamp = ", now()" if profile.has("leagues", "created_at") else ""
    write(
        "league",
        f"INSERT INTO leagues (league_id, league_name{', created_at' if stamp else ''}) VALUES (%(tag)s, %(tag)s{stamp})",
        {},
    )
    write("club", "INSERT INTO clubs (name) VALUES ('Club ' || %(tag)s)", {})
    if per_league:  # the app model writes series (name, league_id) and teams without display names
        write("series", "INSERT INTO series (name, league_id) VALUES ('Series ' || %(tag)s, %(league)s)", {})
        write(
            "team",
            "INSERT INTO teams (club_id, series_id, league_id, team_name, is_active) "
            "VALUES (%(club)s, %(series)s, %(league)s, 'Team ' || %(tag)s, true)",
            {},
        )
    else:  # production 07-09: global series with a display name, linked through series_leagues
        write(
            "series", "INSERT INTO series (name, display_name) VALUES ('Series ' || %(tag)s, 'Series ' || %(tag)s)", {}
        )
        with conn.transaction():
            conn.execute("INSERT INTO series_leagues (series_id, league_id) VALUES (%(series)s, %(league)s)", ids)
        write(
            "team",
            "INSERT INTO teams (club_id, series_id, league_id, team_name, display_name) "
            "VALUES (%(club)s, %(series)s, %(league)s, 'Team ' || %(tag)s, 'Team ' || %(tag)s)",
            {},
        )
    is_admin = ", is_admin" if not profile.columns["users"]["is_admin"].has_default else ""
    write(
        "user",
        f"INSERT INTO users (email, password_hash, first_name, last_name{is_admin}) "
        f"VALUES (%(tag)s || '@app.example', 'x', 'App', %(tag)s{', false' if is_admin else ''})",
        {},
    )
    # Registration links the user to their player and sets their league (only once players exist).
    unclaimed = conn.execute(
        """SELECT p.tenniscores_player_id, p.league_id FROM players p WHERE p.is_active AND NOT EXISTS (
               SELECT 1 FROM user_player_associations a WHERE a.tenniscores_player_id = p.tenniscores_player_id)
           ORDER BY p.id LIMIT 1"""
    ).fetchone()
    if unclaimed:
        with conn.transaction():
            conn.execute(
                "INSERT INTO user_player_associations (user_id, tenniscores_player_id) VALUES (%s, %s)",
                (ids["user"], unclaimed[0]),
            )
            conn.execute("UPDATE users SET league_context = %s WHERE id = %s", (unclaimed[1], ids["user"]))
    # Availability for a real player by name and series, as the app writes it (production's own
    # trigger fills player_id from those and refuses a name it cannot find, so before any import
    # that state of the app cannot write one at all).
    player = conn.execute(
        "SELECT first_name || ' ' || last_name, series_id FROM players WHERE is_active ORDER BY id LIMIT 1"
    ).fetchone()
    if player or per_league:
        name, series_id = player or (f"App {tag}", ids["series"])
        write(
            "availability",
            "INSERT INTO player_availability (player_name, match_date, series_id, availability_status, user_id, updated_at) "
            "VALUES (%(name)s, '2025-03-02 00:00:00+00', %(series_id)s, 1, %(user)s, now())",
            {"name": name, "series_id": series_id},
        )
    write("poll", "INSERT INTO polls (team_id, created_by, question) VALUES (%(team)s, %(user)s, 'Practice?')", {})
    write(
        "practice",
        "INSERT INTO schedule (league_id, match_date, match_time, home_team, away_team, home_team_id, location) "
        "VALUES (%(league)s, '2025-03-02', '10:00', 'Club ' || %(tag)s || ' Practice - Series 1', '', %(team)s, 'courts')",
        {},
    )
    return ids


def user_tables(conn) -> list[str]:
    return [t for t in PROTECTED_TABLES if read_profile(conn).has(t)]


def league_published(conn, league: str, run_label: str) -> None:
    status = conn.execute(
        "SELECT status FROM rally_etl.import_runs WHERE league = %s ORDER BY id DESC LIMIT 1", (league,)
    ).fetchone()
    assert status == ("published",), (run_label, league, status)


@pytest.mark.parametrize("state", sorted(APP_SCHEMA_FILES))
def test_each_state_of_the_apps_schema_imports_every_league_and_keeps_user_rows(
    server_url, monkeypatch, tmp_path, capsys, state
):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    (tmp_path / "dagster").mkdir()
    with cloned_database(server_url, None, monkeypatch) as url, db.connection(url) as conn:
        load_app_schema(conn, APP_SCHEMA_FILES[state])
        app_writes(conn, f"before_{state}")

        assert main(["init-db"]) == 0
        assert main(["init-db"]) == 0
        assert "nothing to do" in capsys.readouterr().out
        app_writes(conn, f"after_init_{state}")

        steps = [
            ("import_1", [str(IMPORT_1)], 0, LEAGUES),
            (
                "import_2 NSTF+APTA",
                [str(IMPORT_2), "--league", "NSTF", "--league", "APTA_CHICAGO"],
                0,
                ("NSTF", "APTA_CHICAGO"),
            ),
            ("import_2 CNSWPL", [str(IMPORT_2), "--league", "CNSWPL"], 1, ()),
            ("import_2 CNSWPL override", [str(IMPORT_2), "--league", "CNSWPL", "--allow-churn"], 0, ("CNSWPL",)),
        ]
        for label, args, exit_code, published in steps:
            users_before = table_state(conn, user_tables(conn))
            code = main(["import", *args])
            out, err = capsys.readouterr()
            assert code == exit_code, (label, out, err)
            for league in published:
                league_published(conn, league, label)
                assert f"{league}: published" in out, (label, out)
            if exit_code:
                assert "blocked by check churn_breaker" in err, err
            users_after = table_state(conn, user_tables(conn))
            # no user has a link to an imported player here, so not even a context repair is due
            assert users_after == users_before, label
        app_writes(conn, f"after_imports_{state}")

        if state == "production":  # the app's own views and functions of that state still run
            assert conn.execute("SELECT count(*) FROM migration_validation").fetchone()[0] == 4
            name, series_id = conn.execute(
                "SELECT first_name || ' ' || last_name, series_id FROM players WHERE is_active ORDER BY id LIMIT 1"
            ).fetchone()
            assert conn.execute("SELECT validate_player_exists(%s, %s)", (name, series_id)).fetchone()[0] is not None
            conn.execute("SELECT * FROM validate_team_assignments()").fetchall()
            with conn.transaction():  # the app's availability trigger resolves a player by name and series
                conn.execute(
                    "INSERT INTO player_availability (player_name, match_date, series_id, availability_status) "
                    "VALUES (%s, '2025-04-06 00:00:00+00', %s, 2)",
                    (name, series_id),
                )
        teams = conn.execute("SELECT count(*), count(DISTINCT (club_id, series_id, league_id)) FROM teams").fetchone()
        assert teams[0] == teams[1]  # unique_team_club_series_league held (it is there in both states)
