"""`rally bench`: how fast the import is, next to its floor and the old way, at 1x, 10x and 100x.

What is measured (every number comes from this run, on this machine, on the same server):

- **real data**: `import_1` then `import_2` (all leagues) through the domain functions, stage by
  stage (parse, stage, snapshot, publish, discovery, checks), on a fresh database; 1,000 synthetic
  users are added between the two imports so `import_2` carries user data through the snapshot,
  the checks and the id-scheme change (published as `rally import --allow-churn` would).
- **the Dagster job**: `import_leagues` + `run_post_import` in-process on `import_1` (every check),
  on a fresh database and a fresh DAGSTER_HOME (`real_import_s`); and a cold subprocess
  `rally import import_1` on a fresh database and a fresh RALLY_HOME (`real_import_cold_cli_s`).
- **synthetic scales**: `synthetic.generate_landing` grown the way Rally grows (more leagues of
  ~900 players), sized to ~1x, ~10x and ~100x the rows of the real `import_1` (`--quick` stops
  after 10x). Each scale runs in its own process (its peak RSS is the process's own) on its own
  database.
- **baselines, on the same rows and the same database**: the COPY floor (the staged rows, as
  Python tuples, COPY'd into empty UNLOGGED tables of the staging shape) and the old way (one
  INSERT statement per row through psycopg, `cur.execute` in a loop with the values bound on the
  client and no prepared statement, as the old psycopg2 ETL ran them, into empty logged tables of
  the same shape, one transaction).
- **100k users** on the largest scale's database: the health checks, the re-import of one league
  with those users, and the pieces of an import that read every user (each capped at 60 s);
  **a landing-sensor tick over 1,000 league folders** (steady state, and the first tick that
  hashes everything).

`python -m rally_assets.tooling.bench --worker SPEC` is the per-process worker; `run_bench` the driver.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from rally_assets.core.constants import STAGED_FRAMES  # the staged tables the baselines count and copy
from rally_assets.core.errors import RallyError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REAL_DATA = PROJECT_ROOT.parent / "shared" / "data" / "rally_real"
STAGES = ("parse", "stage", "snapshot", "publish", "discovery", "checks")
OLD_ETL_MEDIAN_S = 22.3  # the old importer on import_1, same machine kind (issue)
OLD_ETL_STATEMENTS = 68_668
REAL_USERS = 1_000  # users added between import_1 and import_2
HEALTH_USERS = 100_000
SENSOR_FOLDERS = 1_000
FULL_MULTIPLIERS = (1, 10, 100)
QUICK_MULTIPLIERS = (1, 10)
# key -> (comparison, target, what it is)
TARGETS = {
    "real_import_cold_cli_s": ("<=", 5.0, "cold `rally import import_1` (3 leagues, every check), s"),
    "real_import_s": ("<=", 5.0, "import_1 through the Dagster job in-process (every check), s"),
    "publish_vs_copy_ratio": ("<=", 3.0, "publish time / COPY floor, real import_1"),
    "speedup_vs_rowwise": (">=", 10.0, "row-by-row INSERT time / (stage + publish), real import_1"),
    "peak_rss_mb": ("<=", 1024.0, "largest peak RSS of any measured process, MB"),
    "scale_10x_vs_1x": ("<=", 10.0, "time of 10x / time of real import_1"),
    "health_checks_100k_users_s": ("<=", 2.0, "health checks over 100k users, s"),
    "sensor_tick_1000_leagues_s": ("<=", 1.0, "landing-sensor tick over 1,000 league folders (steady), s"),
}


def _log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _now() -> float:
    return time.perf_counter()


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KB on Linux


def _rss_mb() -> float:
    """The current RSS (not the peak): how much one league leaves behind."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return _peak_rss_mb()


def with_dbname(url: str, dbname: str) -> str:
    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo(**params)


# --- the server and its throwaway databases ------------------------------------------------------


def server_admin_url() -> str:
    """A URL on the server the benchmark creates its databases on: RALLY_DATABASE_URL's, else the embedded one."""
    from rally_assets.core import db

    return db.configured_database_url() or db.embedded_server_url(database="postgres")


