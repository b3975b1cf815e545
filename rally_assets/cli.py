"""`rally`: what operators do by hand. Errors are one line on stderr and a non-zero exit code.

Every command finds its database the same way (core/db.py): RALLY_DATABASE_URL, else the embedded
PostgreSQL under RALLY_HOME or the nearest `.rally` folder in the current directory or above it;
only `init-db` and `demo` create a new one.
"""

from __future__ import annotations

import argparse
import atexit
import os
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import psycopg

from rally_assets.commands import printing
from rally_assets.core import db, policy
from rally_assets.core.constants import LEAGUE_PARTITIONS
from rally_assets.core.errors import RallyError
from rally_assets.core.publish.report import TABLE_LEGEND
from rally_assets.core.settings import dagster_home, found_home, landing_dir, rally_home


class OneLineParser(argparse.ArgumentParser):
    """argparse, with a usage error on one line (the command, what is wrong, where the help is)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


# --- the database ------------------------------------------------------------------------------


def _init_db(args) -> int:
    from rally_assets.core.schema.init import init_db, plan_init
    from rally_assets.core.schema.profile import read_profile

    url = db.database_url(create=True)
    with db.connection(url) as conn:
        plan = plan_init(conn) if args.dry_run else init_db(conn)
        triggers = read_profile(conn).triggers
    printing.print_init_plan(plan, triggers, dry_run=args.dry_run)
    print(f"database: {db.redact(url)}")
    print(f"landing folder: {landing_dir(create=True)}")
    if not args.dry_run:
        from rally_assets.defs.runner import prepare_dagster_home

        print(f"Dagster history (what `rally ui` shows): {prepare_dagster_home()}")
    return 0


def _db_url(args) -> int:
    url = db.database_url()
    print(url if args.show_password else db.redact(url))
    return 0


def _psql(args) -> int:
    executable = db.psql_executable()
    if executable is None:
        raise RallyError("psql is not installed: connect any PostgreSQL client to the URL `rally db-url` prints")
    conninfo, extra_env = db.psql_invocation(db.database_url())
    return subprocess.call([executable, conninfo, *args.psql_args], env={**os.environ, **extra_env})


def _stop_db(_args) -> int:
    if db.configured_database_url():
        print("RALLY_DATABASE_URL is set: that server is not ours to stop")
        return 0
    home = found_home()
    if home is None:
        print(f"no embedded PostgreSQL: RALLY_HOME is unset and there is no .rally in {Path.cwd()} or above it")
        return 0
    said = {"stopped": "stopped", "not running": "is not running"}.get(db.stop_embedded_server())
    print(f"embedded PostgreSQL under {home} {said}" if said else f"no embedded PostgreSQL under {home}")
    return 0


# --- imports -----------------------------------------------------------------------------------


def _policy_override(args) -> dict:
    """The operator's overrides of the import policy (ImportPolicy / ImportLimits field -> value)."""
    given = {"allow_churn": args.allow_churn or None, "max_rejected_pct": args.max_rejected_pct}
    return {field: value for field, value in given.items() if value is not None}


def _import(args) -> int:
    if args.dry_run:
        return _dry_run(args)
    _require_ready()  # one line saying what to run, before any Dagster run starts
    from rally_assets.core.parsing.ahead import parse_ahead
    from rally_assets.core.pipeline import league_folders

    # The other cores parse the leagues while this process loads Dagster and imports the first ones.
    landing = Path(args.landing_dir).expanduser().resolve()
    parse_ahead(list(league_folders(landing, args.league or None)[0].values()), landing_root=landing)
    from rally_assets.defs.runner import import_landing

    outcome = import_landing(landing, args.league or None, policy=_policy_override(args) or None)
    code = printing.print_outcomes(outcome.leagues)
    if outcome.post_import is not None:
        code = max(code, printing.print_post_import(outcome.post_import))
    return code


def _dry_run(args) -> int:
    """Parse, stage, judge and publish each league in a transaction rolled back; print what would change."""
    from rally_assets.core.pipeline import league_folders, rehearse_import
    from rally_assets.core.schema.init import require_ready

    landing = Path(args.landing_dir).expanduser().resolve()
    limits = policy.ImportLimits(**_policy_override(args))
    with db.connection() as conn:
        require_ready(conn)  # a dry run writes nothing, the ETL's schema included: it must be there
        found, unusable = league_folders(landing, args.league)
        if not found and not unusable:
            raise RallyError(f"no league folders (with players.json or another landing file) under {landing}")
        for name, why in unusable:
            print(f"{name}: FAILED {why}", file=sys.stderr)
        published = [
            printing.print_rehearsal(code, outcome)
            for code, outcome in rehearse_import(conn, found, landing_root=landing, limits=limits)
        ]
    if any(published):
        print(f"legend: {TABLE_LEGEND}")
    print("dry run: nothing was written (after a real import, the post-import job then checks user-data health)")
    return 0 if all(published) and not unusable else 1


