"""`rally`: what operators do by hand. Errors are one line on stderr and a non-zero exit code."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import warnings
from pathlib import Path

from rally_assets.core import db, policy
from rally_assets.core.errors import RallyError
from rally_assets.core.publish.report import LEGEND
from rally_assets.core.settings import dagster_home, landing_dir, rally_home


def _init_db(args) -> int:
    from rally_assets.core.schema.init import init_db, plan_init
    from rally_assets.core.schema.profile import read_profile

    with db.connection() as conn:
        plan = plan_init(conn) if args.dry_run else init_db(conn)
        triggers = read_profile(conn).triggers
    written = ("leagues", "clubs", "series", "teams", "players", "match_scores", "schedule", "series_stats")
    app_triggers = [f"{t}: {', '.join(names)}" for t, names in triggers.items() if t in written]
    if app_triggers:  # they run on the import's writes too (e.g. updated_at stamps); the import is fine with them
        print("the app's own triggers on tables the import writes: " + "; ".join(app_triggers))
    if plan.empty:
        print("schema ready: nothing to do")
        return 0
    verb = "would" if args.dry_run else "did"
    if plan.creates_app_schema:
        print(f"empty database: {verb} create the app's schema as app_models_2025-11-14.sql defines it")
    if plan.etl_schema:
        print(f"the ETL's own schema (rally_etl): {verb} run {len(plan.etl_schema)} statement(s)")
    if plan.app_extras:
        print(f"additive extras on the app's tables ({verb} add; nullable or index only):")
        for stmt in plan.app_extras:
            print(f"  {stmt}")
    return 0


def _print_outcomes(outcomes) -> int:
    failed = 0
    for o in outcomes:
        if o.success:
            print(f"{o.league}: published ({o.publish.summary()}) run {o.run_id}")
        else:
            failed += 1
            print(f"{o.league}: FAILED {o.error}", file=sys.stderr)
    if any(o.success for o in outcomes):
        print(f"  ({LEGEND})")
    return 1 if failed else 0


def _print_post_import(outcome) -> int:
    for name, (passed, why) in sorted(outcome.checks.items()):
        print(f"check {name}: {'passed' if passed else 'FAILED'} - {why}")
    if not outcome.success:
        print(f"after the import: FAILED {outcome.error}", file=sys.stderr)
        return 1
    return 0


def _import(args) -> int:
    from rally_assets.core.schema.init import require_ready
    from rally_assets.defs.runner import import_leagues, run_post_import

    with db.connection() as conn:
        require_ready(conn)  # one line saying what to run, before any Dagster run starts
    override = {"allow_churn": True} if args.allow_churn else None
    outcomes = import_leagues(Path(args.landing_dir), args.league or None, policy=override)
    code = _print_outcomes(outcomes)
    if any(o.success for o in outcomes):
        code = max(code, _print_post_import(run_post_import(policy=override)))
    return code


def _user(conn, args) -> int | None:
    from rally_assets.core.users.repairs import user_id_for

    return user_id_for(conn, getattr(args, "specific_user", None))


def _health(_args) -> int:
    from rally_assets.core.users.health import (
        availability_user_id_verdict,
        league_context_verdict,
        orphan_references,
        user_data_anomalies,
    )

    with db.connection() as conn:
        contexts = league_context_verdict(conn)
        availability = availability_user_id_verdict(conn)
        orphans = orphan_references(conn)
    h, a = contexts.measures, availability.measures
    print(
        f"league-context health: {h['score']}% ({h['band']}) - {h['valid']} valid, {h['null']} NULL, "
        f"{h['broken']} broken of {h['total']} users with associations"
    )
    print(f"availability rows with a user_id: {a['pct']}% ({a['with_user_id']} of {a['total']})")
    print("orphan references: " + (", ".join(f"{k} {v}" for k, v in orphans.items() if v) or "none"))
    with db.connection() as conn:
        anomalies = user_data_anomalies(conn)
    print("user data as it is (reported, never changed to make room):")
    for kind, found in anomalies.items():
        ids = (
            (": " + ", ".join(found["ids"]) + (" ..." if found["count"] > len(found["ids"]) else ""))
            if found["count"]
            else ""
        )
        reasons = f" ({found['reasons']})" if found.get("reasons") else ""
        print(f"  {kind}: {found['count']}{ids}{reasons}")
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


def _print_links(result: dict, dry_run: bool) -> None:
    """One line per link carried or discovered and per context set (what a dry run would do)."""
    link, put = ("[DRY RUN] would link", "[DRY RUN] would set") if dry_run else ("linked", "set")
    for c in result.get("carried", []):
        print(
            f"{link} user {c['user_id']} to {c['tenniscores_player_id']} ({c['league']}, was {c['old_player_id']}: {c['reason']})"
        )
    for c in result["discovered"]:
        print(
            f"{link} {c['email']} to {c['tenniscores_player_id']} ({c['league']}, confidence {c['confidence']}: {c['reason']})"
        )
    for c in result["contexts"]:
        print(f"{put} {c['email']} league context to {c['new_league']} ({c['reason']})")


def _re_associate(args) -> int:
    from rally_assets.core.users.repairs import re_associate

    with db.connection() as conn:
        uid = _user(conn, args)
        result = re_associate(conn, user_id=uid, dry_run=args.dry_run)
    _print_links(result, args.dry_run)
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
    _print_links(result, args.dry_run)
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


def _demo(args) -> int:
    from rally_assets.core.schema.init import init_db
    from rally_assets.defs.runner import import_leagues, run_post_import
    from rally_assets.tooling.synthetic.landing import generate_landing
    from rally_assets.tooling.synthetic.users import seed_users

    landing = rally_home() / "demo" / f"landing-scale{args.scale}-seed{args.seed}"
    leagues = generate_landing(landing, scale=args.scale, seed=args.seed)
    print(f"demo landing: {len(leagues)} league folders in {landing}")
    with db.connection() as conn:
        init_db(conn)
    code = _print_outcomes(import_leagues(landing))
    with db.connection() as conn:
        seeded = seed_users(conn, n_users=100 * args.scale, seed=args.seed)
    code = max(code, _print_post_import(run_post_import()))
    with db.connection() as conn:
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
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home()), "RALLY_LANDING_DIR": str(landing_dir())}
    cmd = [
        sys.executable,
        "-m",
        "dagster",
        "dev",
        "-m",
        "rally_assets.definitions",
        "-p",
        str(args.port),
        "-h",
        args.host,
    ]
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
    p = sub.add_parser("init-db", help="make the database ready: the app's schema if empty, the ETL's schema, extras")
    p.add_argument("--dry-run", action="store_true", help="write nothing; list what init-db would add")
    p.set_defaults(func=_init_db)
    p = sub.add_parser("import", help="import league folders (one Dagster run per league)")
    p.add_argument("landing_dir", help="folder holding one folder per league")
    p.add_argument("--league", action="append", metavar="CODE", help="import only this league (repeatable)")
    p.add_argument(
        "--allow-churn",
        action="store_true",
        help="operator override: publish even if the churn breaker trips, carrying user links across",
    )
    p.set_defaults(func=_import)
    sub.add_parser(
        "health",
        help=f"league-context health (exit 1 below {policy.CONTEXT_MIN_PCT:g}%%), availability user_id share, orphans",
    ).set_defaults(func=_health)
    for name, func, text in (
        (
            "fix-league-contexts",
            _fix_league_contexts,
            "set NULL / broken / not-a-member league contexts by the one rule",
        ),
        ("re-associate", _re_associate, "relink users whose players disappeared, then discover missing links"),
        ("discover", _discover, "link users with fewer than 2 associations to unambiguous namesakes"),
        ("relink-availability", _relink_availability, "give availability rows without a user_id their user"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("--dry-run", action="store_true", help="write nothing; print exactly what would change")
        p.add_argument("--specific-user", metavar="EMAIL", help="only this user")
        if name == "discover":
            p.add_argument(
                "--limit",
                type=int,
                default=policy.DISCOVERY_LIMIT,
                help=f"users looked at (default {policy.DISCOVERY_LIMIT})",
            )
        p.set_defaults(func=func)
    p = sub.add_parser("demo", help="generate a synthetic landing, import it on the embedded default, add users")
    p.add_argument("--scale", type=int, default=1, help="3 synthetic leagues per unit of scale (default 1)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_demo)
    p = sub.add_parser(
        "bench", help="benchmark the import (real data, 10x and 100x synthetic) against COPY and row-by-row"
    )
    p.add_argument(
        "--quick", action="store_true", help="stop after 10x (CI); writes BENCHMARKS.md only with --markdown"
    )
    p.add_argument("--json", metavar="PATH", help="write every measurement as JSON here")
    p.add_argument("--markdown", metavar="PATH", help="write the table here (default for a full run: BENCHMARKS.md)")
    p.add_argument(
        "--real-data", metavar="DIR", help="folder holding import_1 and import_2 (default ../shared/data/rally_real)"
    )
    p.set_defaults(func=_bench)
    sub.add_parser("stop-db", help="stop the embedded PostgreSQL under RALLY_HOME").set_defaults(func=_stop_db)
    p = sub.add_parser("ui", help="start `dagster dev` with DAGSTER_HOME under RALLY_HOME")
    p.add_argument("--port", type=int, default=3000)
    p.add_argument("--host", default="127.0.0.1")
    p.set_defaults(func=_ui)
    return parser


# Commands that read or repair the app's data: on a database without the app's tables or the ETL's
# schema they say so in one line, and what to run, before doing anything.
NEEDS_A_READY_DATABASE = {"health", "fix-league-contexts", "re-associate", "discover", "relink-availability"}


def _require_ready() -> None:
    from rally_assets.core.schema.init import require_ready

    with db.connection() as conn:
        require_ready(conn)


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore")  # library deprecation chatter is not for operators
    args = build_parser().parse_args(argv)
    try:
        if args.command in NEEDS_A_READY_DATABASE:
            _require_ready()
        return args.func(args)
    except RallyError as exc:
        print(f"rally {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
