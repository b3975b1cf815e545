"""`rally` as an operator meets it (issue 15), each test through the real command in a subprocess on
a real PostgreSQL: finding the database (or saying in one line that there is none), `--dry-run`
against the real import, idempotent housekeeping, help on everything, one-line errors."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from rally_assets.cli import build_parser
from rally_assets.core import db
from rally_assets.tooling import cli_reference
from rally_assets_tests.conftest import IMPORT_1, IMPORT_2, PROJECT_ROOT, landing_with, requires_real_data

RALLY = Path(sys.executable).parent / "rally"
OUR_ENV = ("RALLY_DATABASE_URL", "RALLY_HOME", "RALLY_LANDING_DIR", "DAGSTER_HOME")


def rally(*args: str, cwd: Path, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    """The installed `rally` in a new process: nothing of ours in its environment but `env`."""
    clean = {k: v for k, v in os.environ.items() if k not in OUR_ENV}
    command = [str(RALLY)] if RALLY.exists() else [sys.executable, "-m", "rally_assets.cli"]
    return subprocess.run(
        [*command, *args],
        cwd=cwd,
        env={**clean, **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def one_line(proc: subprocess.CompletedProcess) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    return lines[0]


def all_tables_state(url: str) -> dict[str, list[tuple]]:
    """Every row (with its xmin) of every table of every schema but the system's."""
    with db.connection(url) as conn:
        tables = conn.execute(
            """SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables
            WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
            ORDER BY 1"""
        ).fetchall()
        return {t: conn.execute(f"SELECT xmin::text, x::text FROM {t} x ORDER BY 2").fetchall() for (t,) in tables}


def table_blocks(out: str) -> dict[str, list[str]]:
    """League -> its per-table lines and users line, from an import's or a dry run's output."""
    blocks: dict[str, list[str]] = {}
    league = None
    for line in out.splitlines():
        heading = re.match(r"^(\w+): (published|would publish)", line)
        if heading:
            league = heading.group(1)
            blocks[league] = []
        elif league and line.startswith("  ") and not line.startswith(("  checks:", "  would change", "  ... and")):
            blocks[league].append(line)
        else:
            league = None
    return blocks


@pytest.fixture
def unrelated(tmp_path) -> Path:
    """A folder with no `.rally` in it or above it."""
    here = tmp_path / "unrelated"
    here.mkdir()
    above = [d / ".rally" for d in (here, *here.parents) if (d / ".rally").exists()]
    if above:
        pytest.skip(f"{above[0]} exists above the temp dir: no folder here is unrelated to a Rally home")
    return here


# --- finding the database ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["health"],
        ["import", "landing"],
        ["import", "--dry-run", "landing"],
        ["db-url"],
        ["psql", "-c", "SELECT 1"],
        ["fix-league-contexts", "--dry-run"],
        ["leagues", "list"],
        ["leagues", "remove", "BROKEN"],
        ["ui"],
    ],
)
def test_from_an_unrelated_directory_with_nothing_set_one_line_and_nothing_created(unrelated, command):
    proc = rally(*command, cwd=unrelated)

    assert proc.returncode == 1
    line = one_line(proc)
    assert "no Rally database found" in line and str(unrelated) in line
    assert "rally init-db" in line and "RALLY_HOME" in line
    assert list(unrelated.iterdir()) == []  # no .rally, nothing else either


def test_an_explicit_rally_home_without_a_database_is_not_given_one(tmp_path, unrelated):
    home = tmp_path / "empty_home"
    home.mkdir()
    proc = rally("health", cwd=unrelated, RALLY_HOME=str(home))

    assert proc.returncode == 1
    line = one_line(proc)
    assert f"no Rally database in {home} (RALLY_HOME)" in line and "rally init-db" in line
    assert list(home.iterdir()) == [] and list(unrelated.iterdir()) == []


def test_the_nearest_rally_folder_above_is_found(tmp_path):
    project = tmp_path / "project"
    (project / ".rally").mkdir(parents=True)  # a home, without a database in it yet
    deep = project / "a" / "b"
    deep.mkdir(parents=True)
    proc = rally("health", cwd=deep)

    assert proc.returncode == 1
    assert f"no Rally database in {project / '.rally'} (the nearest one found)" in one_line(proc)
    assert not (deep / ".rally").exists() and not (project / ".rally" / "pgdata").exists()