# --- user data: health and repairs -------------------------------------------------------------


def _user(conn, args) -> int | None:
    from rally_assets.core.users.repairs import user_id_for

    return user_id_for(conn, getattr(args, "specific_user", None))


def _user_health(conn, args) -> int:
    from rally_assets.core.users.health import user_health

    h = user_health(conn, _user(conn, args))
    print(
        f"{h['email']}: league context {h['league_context'] or 'NULL'} ({h['verdict']}); "
        f"{h['associations']} association(s); {h['availability']} availability row(s)"
    )
    return 1 if h["fix"] is not None else 0


def _health(args) -> int:
    from rally_assets.core.users.health import (
        availability_user_id_verdict,
        league_context_verdict,
        orphan_references,
        user_data_anomalies,
    )

    with db.connection() as conn:
        if args.specific_user:
            return _user_health(conn, args)
        contexts = league_context_verdict(conn)
        availability = availability_user_id_verdict(conn)
        orphans = orphan_references(conn)
        anomalies = user_data_anomalies(conn)
    h, a = contexts.measures, availability.measures
    print(
        f"league-context health: {h['score']}% ({h['band']}) - {h['valid']} valid, {h['null']} NULL, "
        f"{h['broken']} broken of {h['total']} users with associations"
    )
    print(f"availability rows with a user_id: {a['pct']}% ({a['with_user_id']} of {a['total']})")
    print("orphan references: " + (", ".join(f"{k} {v}" for k, v in orphans.items() if v) or "none"))
    printing.print_anomalies(anomalies)
    return 0 if contexts.passed else 1


def _fix_league_contexts(args) -> int:
    from rally_assets.core.users.contexts import fix_league_contexts, league_context_health

    with db.connection() as conn:
        uid = _user(conn, args)
        before = league_context_health(conn)
        changes = fix_league_contexts(conn, user_id=uid, dry_run=args.dry_run)
        after = league_context_health(conn)
    verb = "would set" if args.dry_run else "set"
    for c in changes:
        print(
            f"{'[DRY RUN] ' if args.dry_run else ''}{c['email']}: {c['reason']} context {c['old_league'] or c['old_context']} "
            f"-> {verb} {c['new_league']} ({'has a team' if c['has_team'] else 'no team'}, {c['matches']} matches)"
        )
    print(
        f"{len(changes)} context(s) {'to fix' if args.dry_run else 'fixed'}; health {before['score']}% -> {after['score']}%"
    )
    return 0


def _re_associate(args) -> int:
    from rally_assets.core.users.repairs import re_associate

    with db.connection() as conn:
        uid = _user(conn, args)
        result = re_associate(conn, user_id=uid, dry_run=args.dry_run)
    printing.print_links(result, args.dry_run)
    for c in result["unmatched"]:
        print(f"not relinked: user {c['user_id']} on {c['old_player_id']}: {c['reason']}")
    print(
        f"{len(result['carried'])} carried, {len(result['discovered'])} discovered, {len(result['contexts'])} contexts, "
        f"{len(result['unmatched'])} unmatched"
    )
    return 0


def _discover(args) -> int:
    from rally_assets.core.users.repairs import discover

    with db.connection() as conn:
        uid = _user(conn, args)
        result = discover(conn, limit=args.limit, user_id=uid, dry_run=args.dry_run)
    printing.print_links(result, args.dry_run)
    print(
        f"{len(result['discovered'])} association(s) {'to create' if args.dry_run else 'created'}, "
        f"{len(result['contexts'])} context(s) {'to set' if args.dry_run else 'set'}"
    )
    return 0


def _relink_availability(args) -> int:
    from rally_assets.core.users.health import relink_availability

    with db.connection() as conn:
        uid = _user(conn, args)
        plan = relink_availability(conn, user_id=uid, dry_run=args.dry_run)
    for r in plan:
        print(
            f"{'[DRY RUN] would set' if args.dry_run else 'set'} availability {r['availability_id']} "
            f"({r['player_name']}, {r['match_date']:%Y-%m-%d}) user_id = {r['user_id']}"
        )
    print(f"{len(plan)} availability row(s) {'to relink' if args.dry_run else 'relinked'}")
    return 0


