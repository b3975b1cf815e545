"""`rally`: what operators do by hand. Errors are one line on stderr and a non-zero exit code."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import warnings
from pathlib import Path

from rally_assets import db
from rally_assets.errors import RallyError
from rally_assets.settings import dagster_home, landing_dir, rally_home


def _init_db(_args) -> int:
    from rally_assets.schema import init_db

    with db.connection() as conn:
        statements = init_db(conn)
    print(f"schema ready: {len(statements)} statement(s) applied" if statements else "schema ready: nothing to do")
    return 0


def _print_outcomes(outcomes) -> int:
    failed = 0
    for o in outcomes:
        if o.success:
            p = o.publish
            print(
                f"{o.league}: published (players +{p.get('players_added', 0)} ~{p.get('players_changed', 0)} "
                f"-{p.get('players_deactivated', 0)} deactivated; teams +{p.get('teams_added', 0)}; "
                f"matches +{p.get('match_scores_inserted', 0)}/-{p.get('match_scores_deleted', 0)}) run {o.run_id}"
            )
        else:
            failed += 1
            print(f"{o.league}: FAILED {o.error}", file=sys.stderr)
    return 1 if failed else 0


def _import(args) -> int:
    from rally_assets.runner import import_leagues
    from rally_assets.schema import init_db

    with db.connection() as conn:
        init_db(conn)  # importing into a database without the schema would fail on the first insert
    return _print_outcomes(import_leagues(Path(args.landing_dir), args.league or None))


def _demo(args) -> int:
    from rally_assets.runner import import_leagues
    from rally_assets.schema import init_db
    from rally_assets.synthetic import generate_landing
    from rally_assets.synthetic_users import seed_users

    landing = rally_home() / "demo" / f"landing-scale{args.scale}-seed{args.seed}"
    leagues = generate_landing(landing, scale=args.scale, seed=args.seed)
    print(f"demo landing: {len(leagues)} league folders in {landing}")
    with db.connection() as conn:
        init_db(conn)
    code = _print_outcomes(import_leagues(landing))
    with db.connection() as conn:
        seeded = seed_users(conn, n_users=100 * args.scale, seed=args.seed)
        totals = dict(
            zip(
                ("leagues", "teams", "players_active", "match_scores", "users", "associations", "availability"),
                conn.execute(
                    """SELECT (SELECT count(*) FROM leagues), (SELECT count(*) FROM teams),
                              (SELECT count(*) FROM players WHERE is_active), (SELECT count(*) FROM match_scores),
                              (SELECT count(*) FROM users), (SELECT count(*) FROM user_player_associations),
                              (SELECT count(*) FROM player_availability)"""
                ).fetchone(),
            )
        )
    print(f"synthetic users added: {seeded}")
    print("database now holds: " + ", ".join(f"{k} {v}" for k, v in totals.items()))
    print(f"embedded database and Dagster history under {rally_home()}; see them with `rally ui`")
    return code


def _ui(args) -> int:
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home()), "RALLY_LANDING_DIR": str(landing_dir())}
    cmd = [sys.executable, "-m", "dagster", "dev", "-m", "rally_assets.definitions", "-p", str(args.port), "-h", args.host]
    print(f"Dagster UI on http://{args.host}:{args.port} (DAGSTER_HOME={env['DAGSTER_HOME']})")
    return subprocess.call(cmd, env=env)


def _stop_db(_args) -> int:
    if db.configured_database_url():
        print("RALLY_DATABASE_URL is set: that server is not ours to stop")
    elif db.stop_embedded_server():
        print(f"embedded PostgreSQL under {rally_home()} stopped")
    else:
        print(f"no embedded PostgreSQL under {rally_home()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rally", description="The Rally league ETL (Dagster) and its repairs.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init-db", help="create the Rally schema, or add what an existing database lacks").set_defaults(func=_init_db)
    p = sub.add_parser("import", help="import league folders (one Dagster run per league)")
    p.add_argument("landing_dir", help="folder holding one folder per league")
    p.add_argument("--league", action="append", metavar="CODE", help="import only this league (repeatable)")
    p.set_defaults(func=_import)
    p = sub.add_parser("demo", help="generate a synthetic landing, import it on the embedded default, add users")
    p.add_argument("--scale", type=int, default=1, help="3 synthetic leagues per unit of scale (default 1)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_demo)
    sub.add_parser("stop-db", help="stop the embedded PostgreSQL under RALLY_HOME").set_defaults(func=_stop_db)
    p = sub.add_parser("ui", help="start `dagster dev` with DAGSTER_HOME under RALLY_HOME")
    p.add_argument("--port", type=int, default=3000)
    p.add_argument("--host", default="127.0.0.1")
    p.set_defaults(func=_ui)
    return parser


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore")  # library deprecation chatter is not for operators
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except RallyError as exc:
        print(f"rally {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