def create_database(admin_url: str, tag: str) -> tuple[str, str]:
    name = f"rally_bench_{tag}_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        from rally_assets.core.db import redact

        raise RallyError(
            f"cannot create a benchmark database on {redact(admin_url)}: {str(exc).strip().splitlines()[0]}"
        ) from exc
    return name, with_dbname(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    with contextlib.suppress(psycopg.Error), psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def fresh_database(admin_url: str, tag: str):
    name, url = create_database(admin_url, tag)
    try:
        yield url
    finally:
        drop_database(admin_url, name)


# --- worker: one landing (or several) through the domain functions, stage by stage --------------


class _Baselines:
    """The COPY floor and the row-by-row INSERTs, on the rows each league stages.

    The floor runs beside the import, one short transaction per league. The row-by-row pass runs
    after it (the leagues parsed again, untimed): its one long transaction would otherwise hold
    back VACUUM for everything the import deletes meanwhile, and slow the import it is compared to.
    """

    def __init__(self, url: str, floor: bool, rowwise: bool):
        from rally_assets.core.staging import _columns

        self.columns = {table: _columns(table) for table in STAGED_FRAMES}
        self.floor, self.rowwise = floor, rowwise
        self.floor_s = self.rowwise_s = self.build_s = 0.0
        self.rowwise_statements = 0
        self.conn = psycopg.connect(url, autocommit=True)
        self.conn.execute("CREATE SCHEMA IF NOT EXISTS bench_floor")
        self.conn.execute("CREATE SCHEMA IF NOT EXISTS bench_rowwise")
        for table in STAGED_FRAMES:
            # The floor: the staging tables' columns only (no index), unlogged. The old way: logged
            # tables of the staging tables' shape (columns, defaults, the run_id index).
            self.conn.execute(f"CREATE UNLOGGED TABLE IF NOT EXISTS bench_floor.{table} (LIKE rally_staging.{table})")
            self.conn.execute(
                f"CREATE TABLE IF NOT EXISTS bench_rowwise.{table} (LIKE rally_staging.{table} INCLUDING ALL)"
            )
        self.url = url

    def rows(self, parsed, run_id: str, count: bool = True) -> dict[str, list[tuple]]:
        """The rows stage_league COPYs, as tuples (built outside the timings)."""
        from rally_assets.core.staging import _rows

        t = _now()
        data = {
            table: list(_rows(getattr(parsed, attr), self.columns[table], {"run_id": run_id, "league": parsed.league}))
            for table, attr in STAGED_FRAMES.items()
        }
        if count:
            self.build_s += _now() - t
        return data

    def copy_floor(self, data: dict[str, list[tuple]]) -> None:
        t = _now()
        with self.conn.transaction(), self.conn.cursor() as cur:
            for table, rows in data.items():
                with cur.copy(f"COPY bench_floor.{table} ({', '.join(self.columns[table])}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        self.floor_s += _now() - t

    def rowwise_pass(self, leagues: list[tuple[Path, Path, str]]) -> None:
        """The old way over the same rows: (folder, landing, run_id) per league, parsed again untimed."""
        from rally_assets.core.parsing.league import parse_league

        # As the old ETL ran it (psycopg2): each row its own INSERT, the values bound on the client,
        # no prepared statement; all in one transaction.
        with psycopg.connect(
            self.url, autocommit=False, cursor_factory=psycopg.ClientCursor, prepare_threshold=None
        ) as conn:
            for folder, landing, run_id in leagues:
                parsed = parse_league(folder, landing_root=landing)
                data = self.rows(parsed, run_id, count=False)
                del parsed
                t = _now()
                with conn.cursor() as cur:
                    for table, rows in data.items():
                        cols = self.columns[table]
                        sql = f"INSERT INTO bench_rowwise.{table} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"
                        for row in rows:
                            cur.execute(sql, row)
                        self.rowwise_statements += len(rows)
                self.rowwise_s += _now() - t
            t = _now()
            conn.commit()
            self.rowwise_s += _now() - t

    def finish(self) -> dict:
        self.conn.close()
        out: dict = {}
        if self.floor:
            out["copy_floor_s"] = round(self.floor_s, 3)
            out["copy_floor_rows_from_frames_s"] = round(self.build_s, 3)  # building the tuples, not in the floor
        if self.rowwise:
            out["rowwise_s"] = round(self.rowwise_s, 3)
            out["rowwise_statements"] = self.rowwise_statements
        return out


def import_landing(
    url: str,
    landing: Path,
    label: str,
    *,
    allow_churn: bool = False,
    floor: bool = True,
    rowwise: bool = True,
    post_import: bool = True,
    statement_timeout_s: float | None = None,
) -> dict:
    """Every league of `landing` through what the Dagster jobs run, timed stage by stage.

    Per league (import_league_job): parse, stage, the two blocking pre-publish checks, snapshot,
    publish (with its steps), the three post-publish checks. Then once (post_import_job): league
    contexts and discovery ("discovery"), the user-data health asset and its two checks ("checks").
    """
    from rally_assets.core import db
    from rally_assets.core.parsing.league import find_leagues, league_code, parse_league
    from rally_assets.core.protection.snapshots import (
        associations_missing,
        availability_changes,
        latest_snapshot,
        take_snapshot,
    )
    from rally_assets.core.protection.verdicts import churn, staged_quality
    from rally_assets.core.publish import publish_league
    from rally_assets.core.staging import clear_run, stage_league
    from rally_assets.core.users.contexts import fix_league_contexts, league_context_health
    from rally_assets.core.users.health import availability_user_id_coverage, orphan_references
    from rally_assets.core.users.repairs import discover
    from rally_assets.defs.resources import ImportPolicy

    policy = ImportPolicy(allow_churn=allow_churn)
    stages = dict.fromkeys(STAGES, 0.0)
    steps: dict[str, float] = {}
    rows: dict[str, int] = dict.fromkeys(STAGED_FRAMES.values(), 0)
    blocked, tripped, rss_after = [], [], []
    leagues = 0
    baselines = _Baselines(url, floor, rowwise) if (floor or rowwise) else None
    staged_runs: list[tuple[Path, Path, str]] = []
    t_all = _now()
    with db.connection(url) as conn:
        if statement_timeout_s:
            conn.execute(f"SET statement_timeout = '{int(statement_timeout_s * 1000)}ms'")
        for folder in find_leagues(landing):
            league = league_code(folder)
            run_id = f"bench-{label}-{league}-{uuid.uuid4().hex[:8]}"
            t = _now()
            parsed = parse_league(folder, landing_root=landing)
            stages["parse"] += _now() - t
            for attr in STAGED_FRAMES.values():
                rows[attr] += len(getattr(parsed, attr))
            t = _now()
            stage_league(conn, parsed, run_id)
            stages["stage"] += _now() - t
            staged_runs.append((folder, landing, run_id))
            if floor:
                data = baselines.rows(parsed, run_id)
                del parsed
                baselines.copy_floor(data)
                del data
            else:
                del parsed
            # Blocking checks on staged_league (the job stops the league when one fails).
            t = _now()
            quality = staged_quality(conn, league, run_id, policy.max_rejected_pct)
            moved = churn(conn, league, run_id)
            stages["checks"] += _now() - t
            trips = (
                moved["deactivated_pct"] > policy.max_deactivated_pct
                or moved["deactivated_linked_pct"] > policy.max_deactivated_linked_pct
            )
            if trips:
                tripped.append(league)
            if not quality["passed"] or (trips and not policy.allow_churn):
                blocked.append(league)
                clear_run(conn, run_id)
                continue
            t = _now()
            take_snapshot(conn, run_id, league, keep=policy.snapshot_keep)
            stages["snapshot"] += _now() - t
            marks: list[tuple[str, float]] = []
            t = _now()
            publish_league(
                conn,
                league,
                run_id,
                carry_user_links=policy.allow_churn,
                on_step=lambda step, marks=marks: marks.append((step, _now())),
            )
            end = _now()
            stages["publish"] += end - t
            bounds = [("begin", t), *marks, ("end", end)]
            for (step, start), (_next, stop) in itertools.pairwise(bounds):
                steps[step] = steps.get(step, 0.0) + stop - start
            # Checks on published_league.
            t = _now()
            snapshot_id = latest_snapshot(conn, run_id, league)
            xid = conn.execute(
                "SELECT (report->'publish'->>'xid')::bigint FROM etl_import_runs WHERE run_id = %s AND league = %s",
                (run_id, league),
            ).fetchone()
            availability_changes(conn, snapshot_id, import_xid=xid[0] if xid else None)
            associations_missing(conn, latest_snapshot(conn, run_id, league))
            orphan_references(conn)
            stages["checks"] += _now() - t
            leagues += 1
            rss_after.append(_rss_mb())
        if post_import:
            # post_import_job: league_contexts, association_discovery, user_data_health and its checks.
            source = f"run:bench-{label}"
            t = _now()
            league_context_health(conn)
            fix_league_contexts(conn, source=source)
            league_context_health(conn)
            discover(conn, limit=policy.discovery_limit, source=source)
            stages["discovery"] += _now() - t
            t = _now()
            league_context_health(conn)
            availability_user_id_coverage(conn)
            orphan_references(conn)
            league_context_health(conn)
            availability_user_id_coverage(conn)
            stages["checks"] += _now() - t
    if rowwise:
        baselines.rowwise_pass(staged_runs)
    wall = _now() - t_all
    total = sum(stages.values())
    n_rows = sum(rows.values())
    out = {
        "label": label,
        "landing": str(landing),
        "leagues": leagues,
        "blocked": blocked,
        "churn_tripped": tripped,
        "rows": rows,
        "rows_total": n_rows,
        "stages_s": {k: round(v, 3) for k, v in stages.items()},
        "total_s": round(total, 3),
        "wall_with_baselines_s": round(wall, 3),
        "rows_per_s": round(n_rows / total) if total else None,
        "publish_steps_s": {k: round(v, 3) for k, v in steps.items()},
        "rss_after_first_league_mb": rss_after[0] if rss_after else None,
        "rss_after_last_league_mb": rss_after[-1] if rss_after else None,
        "rss_max_between_leagues_mb": max(rss_after) if rss_after else None,
    }
    if baselines is not None:
        out.update(baselines.finish())
    return out


def _top_up_players(conn: psycopg.Connection, needed: int) -> int:
    """Add active players (copies of existing ones, new ids) until `needed` are unclaimed; returns how many."""
    have = conn.execute(
        """SELECT count(DISTINCT tenniscores_player_id) FROM players p WHERE p.is_active AND NOT EXISTS (
               SELECT 1 FROM user_player_associations a WHERE a.tenniscores_player_id = p.tenniscores_player_id)"""
    ).fetchone()[0]
    missing = needed - have
    if missing <= 0:
        return 0
    base = conn.execute("SELECT count(DISTINCT tenniscores_player_id) FROM players WHERE is_active").fetchone()[0]
    copies = -(-missing // max(base, 1))
    with conn.transaction():
        # The copies get a league of their own: a later import of a real league must not see them as
        # its players gone missing (the churn breaker would stop it).
        conn.execute(
            "INSERT INTO leagues (league_id, league_name) VALUES ('BENCH_USERS', 'bench: players for the users') "
            "ON CONFLICT (league_id) DO NOTHING"
        )
        return conn.execute(
            """INSERT INTO players (tenniscores_player_id, first_name, last_name, league_id, club_id, series_id, team_id,
                                    pti, wins, losses, win_percentage, captain_status, is_active)
            SELECT p.tenniscores_player_id || '-u' || k, p.first_name, p.last_name,
                   (SELECT id FROM leagues WHERE league_id = 'BENCH_USERS'), p.club_id, p.series_id,
                   p.team_id, p.pti, p.wins, p.losses, p.win_percentage, p.captain_status, true
            FROM (SELECT DISTINCT ON (tenniscores_player_id) * FROM players WHERE is_active
                  ORDER BY tenniscores_player_id, id) p
            CROSS JOIN generate_series(1, %s) AS k
            ORDER BY k, p.id LIMIT %s""",
            (copies, missing),
        ).rowcount


def _capped(conn: psycopg.Connection, seconds: float, fn: Callable[[], object]) -> tuple[float | None, object]:
    """(wall time, result) of fn(), or (None, None) when PostgreSQL cancels it after `seconds`."""
    conn.execute(f"SET statement_timeout = '{int(seconds * 1000)}ms'")
    try:
        t = _now()
        result = fn()
        return _now() - t, result
    except psycopg.errors.QueryCanceled:
        return None, None
    finally:
        conn.execute("RESET statement_timeout")


def health_at_scale(url: str, n_users: int, repeats: int = 3, cap_s: float = 60.0, reimport: str | None = None) -> dict:
    """Seed `n_users` users (set-based), then time the health checks, the re-import of one league
    (`reimport`, a league folder) with those users, and the post-import pieces that read every user
    (league contexts, discovery, one snapshot); a piece slower than `cap_s` is cancelled."""
    from rally_assets.core import db
    from rally_assets.core.protection.snapshots import take_snapshot
    from rally_assets.core.users.contexts import fix_league_contexts, league_context_health
    from rally_assets.core.users.health import availability_user_id_coverage, orphan_references
    from rally_assets.core.users.repairs import discover
    from rally_assets.tooling.synthetic.users import seed_users

    with db.connection(url) as conn:
        t = _now()
        added_players = _top_up_players(conn, n_users)
        seeded = seed_users(conn, n_users, seed=11)
        # 2% of the users lose their league context, as the app's drift does; the post-import repairs it.
        conn.execute("UPDATE users SET league_context = NULL WHERE id % 50 = 0")
        conn.execute("ANALYZE")
        seed_s = _now() - t
        counts = dict(
            zip(
                ("users", "associations", "availability", "players"),
                conn.execute("""SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM user_player_associations),
                                   (SELECT count(*) FROM player_availability), (SELECT count(*) FROM players)""").fetchone(),
            )
        )
        runs = []
        for _ in range(repeats):
            parts = {}
            t = _now()
            league_context_health(conn)
            parts["league_context_health"] = _now() - t
            t = _now()
            availability_user_id_coverage(conn)
            parts["availability_user_id_coverage"] = _now() - t
            t = _now()
            orphan_references(conn)
            parts["orphan_references"] = _now() - t
            runs.append(parts)
        totals = [sum(r.values()) for r in runs]
        median_run = runs[totals.index(sorted(totals)[len(totals) // 2])]
        lid, league = conn.execute("SELECT id, league_id FROM leagues ORDER BY id LIMIT 1").fetchone()
        reimported = None
        if reimport:
            # The same league's files again, now that users exist: what every later import pays per league.
            one = Path(tempfile.mkdtemp(prefix="rally-bench-reimport-"))
            try:
                shutil.copytree(reimport, one / Path(reimport).name)
                reimported = import_landing(
                    url, one, "reimport", floor=False, rowwise=False, post_import=False, statement_timeout_s=cap_s
                )
            except psycopg.errors.QueryCanceled:
                reimported = {"cancelled_after_s": cap_s}
            finally:
                shutil.rmtree(one, ignore_errors=True)
        # What post_import_job runs for every user (the publish runs it for its league's users).
        league_contexts_s, league_fixed = _capped(
            conn, cap_s, lambda: fix_league_contexts(conn, league_id=lid, source="bench")
        )
        contexts_s, fixed = _capped(conn, cap_s, lambda: fix_league_contexts(conn, source="bench"))
        discovery_s, found = _capped(conn, cap_s, lambda: discover(conn, limit=100, source="bench"))
        snapshot_s, _ = _capped(
            conn, cap_s, lambda: take_snapshot(conn, f"bench-health-{uuid.uuid4().hex[:8]}", league)
        )
    return {
        "users_requested": n_users,
        "seeded": seeded,
        "players_added_for_users": added_players,
        "seed_s": round(seed_s, 2),
        "counts": counts,
        "health_checks_s": round(statistics.median(totals), 3),
        "health_checks_runs_s": [round(x, 3) for x in totals],
        "health_checks_parts_s": {k: round(v, 3) for k, v in median_run.items()},
        "cap_s": cap_s,  # None below: cancelled by statement_timeout after cap_s
        "reimport_one_league": reimported,
        "publish_contexts_one_league_s": _round(league_contexts_s),
        "publish_contexts_one_league_fixed": None if league_fixed is None else len(league_fixed),
        "post_import_contexts_s": _round(contexts_s),
        "contexts_fixed": None if fixed is None else len(fixed),
        "post_import_discovery_s": _round(discovery_s),
        "associations_discovered": None if found is None else len(found["discovered"]),
        "snapshot_one_league_s": _round(snapshot_s),
    }


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def domain_worker(spec: dict) -> dict:
    """A fresh database (given), the schema, then each landing in order; optionally users and health."""
    from rally_assets.core import db
    from rally_assets.core.schema import init_db
    from rally_assets.tooling.synthetic.users import seed_users

    url = spec["url"]
    t = _now()
    with db.connection(url) as conn:
        init_db(conn)
    out: dict = {"init_db_s": round(_now() - t, 3), "imports": []}
    for step in spec["steps"]:
        if step["kind"] == "import":
            _log(f"{spec['name']}: importing {step['label']} ({step['landing']})")
            result = import_landing(
                url,
                Path(step["landing"]),
                step["label"],
                allow_churn=step.get("allow_churn", False),
                floor=step.get("floor", True),
                rowwise=step.get("rowwise", True),
            )
            _log(
                f"{spec['name']}: {step['label']}: {result['leagues']} leagues, {result['rows_total']} rows in "
                f"{result['total_s']} s ({result['stages_s']})"
            )
            out["imports"].append(result)
        elif step["kind"] == "users":
            with db.connection(url) as conn:
                out["users_seeded"] = seed_users(conn, step["n"], seed=7)
        elif step["kind"] == "health":
            _log(f"{spec['name']}: seeding {step['n']} users and timing the health checks")
            out["health"] = health_at_scale(
                url, step["n"], repeats=step.get("repeats", 3), reimport=step.get("reimport")
            )
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


# --- worker: the Dagster job in-process -----------------------------------------------------------


def dagster_worker(spec: dict) -> dict:
    """import_leagues + run_post_import on a fresh database and a fresh DAGSTER_HOME: `real_import_s`."""
    os.environ["RALLY_DATABASE_URL"] = spec["url"]
    os.environ["DAGSTER_HOME"] = spec["dagster_home"]
    t = _now()
    import rally_assets.definitions  # noqa: F401  (what `rally import` loads before the first run)
    from rally_assets.core import db
    from rally_assets.core.schema import init_db
    from rally_assets.defs.runner import dagster_instance, import_leagues, run_post_import

    out: dict = {"python_imports_s": round(_now() - t, 3)}
    t = _now()
    with db.connection(spec["url"]) as conn:
        init_db(conn)
    out["init_db_s"] = round(_now() - t, 3)
    for _i, landing in enumerate(spec["landings"]):
        policy = {"allow_churn": True} if landing.get("allow_churn") else None
        t = _now()
        instance = dagster_instance()  # a fresh home: its storage is created by the first run (cold)
        outcomes = import_leagues(Path(landing["path"]), instance=instance, policy=policy)
        t_leagues = _now() - t
        post = run_post_import(instance=instance, policy=policy)
        total = _now() - t
        failed = [f"{o.league}: {o.error}" for o in outcomes if not o.success] + (
            [post.error] if not post.success else []
        )
        out[landing["label"]] = {
            "total_s": round(total, 3),
            "leagues_s": round(t_leagues, 3),
            "post_import_s": round(total - t_leagues, 3),
            "leagues": len(outcomes),
            "checks_evaluated": sum(len(o.checks) for o in outcomes) + len(post.checks),
            "failed": failed,
        }
        _log(
            f"dagster: {landing['label']}: {round(total, 2)} s ({len(outcomes)} leagues, "
            f"{out[landing['label']]['checks_evaluated']} check evaluations){'; FAILED ' + str(failed) if failed else ''}"
        )
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


# --- worker: the landing sensor -------------------------------------------------------------------


def _sensor_landing(root: Path, n: int) -> None:
    """`n` small league folders (a players.json and a schedules.json of a few KB), settled long ago."""
    past = time.time() - 3600
    for i in range(n):
        folder = root / f"BENCH_{i:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        players = [
            {
                "League": folder.name,
                "Player ID": f"p{i}-{j}",
                "First Name": "Pat",
                "Last Name": f"Player{j}",
                "Club": "Winnetka",
                "Series": "Series 1",
                "Wins": j % 7,
                "Losses": j % 5,
            }
            for j in range(20)
        ]
        schedule = [
            {
                "date": f"01/{d + 1:02d}/2025",
                "time": "06:30 pm",
                "home_team": "Winnetka - 1",
                "away_team": "Wilmette - 1",
                "location": "Winnetka",
                "series": "Series 1",
            }
            for d in range(8)
        ]
        for name, records in (("players.json", players), ("schedules.json", schedule)):
            path = folder / name
            path.write_text(json.dumps(records, indent=2))
            os.utime(path, (past, past))


def sensor_worker(spec: dict) -> dict:
    import dagster as dg

    from rally_assets.definitions import defs
    from rally_assets.defs.league_import.sensors import landing_sensor
    from rally_assets.defs.resources import LandingZone

    root = Path(spec["root"])
    t = _now()
    _sensor_landing(root, spec["folders"])
    build_s = _now() - t
    size = sum(p.stat().st_size for p in root.rglob("*.json"))
    resources = {"landing": LandingZone(path=str(root))}
    Path(spec["dagster_home"]).mkdir(parents=True, exist_ok=True)
    with dg.instance_for_test(temp_dir=spec["dagster_home"]) as instance:

        def tick(cursor):
            context = dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources, definitions=defs)
            t0 = _now()
            result = landing_sensor(context)
            return _now() - t0, result

        first_s, first = tick(None)
        steady = []
        for _ in range(spec.get("repeats", 5)):
            s, result = tick(first.cursor)
            steady.append(s)
            if result.run_requests:
                raise RallyError(f"a steady-state sensor tick requested {len(result.run_requests)} run(s)")
    return {
        "folders": spec["folders"],
        "landing_bytes": size,
        "build_s": round(build_s, 2),
        "first_tick_s": round(first_s, 3),
        "first_tick_run_requests": len(first.run_requests or []),
        "steady_tick_s": round(statistics.median(steady), 4),
        "steady_tick_runs_s": [round(x, 4) for x in steady],
        "peak_rss_mb": _peak_rss_mb(),
    }


WORKERS: dict[str, Callable[[dict], dict]] = {
    "domain": domain_worker,
    "dagster": dagster_worker,
    "sensor": sensor_worker,
}


def _worker_main(spec_path: str) -> int:
    import warnings

    warnings.filterwarnings("ignore")
    spec = json.loads(Path(spec_path).read_text())
    result = WORKERS[spec["worker"]](spec)
    Path(spec["result"]).write_text(json.dumps(result, default=str))
    return 0


def run_worker(spec: dict, work: Path, env: dict | None = None) -> dict:
    """Run a worker in its own process (so its peak RSS is its own); return its JSON."""
    tag = uuid.uuid4().hex[:8]
    spec = {**spec, "result": str(work / f"result-{tag}.json")}
    spec_path = work / f"spec-{tag}.json"
    spec_path.write_text(json.dumps(spec))
    child_env = {**os.environ, **(env or {})}
    code = subprocess.call(
        [sys.executable, "-m", "rally_assets.tooling.bench", "--worker", str(spec_path)], env=child_env
    )
    if code != 0 or not Path(spec["result"]).exists():
        raise RallyError(
            f"benchmark worker {spec['worker']} ({spec.get('name', '')}) failed with exit code {code} (see above)"
        )
    return json.loads(Path(spec["result"]).read_text())


# --- the cold CLI ---------------------------------------------------------------------------------


def _rally_command() -> list[str]:
    script = Path(sys.executable).parent / "rally"
    return [str(script)] if script.exists() else [sys.executable, "-m", "rally_assets.cli"]


def settle(admin_url: str) -> None:
    """Flush what earlier measurements left dirty in the server, so the next one does not pay for it
    (a CHECKPOINT needs superuser or pg_checkpoint; without them the measurement just runs)."""
    with contextlib.suppress(psycopg.Error), psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def cold_cli_import(admin_url: str, landing: Path, work: Path) -> dict:
    """`rally import LANDING` in a new process, on a fresh database and a fresh RALLY_HOME (cold)."""
    home = work / f"cli-home-{uuid.uuid4().hex[:8]}"
    with fresh_database(admin_url, "cli") as url:
        settle(admin_url)
        env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
        env.update({"RALLY_DATABASE_URL": url, "RALLY_HOME": str(home)})
        out_path = work / f"cli-{uuid.uuid4().hex[:8]}.log"
        with open(out_path, "w") as out:
            t = _now()
            proc = subprocess.Popen(
                [*_rally_command(), "import", str(landing)], env=env, stdout=out, stderr=subprocess.STDOUT
            )
            _, status, usage = os.wait4(proc.pid, 0)
            wall = _now() - t
            proc.returncode = os.waitstatus_to_exitcode(status)
    shutil.rmtree(home, ignore_errors=True)
    log = out_path.read_text()
    if proc.returncode != 0:
        raise RallyError(f"the cold `rally import {landing}` failed (exit {proc.returncode}): {log.strip()[-500:]}")
    return {
        "wall_s": round(wall, 3),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "output": log.strip().splitlines(),
    }


# --- synthetic landings ---------------------------------------------------------------------------


def count_rows(landing: Path) -> dict[str, int]:
    """Rows a landing stages (players, teams, facts), by parsing it."""
    from rally_assets.core.parsing.league import find_leagues, parse_league

    rows = dict.fromkeys(STAGED_FRAMES.values(), 0)
    for folder in find_leagues(landing):
        parsed = parse_league(folder)
        for attr in rows:
            rows[attr] += len(getattr(parsed, attr))
    return rows


# --- machine ---------------------------------------------------------------------------------------


def machine_info(admin_url: str) -> dict:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram_gib = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
        settings = dict(
            conn.execute(
                "SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name IN "
                "('shared_buffers', 'synchronous_commit', 'fsync', 'work_mem', 'max_wal_size', 'jit', 'autovacuum')"
            ).fetchall()
        )
    import dagster
    import pandas

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": ram_gib,
        "postgresql": pg,
        "postgresql_settings": settings,
        "python": platform.python_version(),
        "pandas": pandas.__version__,
        "dagster": dagster.__version__,
        "psycopg": psycopg.__version__,
        "os": platform.platform(),
        "loadavg_start": list(os.getloadavg()),
    }


# --- the driver -------------------------------------------------------------------------------------


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def _check(key: str, value) -> dict:
    op, target, what = TARGETS[key]
    ok = None if value is None else (value <= target if op == "<=" else value >= target)
    return {"value": value, "target": f"{op} {target:g}", "what": what, "pass": ok}


def run_bench(
    *,
    quick: bool = False,
    json_path: Path | None = None,
    markdown_path: Path | None = None,
    admin_url: str | None = None,
    real_dir: Path = REAL_DATA,
    multipliers: tuple[int, ...] | None = None,
    players_per_league: int = 900,
    health_users: int = HEALTH_USERS,
    real_users: int = REAL_USERS,
    sensor_folders: int = SENSOR_FOLDERS,
    repeats: int = 3,
    seed: int = 0,
    command: str = "rally bench",
) -> dict:
    """Measure everything; write the JSON and the markdown when asked; return the results."""
    from rally_assets.tooling.synthetic.landing import generate_landing

    started = dt.datetime.now(dt.UTC)
    t_start = _now()
    real_dir = Path(real_dir)
    import_1, import_2 = real_dir / "import_1", real_dir / "import_2"
    if not import_1.is_dir():
        raise RallyError(f"the real data is not there: {import_1} (pass the folder holding import_1 and import_2)")
    multipliers = tuple(multipliers or (QUICK_MULTIPLIERS if quick else FULL_MULTIPLIERS))
    admin_url = admin_url or server_admin_url()
    results: dict = {"started_at": started.isoformat(timespec="seconds"), "quick": quick, "command": command}
    results["machine"] = machine_info(admin_url)
    work = Path(tempfile.mkdtemp(prefix="rally-bench-"))
    try:
        # 1. Real data through the domain functions, stage by stage, with both baselines.
        steps = [{"kind": "import", "label": "import_1", "landing": str(import_1)}]
        if import_2.is_dir():
            steps += [
                {"kind": "users", "n": real_users},
                {"kind": "import", "label": "import_2", "landing": str(import_2), "allow_churn": True},
            ]
        with fresh_database(admin_url, "real") as url:
            settle(admin_url)
            real = run_worker({"worker": "domain", "name": "real", "url": url, "steps": steps}, work)
        results["real"] = real
        real_1 = real["imports"][0]

        # 2. The Dagster job in-process (real_import_s), and the cold CLI, each `repeats` times on fresh state.
        dagster_runs, cli_runs = [], []
        for i in range(repeats):
            with fresh_database(admin_url, "dagster") as url:
                settle(admin_url)
                landings = [{"label": "import_1", "path": str(import_1)}]
                if import_2.is_dir():
                    landings.append({"label": "import_2", "path": str(import_2), "allow_churn": True})
                dagster_runs.append(
                    run_worker(
                        {
                            "worker": "dagster",
                            "name": "dagster",
                            "url": url,
                            "landings": landings,
                            "dagster_home": str(work / f"dagster-home-{i}"),
                        },
                        work,
                    )
                )
            cli = cold_cli_import(admin_url, import_1, work)
            _log(f"cold `rally import import_1`: {cli['wall_s']} s, peak RSS {cli['peak_rss_mb']} MB")
            cli_runs.append(cli)
        results["dagster"] = {
            "runs": dagster_runs,
            "import_1_s": statistics.median(r["import_1"]["total_s"] for r in dagster_runs),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in dagster_runs),
        }
        if import_2.is_dir():
            results["dagster"]["import_2_s"] = statistics.median(r["import_2"]["total_s"] for r in dagster_runs)
        results["cold_cli"] = {
            "runs_s": [c["wall_s"] for c in cli_runs],
            "median_s": statistics.median(c["wall_s"] for c in cli_runs),
            "peak_rss_mb": max(c["peak_rss_mb"] for c in cli_runs),
            "output": cli_runs[-1]["output"],
        }

        # 3. Synthetic scales: N so that the rows are ~multiplier x the real import_1's.
        unit_landing = work / "unit"
        generate_landing(unit_landing, scale=1, seed=seed, players_per_league=players_per_league)
        unit_rows = sum(count_rows(unit_landing).values())
        shutil.rmtree(unit_landing, ignore_errors=True)
        real_rows = real_1["rows_total"]
        scales = []
        all_multipliers = sorted(set(multipliers) | {1, 10, 100})
        for m in all_multipliers:
            n = max(1, round(m * real_rows / unit_rows))
            entry: dict = {"multiplier": m, "scale": n, "leagues": 3 * n, "measured": m in multipliers}
            if m in multipliers:
                landing = work / f"landing-x{m}"
                t = _now()
                generate_landing(landing, scale=n, seed=seed, players_per_league=players_per_league)
                entry["generate_s"] = round(_now() - t, 2)
                entry["landing_bytes"] = sum(p.stat().st_size for p in landing.rglob("*.json"))
                steps = [{"kind": "import", "label": f"x{m}", "landing": str(landing)}]
                if m == max(multipliers):
                    first_league = sorted(p for p in landing.iterdir() if p.is_dir())[0]
                    steps.append(
                        {"kind": "health", "n": health_users, "repeats": repeats, "reimport": str(first_league)}
                    )
                _log(f"scale {m}x: {3 * n} leagues (generated in {entry['generate_s']} s)")
                with fresh_database(admin_url, f"x{m}") as url:
                    settle(admin_url)
                    entry["result"] = run_worker(
                        {"worker": "domain", "name": f"x{m}", "url": url, "steps": steps}, work
                    )
                shutil.rmtree(landing, ignore_errors=True)
            scales.append(entry)
        results["scales"] = scales
        results["synthetic_unit_rows"] = unit_rows

        # 4. The landing sensor over 1,000 league folders.
        _log(f"landing sensor over {sensor_folders} league folders")
        results["sensor"] = run_worker(
            {
                "worker": "sensor",
                "name": "sensor",
                "root": str(work / "sensor-landing"),
                "folders": sensor_folders,
                "dagster_home": str(work / "sensor-home"),
                "repeats": 5,
            },
            work,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    results["machine"]["loadavg_end"] = list(os.getloadavg())
    results["bench_wall_s"] = round(_now() - t_start, 1)
    summarize(results)
    if json_path:
        Path(json_path).write_text(json.dumps(results, indent=2, default=str) + "\n")
    if markdown_path:
        Path(markdown_path).write_text(render_markdown(results))
    return results


def summarize(results: dict) -> None:
    """The headline keys of the issue, and each target's PASS/MISS."""
    real_1 = results["real"]["imports"][0]
    stage_publish = real_1["stages_s"]["stage"] + real_1["stages_s"]["publish"]
    measured = {s["multiplier"]: s for s in results["scales"] if s["measured"]}
    x10 = measured.get(10)
    largest = measured[max(measured)]
    rss = [results["real"]["peak_rss_mb"], results["dagster"]["peak_rss_mb"], results["cold_cli"]["peak_rss_mb"]]
    rss += [s["result"]["peak_rss_mb"] for s in measured.values()]
    results.update(
        {
            "real_import_s": results["dagster"]["import_1_s"],
            "real_import_cold_cli_s": results["cold_cli"]["median_s"],
            "publish_vs_copy_ratio": _ratio(real_1["stages_s"]["publish"], real_1.get("copy_floor_s")),
            "speedup_vs_rowwise": _ratio(real_1.get("rowwise_s"), stage_publish),
            "peak_rss_mb": max(rss),
            "scale_10x_vs_1x": _ratio(x10["result"]["imports"][0]["total_s"], real_1["total_s"]) if x10 else None,
            "health_checks_100k_users_s": largest["result"]["health"]["health_checks_s"],
            "health_users": largest["result"]["health"]["counts"]["users"],
            "sensor_tick_1000_leagues_s": results["sensor"]["steady_tick_s"],
            "sensor_first_tick_1000_leagues_s": results["sensor"]["first_tick_s"],
        }
    )
    if x10:
        results["rows_10x_vs_1x"] = _ratio(x10["result"]["imports"][0]["rows_total"], real_1["rows_total"])
    if x10 and 1 in measured:
        results["scale_10x_vs_1x_synthetic"] = _ratio(
            x10["result"]["imports"][0]["total_s"], measured[1]["result"]["imports"][0]["total_s"]
        )
    if x10 and 100 in measured:
        results["scale_100x_vs_10x"] = _ratio(
            measured[100]["result"]["imports"][0]["total_s"], x10["result"]["imports"][0]["total_s"]
        )
        results["rows_100x_vs_10x"] = _ratio(
            measured[100]["result"]["imports"][0]["rows_total"], x10["result"]["imports"][0]["rows_total"]
        )
    results["targets"] = {key: _check(key, results.get(key)) for key in TARGETS}


# --- BENCHMARKS.md -----------------------------------------------------------------------------------


def _fmt(value, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _reimport_line(h: dict) -> str:
    r = h.get("reimport_one_league")
    if not r:
        return "- (no league re-imported)"
    if "cancelled_after_s" in r:
        return f"- re-import of one league (its same files) with these users: **cancelled after {_fmt(r['cancelled_after_s'], 0)} s**"
    if r["blocked"]:
        return f"- re-import of one league (its same files) with these users: blocked by a check ({', '.join(r['blocked'])})"
    steps = r["publish_steps_s"]
    slow = sorted(steps.items(), key=lambda kv: -kv[1])[:3]
    return (
        f"- re-import of one league (its same files, {_fmt(r['rows_total'])} rows) with these users, as every later "
        f"import does it per league: **{_fmt(r['total_s'])} s** ("
        + ", ".join(f"{k} {_fmt(v)}" for k, v in r["stages_s"].items() if k not in ("discovery",))
        + "; slowest publish steps: "
        + ", ".join(f"{k} {_fmt(v)}" for k, v in slow)
        + ")"
    )


def _capped_fmt(h: dict, key: str) -> str:
    return f"**more than {_fmt(h['cap_s'], 0)} s (cancelled)**" if h[key] is None else f"{_fmt(h[key], 3)} s"


def _verdict(check: dict) -> str:
    return "not measured" if check["pass"] is None else ("**PASS**" if check["pass"] else "**MISS**")


def render_markdown(results: dict) -> str:
    m = results["machine"]
    real = results["real"]["imports"]
    real_1 = real[0]
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `{results['command']}` on {results['started_at']} "
        f"({'quick run: 100x not measured' if results['quick'] else 'full run'}; the whole run took "
        f"{_fmt(results['bench_wall_s'], 0)} s). Regenerate it with the command below; every number is from that run.",
        "",
        "## Machine",
        "",
        f"- CPU: {m['cpu']}, {m['cores']} cores; RAM {_fmt(m['ram_gib'], 1)} GiB; {m['os']}",
        f"- PostgreSQL {m['postgresql']} ({', '.join(f'{k}={v}' for k, v in sorted(m['postgresql_settings'].items()))})",
        f"- Python {m['python']}, pandas {m['pandas']}, Dagster {m['dagster']}, psycopg {m['psycopg']}",
        f"- load average at start {', '.join(f'{x:.2f}' for x in m['loadavg_start'])}; at the end "
        f"{', '.join(f'{x:.2f}' for x in m.get('loadavg_end', []))} (other work on the machine shows up here)",
        "",
        "## Targets",
        "",
        "| measure | value | target | verdict |",
        "|---|---:|---:|---|",
    ]
    for key, check in results["targets"].items():
        lines.append(f"| `{key}`: {check['what']} | {_fmt(check['value'])} | {check['target']} | {_verdict(check)} |")
    lines += [
        "",
        f"The old importer took a median {OLD_ETL_MEDIAN_S} s on the same `import_1` files on this machine kind, with "
        f"{OLD_ETL_STATEMENTS:,} single-row statements and no checks at all.",
        "",
        "## Import by scale",
        "",
        "Wall time per stage in seconds, through the domain functions the Dagster assets call (parse, stage "
        "= COPY into staging, snapshot, publish = the one-transaction publish, discovery = league contexts + "
        "association discovery, checks = every asset check). Rows = players + teams + fact rows staged. "
        "Peak RSS is the whole process's (a fresh process per scale). Every measurement starts on a fresh "
        "database after a `CHECKPOINT`, so it does not pay for the dirty pages of the one before.",
        "",
        "| scale | leagues | rows | parse | stage | snapshot | publish | discovery | checks | total | rows/s | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def row(name: str, imp: dict, rss) -> str:
        s = imp["stages_s"]
        return (
            f"| {name} | {imp['leagues']} | {_fmt(imp['rows_total'])} | "
            + " | ".join(_fmt(s[k]) for k in STAGES)
            + f" | {_fmt(imp['total_s'])} | {_fmt(imp['rows_per_s'])} | {_fmt(rss, 0)} |"
        )

    lines.append(row("real import_1", real_1, results["real"]["peak_rss_mb"]))
    if len(real) > 1:
        lines.append(
            row(
                f"real import_2 (on import_1, {results['real'].get('users_seeded', {}).get('users', 0):,} users, "
                "--allow-churn)",
                real[1],
                results["real"]["peak_rss_mb"],
            )
        )
    for s in results["scales"]:
        if s["measured"]:
            lines.append(
                row(
                    f"synthetic {s['multiplier']}x (scale {s['scale']})",
                    s["result"]["imports"][0],
                    s["result"]["peak_rss_mb"],
                )
            )
        else:
            lines.append(
                f"| synthetic {s['multiplier']}x (scale {s['scale']}) | {s['leagues']} | not measured (`--quick`) "
                "| | | | | | | | | |"
            )
    scale_notes = []
    if results.get("scale_10x_vs_1x") is not None:
        scale_notes.append(
            f"10x took {_fmt(results['scale_10x_vs_1x'])}x the time of the real import_1 for "
            f"{_fmt(results['rows_10x_vs_1x'])}x its rows"
        )
    if results.get("scale_10x_vs_1x_synthetic") is not None:
        scale_notes.append(f"{_fmt(results['scale_10x_vs_1x_synthetic'])}x the time of synthetic 1x")
    if results.get("scale_100x_vs_10x") is not None:
        scale_notes.append(
            f"100x took {_fmt(results['scale_100x_vs_10x'])}x the time of 10x for "
            f"{_fmt(results['rows_100x_vs_10x'])}x its rows"
        )
    if scale_notes:
        lines += ["", "Scaling: " + "; ".join(scale_notes) + "."]
    lines += [
        "",
        "Memory per league: the current RSS after each league (the process keeps one league's frames at a time).",
        "",
        "| scale | RSS after the first league MB | RSS after the last league MB | max between leagues MB | peak MB |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, imp, peak in [("real import_1", real_1, results["real"]["peak_rss_mb"])] + [
        (f"synthetic {s['multiplier']}x", s["result"]["imports"][0], s["result"]["peak_rss_mb"])
        for s in results["scales"]
        if s["measured"]
    ]:
        lines.append(
            f"| {name} | {_fmt(imp['rss_after_first_league_mb'], 0)} | {_fmt(imp['rss_after_last_league_mb'], 0)} | "
            f"{_fmt(imp['rss_max_between_leagues_mb'], 0)} | {_fmt(peak, 0)} |"
        )
    lines += [
        "",
        "## Baselines (same rows, same database, same run)",
        "",
        "- **COPY floor**: the rows each league stages (players, teams, facts), already Python tuples, COPY'd "
        "(`COPY ... FROM STDIN`, psycopg `write_row`) into empty UNLOGGED tables with the staging tables' columns, "
        "one transaction per league. Building those tuples from the parsed frames is not counted in the floor "
        f"(real import_1: {_fmt(real_1.get('copy_floor_rows_from_frames_s'), 3)} s).",
        "- **Row by row (the old way)**: the same rows, one `INSERT` statement per row (`cur.execute` in a loop; "
        "values bound on the client and no prepared statement, as the old psycopg2 ETL ran them: psycopg 3 "
        "`ClientCursor`, `prepare_threshold=None`), into empty logged tables of the staging tables' shape, all in "
        "one transaction. It runs after the import (the leagues parsed again, untimed): held open during the import, "
        "that transaction would keep VACUUM from reclaiming anything the import deletes. Its time per statement is "
        "mostly client-server round trips, so it moves with the machine's load more than anything else here.",
        "",
        "| data | rows | COPY floor s | row by row s (statements) | stage s | publish s | publish ÷ floor | row by row ÷ (stage + publish) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def base_row(name: str, imp: dict) -> str:
        sp = imp["stages_s"]["stage"] + imp["stages_s"]["publish"]
        return (
            f"| {name} | {_fmt(imp['rows_total'])} | {_fmt(imp.get('copy_floor_s'), 3)} | "
            f"{_fmt(imp.get('rowwise_s'))} ({_fmt(imp.get('rowwise_statements'))}) | {_fmt(imp['stages_s']['stage'])} | "
            f"{_fmt(imp['stages_s']['publish'])} | {_fmt(_ratio(imp['stages_s']['publish'], imp.get('copy_floor_s')))} | "
            f"{_fmt(_ratio(imp.get('rowwise_s'), sp))} |"
        )

    lines.append(base_row("real import_1", real_1))
    if len(real) > 1:
        lines.append(base_row("real import_2 (on import_1)", real[1]))
    for s in results["scales"]:
        if s["measured"]:
            lines.append(base_row(f"synthetic {s['multiplier']}x", s["result"]["imports"][0]))
    lines += [
        "",
        "Publish steps, real import_1 (s; `record` includes the commit and the clean-up of the staging rows):",
        "",
        "| " + " | ".join(real_1["publish_steps_s"]) + " |",
        "|" + "---:|" * len(real_1["publish_steps_s"]),
        "| " + " | ".join(_fmt(v, 3) for v in real_1["publish_steps_s"].values()) + " |",
        "",
        "## The Dagster job and the CLI (real import_1)",
        "",
    ]
    d, c = results["dagster"], results["cold_cli"]
    domain_1 = real_1["total_s"]
    lines += [
        f"- `import_leagues` + `run_post_import` in-process (fresh database, fresh DAGSTER_HOME, every check): "
        f"median **{_fmt(d['import_1_s'])} s** over {len(d['runs'])} run(s) "
        f"({', '.join(_fmt(r['import_1']['total_s']) for r in d['runs'])}); the same work through the domain functions "
        f"takes {_fmt(domain_1)} s, so Dagster's own bookkeeping (runs, events, SQLite storage) is "
        f"~{_fmt(d['import_1_s'] - domain_1)} s.",
        f"- Python + Dagster start-up (`import rally_assets.definitions`): "
        f"{_fmt(statistics.median(r['python_imports_s'] for r in d['runs']))} s; `init_db` on an empty database: "
        f"{_fmt(statistics.median(r['init_db_s'] for r in d['runs']))} s.",
        f"- Cold `rally import import_1` (new process, fresh database, fresh RALLY_HOME): median **{_fmt(c['median_s'])} s** "
        f"({', '.join(_fmt(x) for x in c['runs_s'])}), peak RSS {_fmt(c['peak_rss_mb'], 0)} MB. "
        f"The old importer: {OLD_ETL_MEDIAN_S} s.",
    ]
    if "import_2_s" in d:
        lines.append(f"- `import_2` after it through the job (`--allow-churn`): median {_fmt(d['import_2_s'])} s.")
    health_scale = max((s for s in results["scales"] if s["measured"]), key=lambda s: s["multiplier"])
    h = health_scale["result"]["health"]
    lines += [
        "",
        f"## Health checks over {h['counts']['users']:,} users",
        "",
        f"On the synthetic {health_scale['multiplier']}x database ({h['counts']['players']:,} players"
        + (
            f", {h['players_added_for_users']:,} of them copies, in a league of their own, added so every user has "
            "a player of their own"
            if h["players_added_for_users"]
            else ""
        )
        + f"), {h['counts']['users']:,} users seeded set-based with `synthetic_users.seed_users` "
        f"({h['counts']['associations']:,} associations, {h['counts']['availability']:,} availability rows; 2% of the "
        f"league contexts set to NULL), then ANALYZE.",
        "",
        f"- health checks (league-context health, availability `user_id` coverage, orphan references): median "
        f"**{_fmt(h['health_checks_s'], 3)} s** over {len(h['health_checks_runs_s'])} runs "
        f"({', '.join(f'{k} {v:.3f}' for k, v in h['health_checks_parts_s'].items())})",
        _reimport_line(h),
        f"- the pieces of an import that read every user, on their own (each cancelled after {_fmt(h['cap_s'], 0)} s): "
        f"league contexts of one league's users (the publish's repair, here outside the publish's transaction and its "
        f"planner settings) {_capped_fmt(h, 'publish_contexts_one_league_s')}; league contexts of every user "
        f"(`post_import_job`'s `league_contexts`) {_capped_fmt(h, 'post_import_contexts_s')}"
        + (f" ({_fmt(h['contexts_fixed'])} fixed)" if h["contexts_fixed"] is not None else "")
        + f"; discovery {_capped_fmt(h, 'post_import_discovery_s')}; one league's user-data snapshot "
        f"{_capped_fmt(h, 'snapshot_one_league_s')} (taken once per league per import)",
        "",
        f"## Landing sensor over {results['sensor']['folders']:,} league folders",
        "",
        f"- steady state (cursor holds every folder, nothing changed): median **{_fmt(results['sensor']['steady_tick_s'], 4)} s** "
        f"({', '.join(f'{x:.4f}' for x in results['sensor']['steady_tick_runs_s'])})",
        f"- first tick (hashes every folder, {results['sensor']['first_tick_run_requests']:,} run requests): "
        f"{_fmt(results['sensor']['first_tick_s'], 3)} s over {_fmt(results['sensor']['landing_bytes'] / 1e6, 1)} MB",
        "",
        "## Reproduce",
        "",
        "```bash",
        ".venv/bin/rally bench --json bench.json                 # full run (1x, 10x, 100x); rewrites BENCHMARKS.md",
        ".venv/bin/rally bench --quick --json bench-quick.json   # stops after 10x (CI); --markdown PATH to write a table",
        "```",
        "",
        "The databases are created on RALLY_DATABASE_URL's server (else the embedded one) with `CREATE DATABASE` and "
        "dropped afterwards. The real data is read from `../shared/data/rally_real` (`--real-data` to change it). "
        f"Synthetic scale N is 3N leagues of ~900 players; N is chosen so the rows are ~1x, ~10x and ~100x those of "
        f"the real import_1 ({_fmt(real_1['rows_total'])} rows; one unit of synthetic scale stages "
        f"{_fmt(results['synthetic_unit_rows'])}).",
        "",
    ]
    return "\n".join(lines)


def default_markdown_path() -> Path:
    """BENCHMARKS.md beside pyproject.toml in a checkout, else in the current folder."""
    return (
        PROJECT_ROOT / "BENCHMARKS.md" if (PROJECT_ROOT / "pyproject.toml").exists() else Path.cwd() / "BENCHMARKS.md"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rally_assets.tooling.bench")
    parser.add_argument("--worker", required=True, help="internal: run one benchmark worker from its JSON spec")
    args = parser.parse_args(argv)
    return _worker_main(args.worker)


if __name__ == "__main__":
    sys.exit(main())