# --- league partitions -------------------------------------------------------------------------


def _leagues_list(_args) -> int:
    from rally_assets.core.leagues import league_data
    from rally_assets.defs.runner import dagster_instance

    with db.connection() as conn:
        codes = sorted(dagster_instance().get_dynamic_partitions(LEAGUE_PARTITIONS))
        for code in codes:
            data = league_data(conn, code)
            print(f"{code}: " + (f"published ({data.describe()})" if data.published else "no published data"))
    if not codes:
        print(f"no league partitions (Dagster home {dagster_home()})")
    return 0


def _leagues_remove(args) -> int:
    from rally_assets.core.leagues import league_data
    from rally_assets.defs.runner import dagster_instance

    code = args.code.upper()
    with db.connection() as conn:
        data = league_data(conn, code)
    instance = dagster_instance()
    known = sorted(instance.get_dynamic_partitions(LEAGUE_PARTITIONS))
    if code not in known:
        print(f"no league partition {code}: nothing to remove (partitions: {', '.join(known) or 'none'})")
        return 0
    if data.published:
        raise RallyError(
            f"league {code} holds published data ({data.describe()}): its partition stays, it is how the UI "
            "shows that data and its history"
        )
    folder = next((p for p in landing_dir().glob("*") if p.is_dir() and p.name.upper() == code), None)
    if args.dry_run:
        print(f"[DRY RUN] would remove league partition {code} (it holds no published data)")
    else:
        instance.delete_dynamic_partition(LEAGUE_PARTITIONS, code)
        print(f"removed league partition {code} (it held no published data)")
    if folder is not None:
        print(f"its folder {folder} is still in the landing zone: the landing sensor adds it back unless it goes too")
    return 0


# --- demo, bench, ui ---------------------------------------------------------------------------


def _demo(args) -> int:
    from rally_assets.core.schema.init import init_db
    from rally_assets.defs.runner import import_leagues, run_post_import
    from rally_assets.tooling.synthetic.landing import generate_landing
    from rally_assets.tooling.synthetic.users import database_totals, seed_users, synthetic_user_count

    url = db.database_url(create=True)
    landing = rally_home() / "demo" / f"landing-scale{args.scale}-seed{args.seed}"
    leagues = generate_landing(landing, scale=args.scale, seed=args.seed)
    print(f"demo landing: {len(leagues)} league folders in {landing}")
    landing_dir(create=True)
    with db.connection(url) as conn:
        init_db(conn)
    code = printing.print_outcomes(import_leagues(landing))
    with db.connection(url) as conn:
        wanted, existing = 100 * args.scale, synthetic_user_count(conn)
        seeded = (
            seed_users(conn, n_users=max(0, wanted - existing), seed=args.seed)["users"] if wanted > existing else 0
        )
    code = max(code, printing.print_post_import(run_post_import()))
    with db.connection(url) as conn:
        totals = database_totals(conn)
    print(f"synthetic users: {existing + seeded} ({seeded} added, {existing} reused)")
    print("database now holds: " + ", ".join(f"{k} {v}" for k, v in totals.items()))
    print(f"embedded database and Dagster history under {rally_home()}; see them with `rally ui`")
    return code


def _bench(args) -> int:
    from rally_assets.tooling.bench import REAL_DATA, default_markdown_path, run_bench

    markdown = Path(args.markdown) if args.markdown else (None if args.quick else default_markdown_path())
    results = run_bench(
        quick=args.quick,
        json_path=Path(args.json) if args.json else None,
        markdown_path=markdown,
        real_dir=Path(args.real_data) if args.real_data else REAL_DATA,
        command="rally bench" + (" --quick" if args.quick else ""),
    )
    for key, check in results["targets"].items():
        verdict = "not measured" if check["pass"] is None else ("PASS" if check["pass"] else "MISS")
        print(f"{key}: {check['value']} (target {check['target']}) {verdict}")
    if args.json:
        print(f"results written to {args.json}")
    if markdown:
        print(f"table written to {markdown}")
    return 0


def _ui(args) -> int:
    db.database_url()  # the UI's runs need a database: say so now, in one line, if there is none
    env = {
        **os.environ,
        "RALLY_HOME": str(rally_home()),
        "DAGSTER_HOME": str(dagster_home()),
        "RALLY_LANDING_DIR": str(landing_dir(create=True)),
    }
    cmd = [sys.executable, "-m", "dagster", "dev", "-m", "rally_assets.definitions", "-p", str(args.port)]
    print(f"Dagster UI on http://{args.host}:{args.port} (DAGSTER_HOME={env['DAGSTER_HOME']})")
    return subprocess.call([*cmd, "-h", args.host], env=env)