def test_embedded_init_db_then_every_command_finds_it_from_below_and_stop_db_twice(tmp_path):
    """init-db creates the embedded database (and the landing folder) in ./.rally; db-url and psql
    find it from a subfolder; stop-db stops it, then says it is not running."""
    project = tmp_path / "project"
    (project / "sub" / "dir").mkdir(parents=True)
    try:
        init = rally("init-db", cwd=project, timeout=180)
        assert init.returncode == 0, init.stderr
        home = project / ".rally"
        assert (home / "pgdata" / "PG_VERSION").exists()
        assert (home / "landing").is_dir()
        assert f"landing folder: {home / 'landing'}" in init.stdout

        url = rally("db-url", cwd=project / "sub" / "dir")
        assert url.returncode == 0, url.stderr
        assert f"host={home / 'pgdata'}" in url.stdout and "/rally?" in url.stdout

        psql = rally("psql", "-At", "-c", "SELECT count(*) FROM leagues", cwd=project / "sub" / "dir")
        assert psql.returncode == 0, psql.stderr
        assert psql.stdout.strip() == "0"

        again = rally("init-db", cwd=project / "sub")  # finds the same one: nothing to do
        assert again.returncode == 0 and "nothing to do" in again.stdout, again.stdout + again.stderr
        assert not (project / "sub" / ".rally").exists()
    finally:
        first = rally("stop-db", cwd=project)
        second = rally("stop-db", cwd=project)
    assert first.returncode == 0 and "stopped" in first.stdout, first.stdout + first.stderr
    assert second.returncode == 0 and "is not running" in second.stdout, second.stdout + second.stderr
    assert "stopped" not in second.stdout


def test_db_url_hides_the_password_unless_asked(unrelated):
    url = "postgresql://rally:s3cret@db.example:5432/rally"
    hidden = rally("db-url", cwd=unrelated, RALLY_DATABASE_URL=url)
    shown = rally("db-url", "--show-password", cwd=unrelated, RALLY_DATABASE_URL=url)
    assert hidden.returncode == 0 and "s3cret" not in hidden.stdout and "rally:***@db.example" in hidden.stdout
    assert shown.returncode == 0 and shown.stdout.strip() == url


def test_a_database_without_the_schema_is_one_line(empty_db, unrelated):
    proc = rally("health", cwd=unrelated, RALLY_DATABASE_URL=empty_db)
    assert proc.returncode == 1
    assert "none of the app's tables" in one_line(proc) and "rally init-db" in proc.stderr


# --- import --dry-run ------------------------------------------------------------------------


@requires_real_data
def test_dry_run_changes_no_row_and_prints_what_the_import_then_reports(users_db, tmp_path):
    """import_2 over import_1 with 500 users: APTA_CHICAGO and NSTF publish, CNSWPL is blocked."""
    landing = landing_with(tmp_path, IMPORT_2, ["APTA_CHICAGO", "CNSWPL", "NSTF"])
    env = {"RALLY_DATABASE_URL": users_db, "RALLY_HOME": str(tmp_path / "home")}
    before = all_tables_state(users_db)

    dry = rally("import", "--dry-run", str(landing), cwd=tmp_path, **env)

    assert all_tables_state(users_db) == before  # every row of every table, the ETL's own included
    assert not (tmp_path / "home" / "dagster").exists()  # nothing written to Dagster either
    real = rally("import", str(landing), cwd=tmp_path, **env)
    assert dry.returncode == real.returncode == 1, dry.stderr + real.stderr
    assert table_blocks(dry.stdout) == table_blocks(real.stdout)
    assert set(table_blocks(dry.stdout)) == {"APTA_CHICAGO", "NSTF"}
    assert (
        "  schedule               3223            0           98            0"
        in table_blocks(real.stdout)["APTA_CHICAGO"]
    )
    blocked = [line for line in dry.stderr.splitlines() if line.startswith("CNSWPL")]
    assert blocked == [line for line in real.stderr.splitlines() if line.startswith("CNSWPL")]
    assert len(blocked) == 1 and "churn_breaker" in blocked[0]
    assert "rally import --allow-churn" in blocked[0] and "import_policy: {config: {allow_churn: true}}" in blocked[0]
    assert dry.stdout.count("legend: inserted: new rows") == real.stdout.count("legend: inserted: new rows") == 1


@requires_real_data
def test_dry_run_of_an_override_lists_the_users_it_would_touch(users_db, tmp_path):
    landing = landing_with(tmp_path, IMPORT_2, ["CNSWPL"])
    env = {"RALLY_DATABASE_URL": users_db, "RALLY_HOME": str(tmp_path / "home")}
    before = all_tables_state(users_db)

    dry = rally("import", "--dry-run", "--allow-churn", str(landing), cwd=tmp_path, **env)

    assert dry.returncode == 0, dry.stderr
    assert all_tables_state(users_db) == before
    carried = re.findall(r"^  would change user \d+: linked to cnswpl_\S+ \(was nndz-\S+\)", dry.stdout, re.M)
    assert carried, dry.stdout
    users = re.search(r"users: (\d+) link\(s\) carried", dry.stdout)
    real = rally("import", "--allow-churn", str(landing), cwd=tmp_path, **env)
    assert table_blocks(dry.stdout) == table_blocks(real.stdout)
    assert users and int(users.group(1)) >= len(carried)