# --- the parser --------------------------------------------------------------------------------


# One line per command: `rally --help` lists it, and it is the description of its own --help.
COMMAND_HELP = {
    "init-db": "make the database ready: on an empty one the app's schema as the app defines it, then the ETL's own schema (rally_etl) and additive extras; on the app's existing database only those (--dry-run lists them); creates the embedded database and the landing folder when there are none; idempotent",
    "db-url": "print the URL of the database in use, password hidden (an embedded server is started if stopped)",
    "psql": "open psql on the database in use (psql on the PATH, else the embedded server's); what follows the command goes to psql, e.g. rally psql -c 'SELECT 1'",
    "stop-db": "stop the embedded PostgreSQL under RALLY_HOME (says so when it is not running)",
    "import": "import league folders (one Dagster run: every league on its own partition, then the post-import) and print what each publish changed, per table; exit 1 if any league fails",
    "health": f"league-context health (exit 1 below {policy.CONTEXT_MIN_PCT:g}%%), availability user_id share, orphan references; writes nothing",
    "fix-league-contexts": "set NULL / broken / not-a-member league contexts by the one rule",
    "re-associate": "relink users whose players disappeared, then discover missing links",
    "discover": "link users with fewer than 2 associations to unambiguous namesakes",
    "relink-availability": "give availability rows without a user_id their user",
    "leagues": "the league partitions of the Dagster instance (one per league folder imported)",
    "list": "list the league partitions and whether each holds published data",
    "remove": "remove a league partition that holds no published data (a mistaken folder name); refused, saying why, when it holds some",
    "demo": "generate a synthetic landing, import it (on the embedded default unless RALLY_DATABASE_URL is set) and add synthetic users; a rerun reuses them",
    "bench": "the benchmark: real import_1/import_2, synthetic 10x and 100x landings, the COPY floors (unlogged, and the live tables with their keys), a real `dagster dev`, 100k-user health checks, a 1,000-folder sensor tick; a full run rewrites BENCHMARKS.md",
    "ui": "start `dagster dev` (UI, sensors, schedule) with DAGSTER_HOME under RALLY_HOME",
}
REPAIRS = {
    "fix-league-contexts": _fix_league_contexts,
    "re-associate": _re_associate,
    "discover": _discover,
    "relink-availability": _relink_availability,
}


def _bounded(kind: type, low: float, high: float | None = None):
    """An argparse type: a number of `kind` from `low` (to `high`), refused in one line otherwise."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid {kind.__name__} value: {text!r}") from None
        if value < low or (high is not None and value > high):
            limits = f"from {low:g} to {high:g}" if high is not None else f"{low:g} or more"
            raise argparse.ArgumentTypeError(f"must be {limits}, not {text}")
        return value

    return parse


_positive_int = _bounded(int, 1)


def _command(sub, name: str, func=None) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=COMMAND_HELP[name], description=COMMAND_HELP[name])
    if func is not None:
        p.set_defaults(func=func)
    return p


def _add_database_commands(sub) -> None:
    p = _command(sub, "init-db", _init_db)
    p.add_argument("--dry-run", action="store_true", help="write nothing; list what init-db would add")
    p = _command(sub, "db-url", _db_url)
    p.add_argument("--show-password", action="store_true", help="print the password too")
    p = _command(sub, "psql", _psql)
    p.add_argument("psql_args", nargs=argparse.REMAINDER, metavar="PSQL_ARGS", help="passed to psql as they are")
    _command(sub, "stop-db", _stop_db)


def _add_import_command(sub) -> None:
    p = _command(sub, "import", _import)
    p.add_argument("landing_dir", metavar="LANDING_DIR", help="folder holding one folder per league")
    p.add_argument("--league", action="append", metavar="CODE", help="import only this league (repeatable)")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="parse, stage, run the blocking checks and rehearse the publish; print what it would change; write nothing",
    )
    p.add_argument(
        "--allow-churn",
        action="store_true",
        help="operator override: publish even if the churn breaker trips, carrying user links across "
        "(launchpad: import_policy allow_churn: true)",
    )
    p.add_argument(
        "--max-rejected-pct",
        type=_bounded(float, 0, 100),
        metavar="PCT",
        help=f"operator override: the share of rejected rows a landing file may have (default "
        f"{policy.MAX_REJECTED_PCT:g}; launchpad: import_policy max_rejected_pct)",
    )


def _add_user_commands(sub) -> None:
    p = _command(sub, "health", _health)
    p.add_argument("--specific-user", metavar="EMAIL", help="only this user: context valid or not, links, availability")
    for name, func in REPAIRS.items():
        p = _command(sub, name, func)
        p.add_argument("--dry-run", action="store_true", help="write nothing; print exactly what would change")
        p.add_argument("--specific-user", metavar="EMAIL", help="only this user (an unknown email exits 2)")
        if name == "discover":
            p.add_argument(
                "--limit",
                type=_positive_int,
                default=policy.DISCOVERY_LIMIT,
                metavar="N",
                help="users looked at (default %(default)s)",
            )


def _add_league_commands(sub) -> None:
    leagues = _command(sub, "leagues").add_subparsers(dest="leagues_command", required=True, metavar="ACTION")
    _command(leagues, "list", _leagues_list)
    p = _command(leagues, "remove", _leagues_remove)
    p.add_argument("code", metavar="CODE", help="the league code (the folder name)")
    p.add_argument("--dry-run", action="store_true", help="say what would be removed; remove nothing")


def _add_tool_commands(sub) -> None:
    p = _command(sub, "demo", _demo)
    p.add_argument(
        "--scale", type=_positive_int, default=1, metavar="N", help="3 leagues and 100 users per unit (default 1)"
    )
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the synthetic data (default 0)")
    p = _command(sub, "bench", _bench)
    p.add_argument(
        "--quick", action="store_true", help="stop after 10x (~5 min); writes BENCHMARKS.md only with --markdown"
    )
    p.add_argument("--json", metavar="PATH", help="write every measurement as JSON here")
    p.add_argument("--markdown", metavar="PATH", help="write the table here (default for a full run: BENCHMARKS.md)")
    p.add_argument(
        "--real-data", metavar="DIR", help="folder holding import_1 and import_2 (default ../shared/data/rally_real)"
    )
    p = _command(sub, "ui", _ui)
    p.add_argument("--port", type=_positive_int, default=3000, help="port of the UI (default 3000)")
    p.add_argument("--host", default="127.0.0.1", help="address the UI listens on (default 127.0.0.1)")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="rally", description="The Rally league ETL (Dagster) and its repairs.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_database_commands(sub)
    _add_import_command(sub)
    _add_user_commands(sub)
    _add_league_commands(sub)
    _add_tool_commands(sub)
    return parser


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """The arguments; everything after `rally psql` goes to psql as it is (options included)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    if argv[:1] == ["psql"] and argv[1:2] not in (["-h"], ["--help"]):
        args = parser.parse_args(["psql"])
        args.psql_args = argv[1:]
        return args
    return parser.parse_args(argv)


def _command_name(args: argparse.Namespace) -> str:
    return " ".join(n for n in ("rally", args.command, getattr(args, "leagues_command", None)) if n)


# Commands that read or repair the app's data: on a database without the app's tables or the ETL's
# schema they say so in one line, and what to run, before doing anything.
NEEDS_A_READY_DATABASE = {"health", "fix-league-contexts", "re-associate", "discover", "relink-availability"}


def _require_ready() -> None:
    from rally_assets.core.schema.init import require_ready

    with db.connection() as conn:
        require_ready(conn)


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore")  # library deprecation chatter is not for operators
    args = _parse(argv)
    try:
        if args.command in NEEDS_A_READY_DATABASE:
            _require_ready()
        return args.func(args)
    except RallyError as exc:
        message, code = str(exc), exc.exit_code
    except psycopg.errors.UndefinedTable as exc:
        message, code = f"the database has no Rally schema ({_first_line(exc)}): run `rally init-db`", 1
    except psycopg.Error as exc:
        message, code = f"database error: {_first_line(exc)}", 1
    except OSError as exc:
        message, code = _first_line(exc), 1
    except KeyboardInterrupt:
        return 130
    print(f"{_command_name(args)}: {message}", file=sys.stderr)
    return code


def run() -> None:
    """The `rally` command: `main`, then an exit without the interpreter's teardown. With Dagster loaded,
    freeing every module and object at exit took ~1 s of a ~4.8 s cold `rally import`. Nothing is
    skipped that matters: threads are joined and the exit handlers run (logging's flush among them) as
    a normal exit does, then the output is flushed; the data is in PostgreSQL, committed."""
    code = main()
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()  # what a normal exit runs (logging.shutdown, multiprocessing's clean-up)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