@requires_real_data
def test_a_wrong_shaped_players_json_names_the_file_and_the_missing_fields(fresh_db, tmp_path):
    """The issue's case: a real league folder whose players.json is `[{"foo": 1}]`."""
    landing = landing_with(tmp_path, IMPORT_1, ["NSTF"])
    players = landing / "NSTF" / "players.json"
    players.chmod(0o644)
    players.write_text(json.dumps([{"foo": 1}]))
    env = {"RALLY_DATABASE_URL": fresh_db, "RALLY_HOME": str(tmp_path / "home")}

    for args in (["import", "--dry-run", str(landing)], ["import", str(landing)]):
        proc = rally(*args, cwd=tmp_path, **env)
        assert proc.returncode == 1
        line = one_line(proc)
        assert line.startswith("NSTF: FAILED") and "players.json" in line
        assert "'Player ID', 'Last Name', 'Club'" in line and "fields found: 'foo'" in line
        assert "schedules.json" not in line and "match_history.json" not in line and "{}" not in line


# --- housekeeping ------------------------------------------------------------------------------


def test_demo_twice_reuses_its_users(empty_db, tmp_path):
    env = {"RALLY_DATABASE_URL": empty_db, "RALLY_HOME": str(tmp_path / "home")}
    first = rally("demo", cwd=tmp_path, **env)
    assert first.returncode == 0, first.stderr
    assert "synthetic users: 100 (100 added, 0 reused)" in first.stdout
    assert (tmp_path / "home" / "landing").is_dir()  # the landing folder the sensor watches
    with db.connection(empty_db) as conn:
        users = conn.execute("SELECT count(*), max(id) FROM users").fetchone()

    second = rally("demo", cwd=tmp_path, **env)

    assert second.returncode == 0, second.stderr
    assert "synthetic users: 100 (0 added, 100 reused)" in second.stdout
    with db.connection(empty_db) as conn:
        assert conn.execute("SELECT count(*), max(id) FROM users").fetchone() == users


def _partitions(env: dict, cwd: Path) -> dict[str, str]:
    proc = rally("leagues", "list", cwd=cwd, **env)
    assert proc.returncode == 0, proc.stderr
    return dict(line.split(": ", 1) for line in proc.stdout.splitlines() if ": " in line)


@requires_real_data
def test_leagues_remove_an_empty_partition_and_refuse_a_published_one(fresh_db, tmp_path):
    landing = landing_with(tmp_path, IMPORT_1, ["NSTF"])
    (landing / "BROKEN").mkdir()
    (landing / "BROKEN" / "players.json").write_text(json.dumps([{"foo": 1}]))
    env = {"RALLY_DATABASE_URL": fresh_db, "RALLY_HOME": str(tmp_path / "home")}
    imported = rally("import", str(landing), cwd=tmp_path, **env)
    assert imported.returncode == 1 and "NSTF: published" in imported.stdout
    partitions = _partitions(env, tmp_path)
    assert partitions["BROKEN"] == "no published data" and partitions["NSTF"].startswith("published (")

    dry = rally("leagues", "remove", "broken", "--dry-run", cwd=tmp_path, **env)
    assert dry.returncode == 0 and "would remove league partition BROKEN" in dry.stdout
    assert "BROKEN" in _partitions(env, tmp_path)
    removed = rally("leagues", "remove", "BROKEN", cwd=tmp_path, **env)
    assert removed.returncode == 0 and "removed league partition BROKEN" in removed.stdout
    again = rally("leagues", "remove", "BROKEN", cwd=tmp_path, **env)
    assert again.returncode == 0 and "nothing to remove" in again.stdout
    assert set(_partitions(env, tmp_path)) == {"NSTF"}

    refused = rally("leagues", "remove", "NSTF", cwd=tmp_path, **env)
    assert refused.returncode == 1
    line = one_line(refused)
    assert line.startswith("rally leagues remove: league NSTF holds published data (")
    assert "808 players" in line and "1 published run(s)" in line
    assert set(_partitions(env, tmp_path)) == {"NSTF"}


@requires_real_data
def test_health_of_a_specific_user(users_db, tmp_path):
    with db.connection(users_db) as conn:
        (email,) = conn.execute(
            "SELECT u.email FROM users u JOIN user_player_associations a ON a.user_id = u.id ORDER BY u.id LIMIT 1"
        ).fetchone()
    env = {"RALLY_DATABASE_URL": users_db, "RALLY_HOME": str(tmp_path / "home")}
    proc = rally("health", "--specific-user", email.upper(), cwd=tmp_path, **env)
    assert proc.returncode == 0, proc.stderr
    assert re.match(
        rf"^{re.escape(email)}: league context \w+ \(valid\); 1 association\(s\); 3 availability", proc.stdout
    )
    unknown = rally("health", "--specific-user", "nobody@example.com", cwd=tmp_path, **env)
    assert unknown.returncode == 2 and "no user with email" in one_line(unknown)


# --- help and errors ---------------------------------------------------------------------------


def _every_command() -> list[tuple[str, argparse.ArgumentParser]]:
    return list(cli_reference.subcommands(build_parser()))


def test_every_subcommand_help_has_a_description_and_every_option_a_help(tmp_path):
    commands = _every_command()
    assert {"rally import", "rally db-url", "rally psql", "rally leagues remove", "rally ui"} <= {
        n for n, _ in commands
    }
    for name, parser in commands:
        proc = rally(*name.split()[1:], "--help", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert parser.description and " ".join(parser.description.replace("%%", "%").split()[:4]) in " ".join(
            proc.stdout.split()
        ), (name, proc.stdout)
        for written, action in cli_reference.options(parser):
            assert action.help, f"{name} {written} has no help text"
            assert written.split()[0] in proc.stdout


def test_the_readme_command_tables_are_the_parsers():
    block = cli_reference.readme_block((PROJECT_ROOT / "README.md").read_text())
    assert block == cli_reference.render(build_parser()), (
        "README.md's command tables differ from the parser: run python -m rally_assets.tooling.cli_reference"
    )


def test_the_override_flags_named_in_blocked_reasons_exist(tmp_path):
    from rally_assets.core.protection.verdicts import override_hint

    options = {w.split()[0] for n, p in _every_command() if n == "rally import" for w, _ in cli_reference.options(p)}
    for flag in ("--allow-churn", "--max-rejected-pct"):
        assert flag in options
        assert flag in override_hint("x", "y", flag)


def test_a_usage_error_is_one_line(tmp_path):
    proc = rally("demo", "--scale", "many", cwd=tmp_path)
    assert proc.returncode == 2
    line = one_line(proc)
    assert "--scale" in line and "invalid int value: 'many'" in line and "rally demo --help" in line


def test_psql_runs_on_the_database_in_use(fresh_db, tmp_path):
    proc = rally("psql", "-At", "-c", "SELECT current_database()", cwd=tmp_path, RALLY_DATABASE_URL=fresh_db)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == conninfo_to_dict(fresh_db)["dbname"]


@requires_real_data
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["import", "{tmp}/nowhere"], "rally import: {tmp}/nowhere: is not a folder"),
        (["import", "--dry-run", "{tmp}/nowhere"], "rally import: {tmp}/nowhere: is not a folder"),
        (
            ["import", "--dry-run", "--league", "xyz", str(IMPORT_1)],
            f"XYZ: FAILED no folder for league XYZ in {IMPORT_1.resolve()}",  # the landing folder, resolved
        ),
        (
            ["import", "--max-rejected-pct", "200", "x"],
            "rally import: argument --max-rejected-pct: must be from 0 to 100",
        ),
        (["discover", "--limit", "0"], "rally discover: argument --limit: must be 1 or more, not 0"),
        (["fix-league-contexts", "--specific-user", "nobody@example.com"], "no user with email 'nobody@example.com'"),
    ],
)
def test_errors_an_operator_can_cause_are_one_line(fresh_db, tmp_path, args, expected):
    proc = rally(*[a.format(tmp=tmp_path) for a in args], cwd=tmp_path, RALLY_DATABASE_URL=fresh_db)
    assert proc.returncode != 0
    assert expected.format(tmp=tmp_path) in one_line(proc)


@requires_real_data
def test_import_through_the_installed_command_prints_everything_and_records_its_one_run(fresh_db, tmp_path):
    """The installed `rally` exits without the interpreter's teardown: its output, its exit code and
    the Dagster run it recorded must all be there, a broken league beside a sound one included."""
    landing = landing_with(tmp_path, IMPORT_1, ["NSTF"])
    (landing / "CNSWPL").mkdir()
    (landing / "CNSWPL" / "players.json").write_text('[{"Player ID": "nndz-1",')  # truncated
    home = tmp_path / "home"
    done = rally("import", str(landing), cwd=tmp_path, RALLY_DATABASE_URL=fresh_db, RALLY_HOME=str(home))
    assert done.returncode == 1, done.stderr
    assert "NSTF: published" in done.stdout and "check league_context_health_check: passed" in done.stdout
    assert "CNSWPL: FAILED" in done.stderr and "CNSWPL/players.json" in done.stderr
    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    try:
        (run,) = instance.get_runs()
        assert run.job_name == "import_landing_job" and run.is_failure  # the broken league fails the run
        players = instance.get_latest_materialization_event(dg.AssetKey("players"))
        assert players.run_id == run.run_id and players.dagster_event.partition == "NSTF"
    finally:
        instance.dispose()
